package dockerfile

import (
	"slices"
)

// maxChain bounds the walk from a stage to its base stages.
const maxChain = 64

// Chain returns the stage and the stages it builds on, root first.
func (s *Stage) Chain() []*Stage {
	var chain []*Stage
	for st := s; st != nil && len(chain) < maxChain; st = st.BaseStage {
		chain = append([]*Stage{st}, chain...)
	}
	return chain
}

// Trailing returns the first instruction of the run of instructions at the
// end of the stage whose command is in cmds, or nil when the stage does not
// end with one.
func (s *Stage) Trailing(cmds ...string) *Instruction {
	var first *Instruction
	for i := len(s.Instructions) - 1; i > 0; i-- {
		if !slices.Contains(cmds, s.Instructions[i].Cmd) {
			break
		}
		first = s.Instructions[i]
	}
	return first
}

// InsertAtEnd returns the insertion of text before the stage's trailing
// instructions whose command is in cmds, or after its last instruction.
func InsertAtEnd(s *Stage, text string, cmds ...string) Edit {
	if at := s.Trailing(cmds...); at != nil {
		return InsertBefore(at, text)
	}
	return InsertAfter(s.Last(), text)
}

// DisplayName returns the stage's name, or "FROM base" for an unnamed stage.
func (s *Stage) DisplayName() string {
	if s.Name != "" {
		return s.Name
	}
	return "FROM " + s.Base
}
