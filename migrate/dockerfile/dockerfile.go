// Package dockerfile is a Dockerfile model over BuildKit's parser that keeps
// the original text: every instruction knows its line range, untouched lines
// render byte-for-byte, and changes are expressed as line-range edits.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// File is a parsed Dockerfile.
type File struct {
	Src []byte
	// Lines are the source lines including their line endings.
	Lines []string
	// EOL is the file's line ending ("\n" or "\r\n").
	EOL string
	// Escape is the escape character (from `# escape=`), '\\' by default.
	Escape rune
	// Syntax is the value of a `# syntax=` directive, if any.
	Syntax       string
	Instructions []*Instruction
	Stages       []*Stage

	upper bool // see UpperCase; set by Parse
}

// Instruction is one Dockerfile instruction with its source range.
type Instruction struct {
	// Cmd is the lower-cased instruction keyword ("from", "run", ...).
	Cmd string
	// Start and End are the 1-based inclusive source lines, covering
	// continuation lines and heredoc bodies (not preceding comments).
	Start, End int
	Node       *parser.Node
	// Flags are the instruction flags as written (e.g. "--from=builder").
	Flags []string
	// Args are the parsed arguments (node.Next values).
	Args []string
	// JSON is true for exec-form (JSON array) arguments.
	JSON bool
	// Heredocs are the heredocs attached to the instruction.
	Heredocs []parser.Heredoc
	// Stage is the index of the stage the instruction belongs to (-1 before the first FROM).
	Stage int

	// script is the parse of the shell form, shared by the copies Edited
	// makes of an instruction it does not parse again.
	script *scriptMemo
}

// Stage is one build stage.
type Stage struct {
	Index int
	// Name is the lower-cased AS name ("" when unnamed).
	Name string
	// Base is the FROM argument as written (image reference, stage name, or ARG expression).
	Base string
	// BaseStage is the earlier stage this one builds on, or nil for an image.
	BaseStage *Stage
	// Platform is the --platform flag value, if any.
	Platform string
	From     *Instruction
	// Instructions are the stage's instructions, FROM first.
	Instructions []*Instruction
}

// SyntaxError is a parse error at a known line.
type SyntaxError struct {
	Line int // 1-based
	Err  error
}

func (e *SyntaxError) Error() string { return e.Err.Error() }
func (e *SyntaxError) Unwrap() error { return e.Err }

// parses counts the calls of Parse (see Parses).
var parses atomic.Int64

// Parses returns how many Dockerfiles this process has parsed. A counter
// for tests that check the planner's design (a parse per rule that changed
// the text, not per rule), not a timing.
func Parses() int64 { return parses.Load() }

// Parse parses a Dockerfile.
func Parse(src []byte) (*File, error) {
	parses.Add(1)
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		var le *parser.LocationError
		if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
			return nil, &SyntaxError{Line: le.Locations[0][0].Start.Line, Err: err}
		}
		return nil, err
	}
	f := &File{Src: src, EOL: "\n", Escape: '\\'}
	if bytes.Contains(src, []byte("\r\n")) {
		f.EOL = "\r\n"
	}
	f.Lines = splitLines(src)
	if res.EscapeToken != 0 {
		f.Escape = res.EscapeToken
	}
	if syn, _, _, ok := DetectSyntax(src); ok {
		f.Syntax = syn
	}
	ins := make([]*Instruction, 0, len(res.AST.Children))
	for _, n := range res.AST.Children {
		ins = append(ins, newInstruction(n))
	}
	f.link(ins)
	return f, nil
}

// newInstruction is the Instruction of one node of BuildKit's AST.
func newInstruction(n *parser.Node) *Instruction {
	in := &Instruction{
		Cmd:      strings.ToLower(n.Value),
		Start:    n.StartLine,
		End:      n.EndLine,
		Node:     n,
		Flags:    n.Flags,
		JSON:     n.Attributes["json"],
		Heredocs: n.Heredocs,
		script:   &scriptMemo{},
	}
	for a := n.Next; a != nil; a = a.Next {
		in.Args = append(in.Args, a.Value)
	}
	return in
}

