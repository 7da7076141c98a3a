package dockerfile

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// Command is one simple command of a shell script.
type Command struct {
	// Words are the command's words with quotes removed.
	Words []string
	// Src is the command's source text as written.
	Src string
	// Literal is true when every word is free of expansions (no $, globs or
	// command substitution), so the words can be re-quoted safely.
	Literal bool
}

// Name returns the command's first word.
func (c Command) Name() string {
	if len(c.Words) == 0 {
		return ""
	}
	return c.Words[0]
}

// Script is a shell command line that is a plain list of simple commands
// joined by "&&" — the only shape rules rewrite.
type Script struct {
	Commands []Command
}

// shellParsers holds POSIX shell parsers for reuse: a new parser allocates
// buffers that cost more than parsing a typical RUN line, and rules parse
// every RUN of a file several times.
var shellParsers = sync.Pool{New: func() any { return syntax.NewParser(syntax.Variant(syntax.LangPOSIX)) }}

// ParseScript parses a shell-form command. It returns ok=false for anything
// but simple commands chained with "&&" (pipes, ";", "||", subshells,
// redirections, loops, assignments...), which rules must leave alone.
func ParseScript(src string) (*Script, bool) {
	p := shellParsers.Get().(*syntax.Parser)
	file, err := p.Parse(strings.NewReader(src), "")
	shellParsers.Put(p)
	if err != nil || len(file.Stmts) != 1 {
		return nil, false
	}
	s := &Script{}
	if !s.collect(file.Stmts[0], src) {
		return nil, false
	}
	return s, true
}

func (s *Script) collect(st *syntax.Stmt, src string) bool {
	if st.Negated || st.Background || st.Coprocess || len(st.Redirs) > 0 {
		return false
	}
	switch c := st.Cmd.(type) {
	case *syntax.BinaryCmd:
		if c.Op != syntax.AndStmt {
			return false
		}
		return s.collect(c.X, src) && s.collect(c.Y, src)
	case *syntax.CallExpr:
		if len(c.Assigns) > 0 || len(c.Args) == 0 {
			return false
		}
		cmd := Command{Src: src[c.Pos().Offset():c.End().Offset()], Literal: true}
		for _, w := range c.Args {
			lit, ok := literal(w)
			if !ok {
				cmd.Literal = false
				lit = src[w.Pos().Offset():w.End().Offset()]
			}
			cmd.Words = append(cmd.Words, lit)
		}
		s.Commands = append(s.Commands, cmd)
		return true
	}
	return false
}

