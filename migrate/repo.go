package migrate

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// RepoIndex is what every compose project of a repository says about the
// Dockerfiles it builds. A Dockerfile's optimized content depends on the
// Dockerfile, its context and every service of the repository that builds
// it, so that planning any one project writes the same file as planning
// another that builds the same Dockerfile.
type RepoIndex struct {
	// services lists, per original Dockerfile, the services building it, in
	// project order; identical entries are kept once.
	services map[string][]facts.Service
	// dockerfiles lists, per context directory, the Dockerfiles built from it.
	dockerfiles map[string][]string
	// names are the services of every project; dirs their directories.
	names map[string]bool
	dirs  []string
	// projects lists, per original Dockerfile, the directories of the
	// projects whose services build it.
	projects map[string][]string
	// repo is what the repository root's scripts, Makefiles, CI workflows
	// and READMEs run inside the containers (see GatherEvidence).
	repo *facts.Repo
}

// NewRepoIndex indexes the builds of projects, in the order given.
func NewRepoIndex(projects []*compose.Project) *RepoIndex {
	x := &RepoIndex{services: map[string][]facts.Service{}, dockerfiles: map[string][]string{}, names: map[string]bool{}, projects: map[string][]string{}}
	for _, p := range projects {
		x.add(p)
	}
	return x
}

func (x *RepoIndex) add(p *compose.Project) {
	byName := indexServices(p)
	for name := range byName {
		x.names[name] = true
	}
	if !slices.Contains(x.dirs, p.Dir) {
		x.dirs = append(x.dirs, p.Dir)
	}
	for _, b := range p.Builds {
		for _, s := range serviceFacts(byName, b) {
			if !slices.ContainsFunc(x.services[b.Dockerfile], func(t facts.Service) bool { return reflect.DeepEqual(s, t) }) {
				x.services[b.Dockerfile] = append(x.services[b.Dockerfile], s)
			}
		}
		if !slices.Contains(x.projects[b.Dockerfile], p.Dir) {
			x.projects[b.Dockerfile] = append(x.projects[b.Dockerfile], p.Dir)
		}
		if !slices.Contains(x.dockerfiles[b.Context], b.Dockerfile) {
			x.dockerfiles[b.Context] = append(x.dockerfiles[b.Context], b.Dockerfile)
		}
	}
}

// GatherEvidence reads, once for every project of the index, what the
// scripts, Makefiles, CI workflows and READMEs below root (the repository
// root; nothing outside it is read) run inside the services' containers:
// a workflow at the root that runs a sub-project's tests in its container
// is evidence for that sub-project, which reading each project's own
// directory missed. Make uses it instead of reading the project directory.
func (x *RepoIndex) GatherEvidence(root string) {
	x.repo = facts.GatherRepo(root, x.names, x.dirs...)
}

// Dirs returns the directories of the index's projects, in the order
// GatherEvidence passes them to facts.GatherRepo.
func (x *RepoIndex) Dirs() []string { return slices.Clone(x.dirs) }

// UseEvidence is GatherEvidence done ahead: ev must be what
// facts.GatherRepo returned for the repository root and x.Dirs() (the
// services it was gathered with do not matter; the index's are set).
func (x *RepoIndex) UseEvidence(ev *facts.Repo) {
	r := *ev
	r.Services = x.names
	x.repo = &r
}

// projectsFor returns the directories of the projects whose services build
// b, own (the planned project's) included: the evidence of any of them
// decides the one optimized file they share.
func (x *RepoIndex) projectsFor(b *compose.Build, own string) []string {
	if x == nil {
		return []string{own}
	}
	out := slices.Clone(x.projects[b.Dockerfile])
	if !slices.Contains(out, own) {
		out = append(out, own)
	}
	return out
}

// evidence returns what GatherEvidence read (nil when it was not called).
func (x *RepoIndex) evidence() *facts.Repo {
	if x == nil {
		return nil
	}
	return x.repo
}

