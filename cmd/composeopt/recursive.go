package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate"
)

// progressMin is the number of projects from which -r shows a progress
// line on a terminal.
const progressMin = 8

// recursiveRoot is the directory -r searches: --project-directory or the
// working directory, absolute and without symlinks.
func recursiveRoot(g *globals) (string, error) {
	root := g.projectDir
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		root = wd
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	return root, nil
}

// makeRepoPlan plans every compose project below the directory as one
// change set (-r).
func makeRepoPlan(cmd *cobra.Command, g *globals, rf *ruleFlags, services []string) (*migrate.Plan, error) {
	switch {
	case len(g.files) > 0:
		return nil, errors.New("-r/--recursive finds the compose files itself: it cannot be used with -f/--file")
	case len(g.envFiles) > 0:
		return nil, errors.New("-r/--recursive loads each project with its own .env: it cannot be used with --env-file")
	case len(services) > 0:
		return nil, errors.New("-r/--recursive plans every service: SERVICE names cannot be given with it")
	}
	ctx := cmd.Context()
	root, err := recursiveRoot(g)
	if err != nil {
		return nil, err
	}
	found, warnings, err := compose.Discover(root)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%s: no compose project found in this folder or below it", root)
	}
	prog := newProgress(cmd.ErrOrStderr(), len(found))
	defer prog.done()

	// Every project below root may read and write anywhere below root (a
	// monorepo's services share folders), and nowhere else unless allowed.
	projects, parts := loadFound(ctx, found, g.profiles, append([]string{root}, g.allow...), prog)
	index := migrate.NewRepoIndex(projects)
	// The repository's evidence (CI workflows, Makefiles, scripts, READMEs)
	// is read once, from root, and every project uses it.
	index.GatherEvidence(root)
	for i := range parts {
		p := parts[i].Plan
		if p == nil {
			continue
		}
		parts[i].Plan = nil
		prog.step("planning", i+1, len(parts), parts[i].Label)
		opts, err := rf.options(p.Project.Dir)
		if err != nil {
			parts[i].Err = err
			continue
		}
		opts.Repo = index
		plan, err := migrate.Make(ctx, p.Project, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			parts[i].Err = err
			continue
		}
		parts[i].Plan = plan
	}
	merged := migrate.Merge(root, parts)
	merged.Warnings = append(warnings, merged.Warnings...)
	return merged, nil
}

// loadFound loads the projects Discover found. A project whose every file
// another project includes or extends is left out: the other one plans
// its builds. The returned parts carry a plan holding only the loaded
// project (Plan.Project), or the load error.
func loadFound(ctx context.Context, found []compose.Found, profiles, allow []string, prog *progress) ([]*compose.Project, []migrate.Part) {
	loaded := make([]*compose.Project, len(found))
	errs := make([]error, len(found))
	for i, f := range found {
		prog.step("loading", i+1, len(found), f.Label)
		loaded[i], errs[i] = compose.Load(ctx, compose.Options{Files: f.Files, Profiles: profiles, WorkingDir: f.Dir, AllowOutside: allow})
	}
	usedBy := map[string]bool{}
	for _, p := range loaded {
		if p == nil {
			continue
		}
		for _, f := range p.AllFiles() {
			if !slices.Contains(p.Files, f) {
				usedBy[f] = true
			}
		}
	}
	var projects []*compose.Project
	var parts []migrate.Part
	for i, f := range found {
		if !slices.ContainsFunc(f.Files, func(path string) bool { return !usedBy[path] }) {
			continue
		}
		part := migrate.Part{Label: f.Label, Err: errs[i]}
		if p := loaded[i]; p != nil {
			projects = append(projects, p)
			part.Plan = &migrate.Plan{Project: p}
		}
		parts = append(parts, part)
	}
	return projects, parts
}

// repoIndex indexes the builds of every compose project of the repository
// holding p (the git work tree, or p's folder when there is none), so that
// p's optimized Dockerfiles take the other projects' services into account,
// and reads the repository's evidence (CI workflows, scripts, Makefiles,
// READMEs) from that root, as -r does: planning one project of a monorepo
// keeps its tests when a workflow at the root runs them in its container.
// Projects that do not load are left out of the index.
func repoIndex(ctx context.Context, p *compose.Project, pf *prefetch) *migrate.RepoIndex {
	root := repoRoot(p.Dir)
	if root == "" {
		root = p.Dir
	}
	found, err, ok := pf.discovered(root)
	if !ok {
		found, _, err = compose.Discover(root)
	}
	if err != nil {
		return migrate.NewRepoIndex([]*compose.Project{p})
	}
	var projects []*compose.Project
	self := false
	for _, f := range found {
		if slices.Equal(f.Files, p.Files) {
			projects = append(projects, p)
			self = true
			continue
		}
		if q, err := compose.Load(ctx, compose.Options{Files: f.Files, WorkingDir: f.Dir, AllowOutside: []string{root}}); err == nil {
			projects = append(projects, q)
		}
	}
	if !self {
		projects = append(projects, p)
	}
	index := migrate.NewRepoIndex(projects)
	if ev := pf.gathered(root, index.Dirs()); ev != nil {
		index.UseEvidence(ev)
	} else {
		index.GatherEvidence(root)
	}
	return index
}

// progress writes a one-line progress indicator on a terminal when there
// are many projects.
type progress struct {
	w  io.Writer
	on bool
}

func newProgress(w io.Writer, n int) *progress {
	return &progress{w: w, on: n >= progressMin && isTerminal(w)}
}

func (p *progress) step(what string, i, n int, label string) {
	if p.on {
		fmt.Fprintf(p.w, "\r\x1b[K%s %d/%d %s", what, i, n, label)
	}
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
