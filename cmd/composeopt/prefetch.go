package main

import (
	"context"
	"slices"
	"sync"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/facts"
)

// prefetch is the work a plan starts while compose-go loads its project,
// on the core the load leaves idle (see compose.Options.Started): finding
// the repository's other compose projects, then gathering the facts of the
// Dockerfiles and build contexts the compose files name. The plan then
// takes what it finds done.
type prefetch struct {
	contexts *facts.Contexts
	launched bool          // Started was called: done will be closed
	found    chan struct{} // closed once root, projects and err are set
	done     chan struct{} // closed once the goroutine has returned
	root     string
	projects []compose.Found
	err      error
	// evidence is the repository's evidence (facts.GatherRepo) for the
	// project directories Discover found, gathered once by whichever of
	// the prefetch and the plan gets to it first.
	evidence struct {
		once sync.Once
		dirs []string
		repo *facts.Repo
	}
	// options, when set, are the plan's options for a project directory:
	// with them the prefetch, its other work done, plans the builds it can
	// read from the compose files (compose.Guess.Speculate) until stop.
	options  func(dir string) (migrate.Options, error)
	stop     chan struct{}
	stopOnce sync.Once
	spec     *migrate.Speculation
}

func newPrefetch() *prefetch {
	return &prefetch{contexts: facts.NewContexts(), found: make(chan struct{}), done: make(chan struct{}), stop: make(chan struct{})}
}

// started is the compose.Options.Started hook.
func (pf *prefetch) started(dir string, guess func() compose.Guess) {
	pf.launched = true
	go func() {
		defer close(pf.done)
		pf.root = repoRoot(dir)
		if pf.root == "" {
			pf.root = dir
		}
		pf.projects, _, pf.err = compose.Discover(pf.root)
		close(pf.found)
		if pf.err == nil {
			pf.evidence.once.Do(func() {
				for _, f := range pf.projects {
					if !slices.Contains(pf.evidence.dirs, f.Dir) {
						pf.evidence.dirs = append(pf.evidence.dirs, f.Dir)
					}
				}
				pf.evidence.repo = facts.GatherRepo(pf.root, nil, pf.evidence.dirs...)
			})
		}
		g := guess()
		pf.contexts.PrefetchDockerfiles(g.Dockerfiles)
		pf.contexts.Prefetch(g.Contexts)
		pf.speculate(g)
	}()
}

// discovered returns what compose.Discover found below root during the
// load, or false when it did not run for that root.
func (pf *prefetch) discovered(root string) ([]compose.Found, error, bool) {
	if pf == nil || !pf.launched {
		return nil, nil, false
	}
	<-pf.found
	if pf.root != root {
		return nil, nil, false
	}
	return pf.projects, pf.err, true
}

// speculate plans, until stop, the builds g reads from the compose files,
// with the evidence gathered above (its services those the files define).
func (pf *prefetch) speculate(g compose.Guess) {
	if pf.options == nil || g.Speculate == nil || pf.evidence.repo == nil || pf.stopped() {
		return
	}
	p, names := g.Speculate()
	if p == nil || len(p.Builds) == 0 || pf.stopped() {
		return
	}
	opts, err := pf.options(p.Dir)
	if err != nil {
		return
	}
	opts.Contexts = pf.contexts
	ev := *pf.evidence.repo
	ev.Services = map[string]bool{}
	for _, n := range names {
		ev.Services[n] = true
	}
	pf.spec = migrate.Speculate(p, opts, &ev, pf.stop)
}

func (pf *prefetch) stopped() bool {
	select {
	case <-pf.stop:
		return true
	default:
		return false
	}
}

// finish stops the prefetching, waits for it, and returns the builds it
// planned speculatively.
func (pf *prefetch) finish() *migrate.Speculation {
	if pf == nil {
		return nil
	}
	pf.close()
	return pf.spec
}

// gathered returns the evidence the prefetch gathered below root for the
// project directories dirs, or nil when it gathered none or for other
// directories (a project Discover found did not load, or the planned one
// is not among them). It waits for a gathering under way, and stops one
// from starting.
func (pf *prefetch) gathered(root string, dirs []string) *facts.Repo {
	if pf == nil || !pf.launched {
		return nil
	}
	<-pf.found
	pf.evidence.once.Do(func() {})
	if pf.root != root || pf.evidence.repo == nil || !slices.Equal(pf.evidence.dirs, dirs) {
		return nil
	}
	return pf.evidence.repo
}

// close stops the prefetching and waits for its goroutine.
func (pf *prefetch) close() {
	if pf == nil {
		return
	}
	pf.stopOnce.Do(func() { close(pf.stop) })
	pf.contexts.Close()
	if pf.launched {
		<-pf.done
	}
}

// loadPrefetching is load with a prefetch running during it; the caller
// closes the prefetch once it has planned.
func (g *globals) loadPrefetching(ctx context.Context, services []string, options func(string) (migrate.Options, error)) (*compose.Project, *prefetch, error) {
	pf := newPrefetch()
	pf.options = options
	p, err := g.loadWith(ctx, services, pf.started)
	if err != nil {
		pf.close()
		return nil, nil, err
	}
	return p, pf, nil
}
