package migrate

import (
	"reflect"
	"slices"
	"sync/atomic"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/rules"
)

// Speculation holds builds planned while compose-go was still loading the
// project, from a speculative reading of its services
// (compose.Guess.Speculate). Make takes a build's plan from it only when the
// loaded project gives that build exactly the inputs it was planned with:
// the same build, the same facts of every service building it, no other
// project of the repository building it, the same repository evidence,
// rules and options. Anything else is planned again, so a wrong
// speculation costs only the time spent on it.
//
// A Speculation is complete when Speculate returns and is only read after:
// Make's workers may take from it at the same time.
type Speculation struct {
	dir     string
	force   bool
	rules   rules.Options
	enabled []string
	repo    *facts.Repo
	plans   map[string]*speculated // by original Dockerfile
}

type speculated struct {
	build    compose.Build
	services []facts.Service
	plan     *BuildPlan
}

// Speculate plans the builds of p, a speculative project, one after the
// other until stop is closed, as Make would plan them with opts and the
// repository's evidence repo (whose Services must be those of the project
// that will be loaded). It returns what it planned; it plans nothing when
// opts need a real load first (--inspect-images).
func Speculate(p *compose.Project, opts Options, repo *facts.Repo, stop <-chan struct{}) *Speculation {
	if p == nil || opts.InspectImage != nil || opts.Repo != nil {
		return nil
	}
	enabled, err := enabledRules(opts)
	if err != nil {
		return nil
	}
	opts.Rules = opts.Rules.WithDefaults()
	s := &Speculation{dir: p.Dir, force: opts.Force, rules: opts.Rules, repo: repo, plans: map[string]*speculated{}}
	for _, r := range enabled {
		s.enabled = append(s.enabled, r.ID)
	}
	byName := indexServices(p)
	for _, b := range p.Builds {
		select {
		case <-stop:
			return s
		default:
		}
		bp := planBuild(p, byName, b, nil, enabled, opts, repo)
		s.plans[b.Dockerfile] = &speculated{build: *b, services: serviceFacts(byName, b), plan: bp}
		speculations.Add(1)
	}
	return s
}

// usable reports whether the speculation was made for this plan: the same
// project directory, rules, options and evidence.
func (s *Speculation) usable(dir string, enabled []*rules.Rule, opts Options, repo *facts.Repo) bool {
	if s == nil || s.dir != dir || opts.InspectImage != nil || len(enabled) != len(s.enabled) {
		return false
	}
	for i, r := range enabled {
		if r.ID != s.enabled[i] {
			return false
		}
	}
	return s.force == opts.Force && reflect.DeepEqual(s.rules, opts.Rules) && reflect.DeepEqual(s.repo, repo)
}

// take returns the speculative plan of b when b's inputs are the ones it
// was planned with (own: the project's facts of b's services), or nil.
func (s *Speculation) take(b *compose.Build, own []facts.Service, index *RepoIndex, dir string) *BuildPlan {
	sp := s.plans[b.Dockerfile]
	if sp == nil || !reflect.DeepEqual(sp.build, *b) || !reflect.DeepEqual(sp.services, own) {
		return nil
	}
	// The repository's other projects must not build it (their services
	// and directories would be inputs too), nor share its context.
	if !reflect.DeepEqual(index.servicesFor(b, own), own) || !slices.Equal(index.projectsFor(b, dir), []string{dir}) || index.sharedContext(b) != b.SharedContext {
		return nil
	}
	bp := *sp.plan
	bp.Build = b
	taken.Add(1)
	return &bp
}

// speculations and taken count the builds planned speculatively and the
// plans Make took from them, in this process.
var speculations, taken atomic.Int64

// SpeculationCounts returns how many builds this process has planned
// speculatively, and how many of those plans it used.
func SpeculationCounts() (planned, used int64) { return speculations.Load(), taken.Load() }
