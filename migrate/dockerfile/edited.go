package dockerfile

import (
	"bytes"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Edited returns the file with the edits applied (the source Apply
// returns), parsed. It parses again only the stretches of the source the
// edits touch, each widened to whole instructions: from the end of the
// instruction before the edit to the end of the instruction after it, so
// that comments above an instruction and a continuation or heredoc that
// runs on stay inside the stretch. The other instructions are carried over,
// moved by the lines the edits add or remove. Where that could differ from
// parsing the whole source (an edit among the parser directives or before
// the first instruction, a file with CRLF endings or without a final
// newline, a stretch that does not end where an instruction ends), Edited
// parses the whole source, so the result is always what Parse returns.
// Rules edit a few lines of files that can be thousands of lines long:
// parsing all of it after every edit made the rule passes cost more than
// the rules.
func (f *File) Edited(edits []Edit) (*File, error) {
	out, err := f.Apply(edits)
	if err != nil {
		return nil, err
	}
	if g := f.splice(edits, out); g != nil {
		parses.Add(1)
		return g, nil
	}
	return Parse(out)
}

// mergeGap is the number of untouched lines up to which two regions are
// parsed as one.
const mergeGap = 64

// region is a stretch of old lines [a, b] that is parsed again, and the
// line delta of the edits in it.
type region struct {
	a, b, delta int
}

// splice parses again only the regions of out the edits touch; nil when it
// cannot be sure to match a parse of the whole of out.
func (f *File) splice(edits []Edit, out []byte) *File {
	if f.EOL != "\n" || len(f.Instructions) == 0 || len(f.Src) == 0 || f.Src[len(f.Src)-1] != '\n' {
		return nil
	}
	ins := f.Instructions
	es := append([]Edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Start < es[j].Start })
	var regions []region
	for _, e := range es {
		// prev: the last instruction that ends before the edit; next: the
		// first that starts after it. Neither may overlap the edit.
		p := sort.Search(len(ins), func(i int) bool { return ins[i].End >= e.Start }) - 1
		n := sort.Search(len(ins), func(i int) bool { return ins[i].Start > e.End })
		if p < 0 || p+1 < len(ins) && p+1 < n && (ins[p+1].Start < e.Start || ins[n-1].End > e.End) {
			return nil // before the first instruction, or cuts one
		}
		if e.End < e.Start && p+1 < len(ins) && ins[p+1].Start < e.Start {
			return nil // an insertion inside an instruction
		}
		// An instruction whose last line continues would run on into
		// the text after it (only possible at the end of the file).
		if strings.HasSuffix(strings.TrimRight(f.Lines[ins[p].End-1], " \t\r\n"), string(f.Escape)) {
			return nil
		}
		r := region{a: ins[p].End + 1, b: len(f.Lines)}
		if n < len(ins) {
			r.b = ins[n].End
		}
		r.delta = strings.Count(e.Text, "\n") - (e.End - e.Start + 1)
		// Regions close together are parsed as one: a parse has a fixed
		// cost (BuildKit compiles a regexp for every parse), and a rule
		// that rewrites every ENV would otherwise parse thousands.
		if k := len(regions) - 1; k >= 0 && r.a <= regions[k].b+mergeGap {
			regions[k].b = max(regions[k].b, r.b)
			regions[k].delta += r.delta
			continue
		}
		regions = append(regions, r)
	}
	g := &File{Src: out, EOL: f.EOL, Escape: f.Escape, Syntax: f.Syntax, Lines: splitLines(out)}
	var next []*Instruction
	shift := 0 // lines added before the old line being copied
	i := 0     // next old instruction
	carry := func(until int) {
		for ; i < len(ins) && ins[i].End < until; i++ {
			next = append(next, moved(ins[i], shift))
		}
	}
	for _, r := range regions {
		carry(r.a)
		for i < len(ins) && ins[i].Start <= r.b {
			i++ // replaced by the region's parse
		}
		// The region in the new lines, parsed after a directive that sets
		// the escape character (none for the default: BuildKit compiles a
		// regexp for each escape it sets) and an empty comment that ends
		// the directives (and, like an instruction, resets the comments
		// that attach to the next instruction).
		a, b := r.a+shift, r.b+shift+r.delta
		head := "#\n"
		if f.Escape != '\\' {
			head = "# escape=" + string(f.Escape) + "\n" + head
		}
		prefix := strings.Count(head, "\n")
		var src bytes.Buffer
		src.WriteString(head)
		for _, l := range g.Lines[a-1 : b] {
			src.WriteString(l)
		}
		res, err := parser.Parse(&src)
		if err != nil && b-a+1 > 0 {
			return nil
		}
		if res != nil {
			kids := res.AST.Children
			if b < len(g.Lines) {
				// The stretch must end where its last instruction ends,
				// without a continuation into the next line.
				if len(kids) == 0 || kids[len(kids)-1].EndLine != b-a+1+prefix ||
					strings.HasSuffix(strings.TrimRight(g.Lines[b-1], " \t\r\n"), string(f.Escape)) {
					return nil
				}
			}
			for _, n := range kids {
				n.StartLine += a - 1 - prefix
				n.EndLine += a - 1 - prefix
				next = append(next, newInstruction(n))
			}
		}
		shift += r.delta
	}
	carry(len(f.Lines) + 2)
	if len(next) == 0 {
		return nil
	}
	g.link(next)
	return g
}

// moved returns a copy of the instruction moved down by shift lines.
func moved(in *Instruction, shift int) *Instruction {
	c := *in
	if shift != 0 {
		n := *in.Node
		n.StartLine += shift
		n.EndLine += shift
		c.Node = &n
		c.Start += shift
		c.End += shift
	}
	return &c
}
