package dockerfile

import "strings"

// Keyword returns an instruction keyword ("run", "USER"...) in the casing
// most of the file's instructions use, so that added lines match.
func (f *File) Keyword(cmd string) string {
	if f.UpperCase() {
		return strings.ToUpper(cmd)
	}
	return strings.ToLower(cmd)
}

// UpperCase reports whether most instructions are written in upper case
// (upper case on a tie). Parse counts once: rules ask for every line they
// add, and counting each time made long files quadratic.
func (f *File) UpperCase() bool { return f.upper }

func (f *File) countCase() bool {
	upper, lower := 0, 0
	for _, in := range f.Instructions {
		if in.Node.Value == "" {
			continue
		}
		kw := strings.Fields(strings.TrimSpace(f.Lines[in.Start-1]))
		if len(kw) == 0 {
			continue
		}
		if kw[0] == strings.ToUpper(kw[0]) {
			upper++
		} else {
			lower++
		}
	}
	return upper >= lower
}

// WrittenKeyword returns the keyword written at the start of the
// instruction's first line, its offset, and the line without its ending;
// kw is "" when the line does not start with the instruction's keyword.
func (f *File) WrittenKeyword(in *Instruction) (kw string, at int, line string) {
	line = strings.TrimRight(f.Lines[in.Start-1], "\r\n")
	at = len(line) - len(strings.TrimLeft(line, " \t"))
	end := at
	for end < len(line) && (line[end] >= 'a' && line[end] <= 'z' || line[end] >= 'A' && line[end] <= 'Z') {
		end++
	}
	kw = line[at:end]
	if !strings.EqualFold(kw, in.Cmd) {
		return "", 0, line
	}
	return kw, at, line
}

// SetKeyword returns the edit that writes the instruction's keyword as kw;
// ok is false when the keyword already reads kw or cannot be found.
func (f *File) SetKeyword(in *Instruction, kw string) (e Edit, ok bool) {
	old, at, line := f.WrittenKeyword(in)
	if old == "" || old == kw {
		return Edit{}, false
	}
	return Edit{Start: in.Start, End: in.Start, Text: line[:at] + kw + line[at+len(old):] + "\n"}, true
}

// CasedLike returns word in the case of model (upper, lower, or the file's
// majority when model mixes cases).
func (f *File) CasedLike(model, word string) string {
	switch model {
	case strings.ToUpper(model):
		return strings.ToUpper(word)
	case strings.ToLower(model):
		return strings.ToLower(word)
	}
	return f.Keyword(word)
}
