package facts

import (
	"sync"
	"sync/atomic"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// Contexts gathers the facts of each build context once, for every build
// that uses it, and can start before the builds are known: while compose-go
// loads a project (one core's work for a second on 1,000 services), Prefetch
// gathers the contexts the compose files name on the other core, and the
// planner's Gather then finds them done. The facts gathered for a directory
// are the same whoever asks first, so a guess that is wrong costs only the
// work: a context nobody prefetched is gathered by the first build that
// needs it, and one the guess got wrong is never used.
//
// A nil *Contexts gathers every call anew (Gather).
type Contexts struct {
	closed atomic.Bool
	mu     sync.Mutex
	m      map[string]*contextEntry
	// dfs are the Dockerfiles PrefetchDockerfiles read and parsed without
	// error, until the planner takes them.
	dfs map[string]*dockerfile.File
	// prefetched counts the contexts Prefetch gathered (for tests).
	prefetched atomic.Int64
}

// contextEntry is one directory's facts: whoever claims it gathers them and
// closes done; everyone else waits on done.
type contextEntry struct {
	claimed atomic.Bool
	done    chan struct{}
	b       *Build // Services nil; copied for each build
	err     error
}

// NewContexts returns an empty cache. Close stops its prefetching.
func NewContexts() *Contexts {
	return &Contexts{m: map[string]*contextEntry{}, dfs: map[string]*dockerfile.File{}}
}

func (cs *Contexts) entry(dir string) *contextEntry {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	e := cs.m[dir]
	if e == nil {
		e = &contextEntry{done: make(chan struct{})}
		cs.m[dir] = e
	}
	return e
}

// gather claims e for dir and gathers it, or reports false when someone
// else already has. A prefetch (warm) also walks the context for
// NotReadableByOthers, which non-root-user asks of most builds that copy
// files as root (a tenth of the rule time of a 1,000-service plan): on the
// idle core, the builds then find it done.
func (e *contextEntry) gather(dir string, warm bool) bool {
	if !e.claimed.CompareAndSwap(false, true) {
		return false
	}
	e.b, e.err = Gather(dir, nil)
	if warm && e.err == nil {
		e.b.NotReadableByOthers()
	}
	close(e.done)
	return true
}

// Prefetch gathers the facts of dirs, one after the other, on the calling
// goroutine, skipping those another caller has claimed; it returns early
// (before the next directory) once the cache is closed. dirs must already
// be confined to the project (compose checks a build context before it
// names it).
func (cs *Contexts) Prefetch(dirs []string) {
	if cs == nil {
		return
	}
	for _, d := range dirs {
		if cs.closed.Load() {
			return
		}
		if cs.entry(d).gather(d, true) {
			cs.prefetched.Add(1)
		}
	}
}

// Gather returns the facts of the build context dir for services, gathering
// them unless a Prefetch or an earlier build did (then it waits for that).
// Each build gets its own Build (its caches are its own); what it shares
// with the other builds of the context is read-only.
func (cs *Contexts) Gather(dir string, services []Service) (*Build, error) {
	if cs == nil {
		return Gather(dir, services)
	}
	e := cs.entry(dir)
	if !e.gather(dir, false) {
		<-e.done
	}
	if e.err != nil {
		return nil, e.err
	}
	// The context's facts, and NotReadableByOthers' answer if a prefetch
	// found it (never modified once set); the read cache is the build's own.
	b := *e.b
	b.Services = services
	b.read, b.root = nil, nil
	return &b, nil
}

// Close stops prefetching: a Prefetch under way returns before its next
// directory.
func (cs *Contexts) Close() {
	if cs == nil {
		return
	}
	cs.closed.Store(true)
}

// Prefetched returns how many contexts Prefetch gathered.
func (cs *Contexts) Prefetched() int64 {
	if cs == nil {
		return 0
	}
	return cs.prefetched.Load()
}

// PrefetchDockerfiles reads and parses the Dockerfiles at paths (absolute,
// already confined to the project: compose checks a Dockerfile before it
// names it), one after the other on the calling goroutine, as the planner
// reads a build's Dockerfile (a regular file of bounded size, opened
// without blocking); it returns early once the cache is closed. One that
// cannot be read or parsed is left to the planner, which reports its
// error as it always has.
func (cs *Contexts) PrefetchDockerfiles(paths []string) {
	if cs == nil {
		return
	}
	for _, p := range paths {
		if cs.closed.Load() {
			return
		}
		src, err := safefs.ReadRegular(safefs.Dockerfile, p)
		if err != nil {
			continue
		}
		f, err := dockerfile.Parse(src)
		if err != nil {
			continue
		}
		cs.mu.Lock()
		cs.dfs[p] = f
		cs.mu.Unlock()
	}
}

// Dockerfile returns the parse of the Dockerfile at path if a prefetch
// made it; otherwise the caller reads it itself. A File is never modified.
// The cache lets go of it: the next caller for the same path (a Dockerfile
// built from a second context) reads it itself, and the parse is not kept
// alive for the rest of the plan.
func (cs *Contexts) Dockerfile(path string) (*dockerfile.File, bool) {
	if cs == nil {
		return nil, false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	f, ok := cs.dfs[path]
	delete(cs.dfs, path)
	return f, ok
}