// link sets the file's instructions and derives its stages.
func (f *File) link(ins []*Instruction) {
	f.Instructions, f.Stages = ins, nil
	stageIdx := -1
	byName := map[string]*Stage{}
	for _, in := range ins {
		if in.Cmd == "from" {
			stageIdx++
			st := &Stage{Index: stageIdx, From: in}
			if len(in.Args) > 0 {
				st.Base = in.Args[0]
			}
			if len(in.Args) == 3 && strings.EqualFold(in.Args[1], "as") {
				st.Name = strings.ToLower(in.Args[2])
			}
			for _, fl := range in.Flags {
				if v, ok := strings.CutPrefix(fl, "--platform="); ok {
					st.Platform = v
				}
			}
			if b, ok := byName[strings.ToLower(st.Base)]; ok {
				st.BaseStage = b
			}
			if st.Name != "" {
				byName[st.Name] = st
			}
			f.Stages = append(f.Stages, st)
		}
		in.Stage = stageIdx
		if stageIdx >= 0 {
			st := f.Stages[stageIdx]
			st.Instructions = append(st.Instructions, in)
		}
	}
	f.upper = f.countCase()
}

func splitLines(src []byte) []string {
	var lines []string
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			lines = append(lines, string(src))
			break
		}
		lines = append(lines, string(src[:i+1]))
		src = src[i+1:]
	}
	return lines
}

// Text returns the instruction's source text exactly as written.
func (f *File) Text(in *Instruction) string {
	return strings.Join(f.Lines[in.Start-1:in.End], "")
}

// Stage returns the stage with the given name (case-insensitive) or nil.
func (f *File) Stage(name string) *Stage {
	for _, s := range f.Stages {
		if s.Name != "" && s.Name == strings.ToLower(name) {
			return s
		}
	}
	return nil
}

// Target returns the stage compose builds for target ("" = last stage).
func (f *File) Target(target string) *Stage {
	if target == "" {
		if len(f.Stages) == 0 {
			return nil
		}
		return f.Stages[len(f.Stages)-1]
	}
	return f.Stage(target)
}

// Find returns the stage's instructions with the given command.
func (s *Stage) Find(cmd string) []*Instruction {
	var out []*Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// Last returns the stage's last instruction.
func (s *Stage) Last() *Instruction { return s.Instructions[len(s.Instructions)-1] }

// Edit replaces source lines [Start, End] (1-based, inclusive) with Text.
// An insertion before line L is {Start: L, End: L-1}; appending at the end
// of the file is {Start: len(Lines)+1, End: len(Lines)}. Text is written
// with "\n" line endings and converted to the file's EOL; a non-empty Text
// must end with a newline.
type Edit struct {
	Start, End int
	Text       string
}

// Replace is an edit that replaces an instruction.
func Replace(in *Instruction, text string) Edit {
	return Edit{Start: in.Start, End: in.End, Text: text}
}

// InsertBefore is an edit that inserts text before an instruction.
func InsertBefore(in *Instruction, text string) Edit {
	return Edit{Start: in.Start, End: in.Start - 1, Text: text}
}

// InsertAfter is an edit that inserts text after an instruction.
func InsertAfter(in *Instruction, text string) Edit {
	return Edit{Start: in.End + 1, End: in.End, Text: text}
}

// Apply returns the source with the edits applied. Edits must not overlap;
// several insertions at the same point keep their order.
func (f *File) Apply(edits []Edit) ([]byte, error) {
	es := append([]Edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Start < es[j].Start })
	var b strings.Builder
	next := 1 // next source line to copy
	for _, e := range es {
		if e.Start < next || e.End < e.Start-1 || e.End > len(f.Lines) {
			return nil, fmt.Errorf("dockerfile edit of lines %d-%d overlaps another edit or is out of range", e.Start, e.End)
		}
		for ; next < e.Start; next++ {
			b.WriteString(f.Lines[next-1])
		}
		if e.Text != "" && !strings.HasSuffix(e.Text, "\n") {
			return nil, fmt.Errorf("dockerfile edit of lines %d-%d: text must end with a newline", e.Start, e.End)
		}
		// A file whose last line has no newline gains one before inserted text.
		if e.Text != "" && b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString(f.EOL)
		}
		text := e.Text
		if f.EOL != "\n" {
			text = strings.ReplaceAll(text, "\n", f.EOL)
		}
		b.WriteString(text)
		next = e.End + 1
	}
	for ; next <= len(f.Lines); next++ {
		b.WriteString(f.Lines[next-1])
	}
	return []byte(b.String()), nil
}
