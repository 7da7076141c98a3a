package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// InstructionCasing makes instruction keywords consistently upper or lower case.
var InstructionCasing = &Rule{
	ID:    "instruction-casing",
	Title: "Write instruction keywords in one case",
	Doc: "Keywords are case-insensitive to the builder, but a file that mixes `RUN` and `run` " +
		"(or writes `Run`) is harder to scan and fails BuildKit's ConsistentInstructionCasing check. " +
		"The case used by most instructions wins, upper case on a tie, as in BuildKit's own check.",
	Run: runInstructionCasing,
}

// casingMajorityLower tells the casing most keywords use, counted as
// BuildKit does: only self-consistent keywords of the stages, upper case
// on a tie.
func casingMajorityLower(f *dockerfile.File) bool {
	upper, lower := 0, 0
	for _, in := range f.Instructions {
		kw, _, _ := f.WrittenKeyword(in)
		if in.Stage < 0 || kw == "" {
			continue
		}
		switch kw {
		case strings.ToLower(kw):
			lower++
		case strings.ToUpper(kw):
			upper++
		}
	}
	return lower > upper
}

func runInstructionCasing(p *Pass) {
	lower := casingMajorityLower(p.File)
	for _, in := range p.File.Instructions {
		kw, _, _ := p.File.WrittenKeyword(in)
		if kw == "" {
			continue
		}
		if lower {
			if e, ok := p.File.SetKeyword(in, strings.ToLower(kw)); ok {
				p.Edit(e)
			}
		} else {
			if e, ok := p.File.SetKeyword(in, strings.ToUpper(kw)); ok {
				p.Edit(e)
			}
		}
	}
}