// servicesFor returns the services of the repository that build b, followed
// by those of own (the planned project's) the index does not know.
func (x *RepoIndex) servicesFor(b *compose.Build, own []facts.Service) []facts.Service {
	if x == nil {
		return own
	}
	out := slices.Clone(x.services[b.Dockerfile])
	for _, s := range own {
		if !slices.ContainsFunc(out, func(t facts.Service) bool { return reflect.DeepEqual(s, t) }) {
			out = append(out, s)
		}
	}
	return out
}

// sharedContext reports whether another Dockerfile of the repository is
// built from b's context.
func (x *RepoIndex) sharedContext(b *compose.Build) bool {
	if b.SharedContext {
		return true
	}
	if x == nil {
		return false
	}
	for _, df := range x.dockerfiles[b.Context] {
		if df != b.Dockerfile {
			return true
		}
	}
	return false
}

// Part is one compose project of a recursive plan.
type Part struct {
	// Label names the project (see compose.Found).
	Label string
	// Plan is the project's plan; nil when it did not load or plan.
	Plan *Plan
	// Err is why the project has no plan.
	Err error
}

// Merge combines the plans of the compose projects below root into one:
// one change set, services named "<label>:<service>" (the label alone is
// left out for the project at the root), project-relative paths relative to
// root. A project that did not load is a skip that needs a human. When a
// project's change set disagrees with another's about a file, its builds
// are not migrated and the first project's change stands.
func Merge(root string, parts []Part) *Plan {
	merged := &compose.Project{Name: filepath.Base(root), Dir: root}
	plan := &Plan{Project: merged, Parts: parts}
	owner := map[string]string{} // file path → label of the project whose change holds it
	for _, part := range parts {
		name := func(s string) string {
			if part.Label == "." {
				return s
			}
			return part.Label + ":" + s
		}
		if part.Plan == nil {
			msg := "the compose project was not planned"
			if part.Err != nil {
				msg = part.Err.Error()
			}
			// Named like the project's services, so reports group it with them.
			merged.Skipped = append(merged.Skipped, compose.Skip{Service: name("(project)"), Reason: msg, NeedsHuman: true})
			continue
		}
		p := part.Plan
		merged.Files = append(merged.Files, p.Project.Files...)
		for _, w := range p.Warnings {
			plan.Warnings = append(plan.Warnings, part.Label+": "+w)
		}
		for _, s := range p.Project.Services {
			c := *s
			c.Name = name(s.Name)
			merged.Services = append(merged.Services, &c)
		}
		for _, s := range p.Project.Skipped {
			s.Service = name(s.Service)
			merged.Skipped = append(merged.Skipped, s)
		}
		// A file another project changes differently is a conflict.
		conflict := ""
		for _, f := range p.Changes.Files {
			for _, g := range plan.Changes.Files {
				if filepath.Clean(g.Path) == filepath.Clean(f.Path) && !bytes.Equal(g.New, f.New) {
					conflict = fmt.Sprintf("%s is also changed, differently, by project %s", safefs.Rel(root, f.Path), owner[filepath.Clean(g.Path)])
				}
			}
		}
		for _, bp := range p.Builds {
			c := *bp
			b := *bp.Build
			b.Services = nil
			for _, s := range bp.Build.Services {
				b.Services = append(b.Services, name(s))
			}
			c.Build = &b
			if conflict != "" && (c.Status == StatusMigrate || c.Status == StatusUpToDate) {
				c.Status, c.Reason = StatusFailed, "not migrated with the others: "+conflict+"; plan this project on its own"
			}
			plan.Builds = append(plan.Builds, &c)
		}
		if conflict != "" {
			continue
		}
		for _, f := range p.Changes.Files {
			key := filepath.Clean(f.Path)
			if _, dup := owner[key]; dup {
				continue // the same change, already in the set
			}
			owner[key] = part.Label
			// Add cannot fail: the path is new to the set.
			_ = plan.Changes.Add(f)
		}
	}
	return plan
}
