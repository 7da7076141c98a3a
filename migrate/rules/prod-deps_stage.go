package rules

import (
	"path"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// prodDepsStage holds what prod-deps asks of a stage at each install,
// computed on first use and once per stage: asked afresh at every install,
// the later RUNs, the COPYs before and the chain's Poetry pin made a stage
// with an install on every few lines take quadratic time.
type prodDepsStage struct {
	runs []*dockerfile.Instruction
	// devFrom[i] is the index of the first of runs[i:] that uses a
	// development dependency, len(runs) when none (nil until asked).
	devFrom []int
	// removes is the index of the last RUN that removes node_modules
	// (-1 when none); assets are NodeAssetsOnly's answers: [0] with that
	// RUN later, [1] without it.
	removes    int
	assets     [2]*string
	devTail    *prodDepsLine
	poetry     *[3]int // major, minor, known (1 or 0)
	firstCopy  map[string][2]int
	assetsDone bool
}

// prodDepsLine is an answer of needsDevLater.
type prodDepsLine struct {
	line int
	what string
}

// laterDev returns the index of the first RUN after the one being fixed
// that uses a development dependency, or len(runs).
func (r *prodDepsRun) laterDev() int {
	s := r.s
	if s.devFrom == nil {
		s.devFrom = make([]int, len(s.runs)+1)
		s.devFrom[len(s.runs)] = len(s.runs)
		for i := len(s.runs) - 1; i >= 0; i-- {
			s.devFrom[i] = s.devFrom[i+1]
			if prodDepsTextNeedsDev(r.p.Facts.Node, strings.Join(s.runs[i].Args, " "), false) {
				s.devFrom[i] = i
			}
		}
	}
	return s.devFrom[r.i+1]
}

// assetsOnly is StageFacts.NodeAssetsOnly for the RUN being fixed and the RUNs after it.
func (r *prodDepsRun) assetsOnly() string {
	s := r.s
	if !s.assetsDone {
		s.assetsDone = true
		s.removes = -1
		for i, in := range s.runs {
			t := strings.Join(in.Args, " ")
			if strings.Contains(t, "rm ") && strings.Contains(t, "node_modules") {
				s.removes = i
			}
		}
	}
	k := 1
	var later []*dockerfile.Instruction
	if s.removes > r.i {
		k, later = 0, s.runs[s.removes:s.removes+1]
	}
	if s.assets[k] == nil {
		why := r.p.Stage(r.st).NodeAssetsOnly(later)
		s.assets[k] = &why
	}
	return *s.assets[k]
}

// copied reports whether a context file reaches the image before the RUN:
// a COPY/ADD from the context names it, a glob matching it, or the whole
// context, and .dockerignore does not exclude it.
func (r *prodDepsRun) copied(name string) bool {
	if !r.p.Facts.Has(name) || facts.Ignored(r.p.Facts, name) {
		return false
	}
	// The first COPY and the first ADD of the chain that bring the file,
	// found once per stage and name, are before the RUN or not.
	sf := r.p.Stage(r.st)
	first, ok := r.s.firstCopy[name]
	if !ok {
		for k, cmd := range []string{"copy", "add"} {
			all := sf.Instructions(cmd, nil)
			first[k] = slices.IndexFunc(all, func(in *dockerfile.Instruction) bool { return prodDepsBrings(in, name) })
		}
		if r.s.firstCopy == nil {
			r.s.firstCopy = map[string][2]int{}
		}
		r.s.firstCopy[name] = first
	}
	for k, cmd := range []string{"copy", "add"} {
		if first[k] >= 0 && first[k] < len(sf.Instructions(cmd, r.in)) {
			return true
		}
	}
	return false
}

// prodDepsBrings reports whether a COPY/ADD from the context names the
// file, a glob matching it, or the whole context.
func prodDepsBrings(in *dockerfile.Instruction, name string) bool {
	if len(in.Args) < 2 || len(in.Flag("from")) > 0 {
		return false
	}
	for _, src := range in.Args[:len(in.Args)-1] {
		src = strings.TrimPrefix(src, "./")
		if src == "" || src == "." || src == "*" {
			return true
		}
		if ok, _ := path.Match(src, name); ok {
			return true
		}
	}
	return false
}

// poetryVersion is the stage's PoetryVersion, asked once per stage.
func (r *prodDepsRun) poetryVersion() (int, int, bool) {
	if r.s.poetry == nil {
		maj, mi, known := r.p.Stage(r.st).PoetryVersion()
		v := [3]int{maj, mi, 0}
		if known {
			v[2] = 1
		}
		r.s.poetry = &v
	}
	return r.s.poetry[0], r.s.poetry[1], r.s.poetry[2] == 1
}