// literal returns the unquoted value of a word without expansions.
func literal(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if strings.ContainsAny(p.Value, "*?[~\\") {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok || strings.Contains(l.Value, "\\") {
					return "", false
				}
				b.WriteString(l.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// Quote returns a word quoted for a POSIX shell when needed.
func Quote(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\n'\"\\$`*?[]{}()<>|&;#~=!") {
		return w
	}
	if w != "" && !strings.ContainsAny(w, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return w // '=' alone is harmless outside the command position
	}
	return "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
}

// NewCommand builds a command from literal words.
func NewCommand(words ...string) Command {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return Command{Words: words, Src: strings.Join(q, " "), Literal: true}
}

// Render formats the script as the body of a RUN instruction, one command
// per line joined with "&&" and the file's escape character.
func (s *Script) Render(escape rune) string {
	parts := make([]string, len(s.Commands))
	for i, c := range s.Commands {
		parts[i] = c.Src
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, " "+string(escape)+"\n    && ")
}

// RenderRun formats a RUN instruction with flags and a script; keyword is
// "RUN" in the casing the file uses.
func RenderRun(keyword string, flags []string, s *Script, escape rune) string {
	var b bytes.Buffer
	b.WriteString(keyword + " ")
	for _, f := range flags {
		b.WriteString(f)
		b.WriteString(" " + string(escape) + "\n    ")
	}
	b.WriteString(s.Render(escape))
	b.WriteString("\n")
	return b.String()
}

// ShellForm returns the shell command of a shell-form RUN/CMD/ENTRYPOINT
// (ok=false for exec form and heredocs).
func (in *Instruction) ShellForm() (string, bool) {
	if in.JSON || len(in.Heredocs) > 0 || len(in.Args) == 0 {
		return "", false
	}
	return strings.Join(in.Args, " "), true
}

// Script parses the shell-form RUN's command into a fresh Script (callers
// may change it); ok is false for exec form, heredocs and shell the parser
// does not take apart. The command is parsed once per instruction: every
// call returns a copy of that parse.
func (in *Instruction) Script() (*Script, bool) {
	if in.script == nil {
		return in.parseScript()
	}
	m := in.script
	m.once.Do(func() { m.s, m.ok = in.parseScript() })
	if !m.ok {
		return nil, false
	}
	return m.s.clone(), true
}

func (in *Instruction) parseScript() (*Script, bool) {
	src, ok := in.ShellForm()
	if !ok {
		return nil, false
	}
	return ParseScript(src)
}

// scriptMemo holds an instruction's parsed shell command.
type scriptMemo struct {
	once sync.Once
	s    *Script
	ok   bool
}

// clone returns a copy of the script that shares nothing it could change.
func (s *Script) clone() *Script {
	c := &Script{Commands: make([]Command, len(s.Commands))}
	for i, cmd := range s.Commands {
		cmd.Words = slices.Clone(cmd.Words)
		c.Commands[i] = cmd
	}
	return c
}

// Flag returns the values of an instruction flag (e.g. "mount").
func (in *Instruction) Flag(name string) []string {
	var out []string
	for _, f := range in.Flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// HasFlag reports whether the instruction has the flag --name, with a
// value or without one (--link, --parents).
func (in *Instruction) HasFlag(name string) bool {
	for _, f := range in.Flags {
		if f == "--"+name || strings.HasPrefix(f, "--"+name+"=") {
			return true
		}
	}
	return false
}

// Mounts returns the RUN's --mount flags as BuildKit parses them (values
// not expanded); nil for another instruction or a RUN BuildKit rejects.
func (in *Instruction) Mounts() []*instructions.Mount {
	if in.Cmd != "run" || in.Node == nil || len(in.Flag("mount")) == 0 {
		return nil
	}
	c, err := instructions.ParseInstruction(in.Node)
	if err != nil {
		return nil
	}
	run, ok := c.(*instructions.RunCommand)
	if !ok {
		return nil
	}
	// Expanding with the identity parses every field and leaves the
	// values as written.
	if err := run.Expand(func(w string) (string, error) { return w, nil }); err != nil {
		return nil
	}
	return instructions.GetMounts(run)
}

// CacheMountTargets returns the targets of the RUN's cache mounts.
func (in *Instruction) CacheMountTargets() []string {
	var out []string
	for _, m := range in.Mounts() {
		if m.Type == instructions.MountTypeCache && m.Target != "" {
			out = append(out, m.Target)
		}
	}
	return out
}

// RewriteRun renders a replacement for an existing shell-form RUN: the
// keyword keeps its casing as written, and comment lines that sat between
// the instruction's continuation lines (the parser drops them from the
// command) move above it so that no comment is lost.
func (f *File) RewriteRun(in *Instruction, flags []string, s *Script) string {
	var b strings.Builder
	for _, line := range f.Lines[in.Start:in.End] {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			b.WriteString(t + "\n")
		}
	}
	kw := "RUN"
	if fields := strings.Fields(f.Lines[in.Start-1]); len(fields) > 0 {
		kw = fields[0]
	}
	b.WriteString(RenderRun(kw, flags, s, f.Escape))
	return b.String()
}

// ExecForm renders words as the JSON array of an exec-form instruction,
// `["a", "b"]`, with no HTML escaping of <, > and &.
func ExecForm(words []string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	parts := make([]string, len(words))
	for i, w := range words {
		b.Reset()
		_ = enc.Encode(w) // a string always encodes
		parts[i] = strings.TrimSuffix(b.String(), "\n")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
