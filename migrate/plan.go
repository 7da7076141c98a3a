// Package migrate turns a loaded compose project into a change set: for
// every build it derives an optimized Dockerfile from the original by
// running the rules, checks the result with BuildKit, writes a
// .dockerignore, and points the compose files at the new Dockerfiles.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/gate"
	"github.com/composeopt/composeopt/migrate/ignore"
	"github.com/composeopt/composeopt/migrate/parallel"
	"github.com/composeopt/composeopt/migrate/rules"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// Options configure a plan.
type Options struct {
	// Skip lists rule IDs that must not run.
	Skip []string
	// Rules tunes the rules.
	Rules rules.Options
	// Force replaces an existing <name>.optimized that composeopt did not
	// write; without it such a build is not migrated (see BuildPlan.Conflict).
	Force bool
	// Catalogue replaces the rule catalogue (nil = rules.All()); tests use it
	// to check what the planner does with a rule that misbehaves.
	Catalogue []*rules.Rule
	// Repo says which services of the whole repository build each
	// Dockerfile, and which contexts other Dockerfiles share (nil = only
	// this project's).
	Repo *RepoIndex
	// InspectImage, when set (--inspect-images), reads the facts of a real
	// base image; they replace the image table's for that reference.
	InspectImage func(ctx context.Context, ref string) (facts.ImageFacts, error)
	// Contexts, when set, holds build contexts' facts gathered once per
	// directory, some perhaps while the project loaded (nil: each build
	// gathers its own).
	Contexts *facts.Contexts

	// Speculation holds builds planned during the load (see Speculate);
	// Make uses those whose inputs the loaded project confirms.
	Speculation *Speculation

	// inspected are the facts InspectImage read, by reference.
	inspected map[string]facts.ImageFacts
	// speculated is Speculation when it was made for this plan.
	speculated *Speculation
}

// Status says what happens to a build.
type Status string

// Build statuses.
const (
	StatusMigrate  Status = "migrate"    // files will be written
	StatusUpToDate Status = "up-to-date" // already migrated, nothing to change
	StatusNoChange Status = "no-change"  // no rule had anything to change
	StatusFailed   Status = "failed"     // parse or quality gate error; not migrated
	StatusSkipped  Status = "skipped"    // not a build composeopt handles
)

// BuildPlan is the outcome for one build.
type BuildPlan struct {
	Build *compose.Build
	// Optimized is the absolute path of the generated Dockerfile.
	Optimized string
	// IgnoreFile is the absolute path of the .dockerignore written for the build.
	IgnoreFile string
	BaseImage  string
	Status     Status
	// Reason explains a skipped, failed or unchanged build.
	Reason  string
	Applied []string
	// Lines maps each applied rule to the lines of the optimized file it wrote.
	Lines map[string][]int
	// Findings carry line numbers of the optimized file.
	Findings []rules.Finding
	// Ignored lists the patterns added to the ignore file.
	Ignored []string
	// ReducedGate, when set, says that the optimized file was too long for
	// the full quality gate and which checks the reduced gate left out
	// (Make also reports it as a warning).
	ReducedGate string
	// Conflict is true when the build is not migrated because its optimized
	// file exists and composeopt did not write it (no generated header for
	// this original); Options.Force overrides.
	Conflict bool

	content       []byte      // the optimized Dockerfile
	mode          fs.FileMode // its permissions: the original's
	ignoreContent []byte      // the ignore file
	oldContent    []byte      // what the optimized Dockerfile holds now (nil: absent)
	oldIgnore     []byte      // what the ignore file holds now (nil: absent)
	// healthRuns says, by compose target, whether the optimized file's
	// stage for it runs a HEALTHCHECK (for the workers' compose edit).
	healthRuns map[string]bool
	own        []facts.Service // this project's services of the build
}

// Plan is the whole migration.
type Plan struct {
	Project *compose.Project
	Builds  []*BuildPlan
	Changes changeset.Set
	// Warnings are non-fatal problems (loading, ignore files).
	Warnings []string
	// Parts are the compose projects of a plan Merge made (nil otherwise).
	Parts []Part
}

// OptimizedName returns the generated Dockerfile path for an original.
func OptimizedName(original string) string { return dockerfile.OptimizedName(original) }

// Make computes the plan for a loaded project. It reads files but writes nothing.
func Make(ctx context.Context, p *compose.Project, opts Options) (*Plan, error) {
	enabled, err := enabledRules(opts)
	if err != nil {
		return nil, err
	}
	opts.Rules = opts.Rules.WithDefaults()
	plan := &Plan{Project: p, Warnings: append([]string(nil), p.Warnings...)}
	var parsed map[*compose.Build]*dockerfile.File
	if opts.InspectImage != nil {
		var warnings []string
		warnings, parsed, opts.inspected = inspectBases(ctx, p, opts.InspectImage)
		plan.Warnings = append(plan.Warnings, warnings...)
	}
	refs := map[*compose.Build]string{}
	// What the repository runs inside its containers, read once for all
	// builds (and, under -r, once for all the projects of the repository).
	repo := opts.Repo.evidence()
	if repo == nil {
		names := map[string]bool{}
		for _, s := range p.Services {
			names[s.Name] = true
		}
		repo = facts.GatherRepo(p.Dir, names)
	}
	if opts.Speculation.usable(p.Dir, enabled, opts, repo) {
		opts.speculated = opts.Speculation
	}
	builds, err := planBuilds(ctx, p, enabled, opts, repo, parsed)
	if err != nil {
		return nil, err
	}
	// One optimized file per Dockerfile: the same Dockerfile built from a
	// second context cannot share it.
	byOptimized := map[string]*BuildPlan{}
	for _, bp := range builds {
		plan.Builds = append(plan.Builds, bp)
		if bp.ReducedGate != "" {
			plan.Warnings = append(plan.Warnings, safefs.Rel(p.Dir, bp.Optimized)+": "+bp.ReducedGate)
		}
		if bp.Status != StatusMigrate {
			continue
		}
		if first := byOptimized[bp.Optimized]; first != nil {
			bp.Status = StatusFailed
			bp.Reason = fmt.Sprintf("%s is also built from context %s (services %s); one %s cannot serve both contexts",
				safefs.Rel(p.Dir, bp.Build.Dockerfile), safefs.Rel(p.Dir, first.Build.Context), strings.Join(first.Build.Services, ", "), filepath.Base(bp.Optimized))
			continue
		}
		byOptimized[bp.Optimized] = bp
		refs[bp.Build] = bp.Optimized
	}
	// The builds' files are rendered as diffs while the compose files are
	// edited, which takes one core; Diff takes those still in the plan.
	var staged changeset.Set
	for _, bp := range plan.Builds {
		if bp.Status == StatusMigrate {
			if err := addFiles(&staged, bp); err != nil {
				return nil, err
			}
		}
	}
	plan.Changes.Prerender(p.Dir, staged.Files)
	workers, owner := workerHealthchecks(plan.Builds)
	edits, err := compose.EditProject(p, refs, workers)
	unhealthy := map[string]error{} // workers whose health check stays on, and why
	if err != nil {
		// A build whose compose references cannot be edited safely is not
		// migrated; the other builds' edits stand.
		var ee *compose.EditError
		failed := 0
		for _, e := range unwrapAll(err) {
			if errors.As(e, &ee) && ee.Build == nil && owner[ee.Service] != nil {
				unhealthy[ee.Service] = ee.Err
				failed++
				continue
			}
			if errors.As(e, &ee) && ee.Build != nil {
				for _, bp := range plan.Builds {
					if bp.Build == ee.Build {
						bp.Status, bp.Reason = StatusFailed, "compose edit refused: "+ee.Error()
						failed++
					}
				}
			}
		}
		if failed == 0 {
			return nil, err
		}
	}
	reportWorkers(p, edits, workers, owner, unhealthy)
	for _, bp := range plan.Builds {
		if bp.Status != StatusMigrate {
			continue
		}
		if err := addFiles(&plan.Changes, bp); err != nil {
			return nil, err
		}
	}
	for _, e := range edits {
		if err := p.Root.CheckOutput(e.Path); err != nil {
			return nil, fmt.Errorf("compose file %w", err)
		}
		if err := plan.Changes.Add(changeset.File{Path: e.Path, Old: e.Old, New: e.New, Exists: true, Reference: true}); err != nil {
			return nil, err
		}
	}
	// A build whose files and compose references are all current is up to date.
	changed := map[string]bool{}
	for _, f := range plan.Changes.Changed() {
		changed[f.Path] = true
	}
	for _, bp := range plan.Builds {
		if bp.Status == StatusMigrate && !changed[bp.Optimized] && !changed[bp.IgnoreFile] && bp.Build.Current == bp.Optimized {
			bp.Status = StatusUpToDate
		}
	}
	return plan, nil
}

// enabledRules returns the rules of opts' catalogue (rules.All() when it
// has none) that opts.Skip leaves on, in run order.
func enabledRules(opts Options) ([]*rules.Rule, error) {
	catalogue := opts.Catalogue
	if catalogue == nil {
		catalogue = rules.All()
	}
	off := map[string]bool{}
	for _, id := range opts.Skip {
		r := rules.Lookup(id)
		if r == nil {
			return nil, fmt.Errorf("unknown rule %q (see `composeopt rules`)", id)
		}
		off[r.ID] = true
	}
	var out []*rules.Rule
	for _, r := range catalogue {
		if !off[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// planBuilds plans every build of p. Builds are independent (each reads
// its own Dockerfile and context), so they are planned in parallel by at
// most GOMAXPROCS workers; the result is in p.Builds order whatever the
// order they finish in.
// parsed holds the Dockerfiles inspectBases has already read and parsed.
func planBuilds(ctx context.Context, p *compose.Project, enabled []*rules.Rule, opts Options, repo *facts.Repo, parsed map[*compose.Build]*dockerfile.File) ([]*BuildPlan, error) {
	out := make([]*BuildPlan, len(p.Builds))
	byName := indexServices(p)
	parallel.For(len(p.Builds), func() bool { return ctx.Err() != nil }, func(i int) {
		b := p.Builds[i]
		if opts.speculated != nil {
			if bp := opts.speculated.take(b, serviceFacts(byName, b), opts.Repo, p.Dir); bp != nil {
				out[i] = bp
				return
			}
		}
		out[i] = planBuild(p, byName, b, parsed[b], enabled, opts, repo)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// planBuild derives one build's optimized Dockerfile and ignore file; df
// is its Dockerfile when already read and parsed (nil: read it here).
func planBuild(p *compose.Project, byName map[string]*compose.Service, b *compose.Build, df *dockerfile.File, enabled []*rules.Rule, opts Options, repo *facts.Repo) *BuildPlan {
	bp := &BuildPlan{Build: b, Optimized: OptimizedName(b.Dockerfile)}
	fail := func(status Status, format string, args ...any) *BuildPlan {
		bp.Status = status
		bp.Reason = fmt.Sprintf(format, args...)
		return bp
	}
	if df == nil {
		// Read while the project loaded, if the compose files named it.
		df, _ = opts.Contexts.Dockerfile(b.Dockerfile)
	}
	if df == nil {
		src, err := p.Root.ReadFile(safefs.Dockerfile, b.Dockerfile)
		if err != nil {
			return fail(StatusFailed, "%v", err)
		}
		if df, err = dockerfile.Parse(src); err != nil {
			var se *dockerfile.SyntaxError
			if errors.As(err, &se) {
				return fail(StatusFailed, "%s:%d: %v", safefs.Rel(p.Dir, b.Dockerfile), se.Line, se.Err)
			}
			return fail(StatusFailed, "%s: %v", safefs.Rel(p.Dir, b.Dockerfile), err)
		}
	}
	src := df.Src
	if len(df.Stages) == 0 {
		return fail(StatusFailed, "%s: no FROM instruction", safefs.Rel(p.Dir, b.Dockerfile))
	}
	// The output is replaced, never written through, whatever --force says.
	if err := p.Root.CheckOutput(bp.Optimized); err != nil {
		return fail(StatusFailed, "%v", err)
	}
	if !opts.Force {
		if why := foreignOptimized(bp.Optimized, b.Dockerfile); why != "" {
			bp.Conflict = true
			return fail(StatusFailed, "%s %s; composeopt leaves it alone (--force replaces it)", safefs.Rel(p.Dir, bp.Optimized), why)
		}
	}
	services := opts.Repo.servicesFor(b, serviceFacts(byName, b))
	for _, s := range services {
		if s.Target != "" && df.Stage(s.Target) == nil {
			return fail(StatusFailed, "%s: service %s targets stage %q, which the Dockerfile does not define", safefs.Rel(p.Dir, b.Dockerfile), s.Name, s.Target)
		}
	}
	fb, err := opts.Contexts.Gather(b.Context, services)
	if err != nil {
		return fail(StatusFailed, "%s: %v", safefs.Rel(p.Dir, b.Context), err)
	}
	// The runs of the repository that may concern this Dockerfile: those
	// aimed at a project building it, or at no project in particular.
	fb.Repo = repo.ForProjects(opts.Repo.projectsFor(b, p.Dir))
	fb.Inspected = opts.inspected
	bp.BaseImage = facts.BaseImage(df, df.Target(fb.Targets()[0]), services[0].Args).Ref
	if why := facts.WindowsReason(df, services[0].Args); why != "" {
		return fail(StatusSkipped, "Windows-container Dockerfile (%s): the rules target Linux images", why)
	}
	res, err := rules.ApplyFile(df, fb, enabled, opts.Rules)
	if err != nil {
		return fail(StatusFailed, "%s: %v", safefs.Rel(p.Dir, b.Dockerfile), err)
	}
	bp.Applied = res.Applied
	bp.Findings = res.Findings
	if len(res.Applied) == 0 {
		bp.Status = StatusNoChange
		bp.Reason = "no rule had anything to change"
		return bp
	}
	// The gate judges the exact bytes that will be written, header included.
	out, headerLine, err := dockerfile.AddHeader(res.Output, b.Dockerfile, src)
	if err != nil {
		return fail(StatusFailed, "%s: %v", safefs.Rel(p.Dir, bp.Optimized), err)
	}
	checked, err := gate.Check(filepath.Base(bp.Optimized), src, out, fb.Targets(), services[0].Args)
	if err != nil {
		return fail(StatusFailed, "generated Dockerfile fails the quality gate: %v", err)
	}
	bp.ReducedGate = checked.Reduced
	// The header adds one line after the parser directives: shift the line
	// numbers the rules reported past it.
	shift := func(l int) int {
		if l >= headerLine {
			return l + 1
		}
		return l
	}
	bp.Lines = map[string][]int{}
	for id, lines := range res.Lines {
		for _, l := range lines {
			bp.Lines[id] = append(bp.Lines[id], shift(l))
		}
	}
	for i := range bp.Findings {
		if bp.Findings[i].Line > 0 {
			bp.Findings[i].Line = shift(bp.Findings[i].Line)
		}
	}
	bp.Status = StatusMigrate
	bp.own = serviceFacts(byName, b)
	// The stage facts serve this build's ignore file and health checks
	// only: what the compose edit needs later is kept, not the facts (with
	// the build's, they were a fifth of a 1,000-service plan's live heap).
	stages := facts.NewStages(fb, res.File)
	bp.healthRuns = map[string]bool{}
	for _, s := range bp.own {
		if st := res.File.Target(s.Target); st != nil {
			bp.healthRuns[s.Target] = stages.Of(st).HealthcheckRuns()
		}
	}
	if err := planIgnore(p.Root, bp, p, b, opts.Repo.sharedContext(b), fb, res.File, stages, fb.Repo); err != nil {
		return fail(StatusFailed, "%v", err)
	}
	bp.content = out
	bp.mode = modeOf(b.Dockerfile)
	// The outputs are replaced, never written through: a link or a special
	// file there fails this build, and their current content (shown in the
	// diff) is read only from a regular file inside the project.
	if bp.oldContent, err = p.Root.ReadOutput(safefs.Dockerfile, bp.Optimized); err != nil {
		return fail(StatusFailed, "%v", err)
	}
	return bp
}

// foreignOptimized says why an existing optimized file is not composeopt's
// output for original ("" when it is, or does not exist).
func foreignOptimized(optimized, original string) string {
	fi, err := os.Lstat(optimized)
	if err != nil {
		return ""
	}
	if !fi.Mode().IsRegular() {
		return "exists and is not a regular file"
	}
	f, err := os.Open(optimized)
	if err != nil {
		return fmt.Sprintf("cannot be read (%v)", err)
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return fmt.Sprintf("cannot be read (%v)", err)
	}
	h, ok := dockerfile.ReadHeader(head)
	switch {
	case !ok:
		return "exists and was not written by composeopt (it has no generated header)"
	case h.Original != filepath.Base(original):
		return fmt.Sprintf("was generated from %s, not from %s", h.Original, filepath.Base(original))
	}
	return ""
}

// indexServices maps the names of p's services to them.
func indexServices(p *compose.Project) map[string]*compose.Service {
	byName := make(map[string]*compose.Service, len(p.Services))
	for _, s := range p.Services {
		byName[s.Name] = s
	}
	return byName
}

// serviceFacts returns what the rules need to know of the services that
// use b; byName is indexServices of b's project (built once per project:
// once per build made plans quadratic in services).
func serviceFacts(byName map[string]*compose.Service, b *compose.Build) []facts.Service {
	var out []facts.Service
	for _, name := range b.Services {
		s := byName[name]
		if s == nil || s.Build == nil {
			continue
		}
		fs := facts.Service{
			Name: s.Name, Target: s.Build.Target, Args: s.Build.Args, Ports: s.Ports,
			User: s.User, HasHealthcheck: s.HasHealthcheck, HealthcheckDisabled: s.HealthcheckDisabled, Environment: s.Environment, Command: s.Command, Entrypoint: s.Entrypoint,
			Labels: s.Labels, NetworkMode: s.NetworkMode,
		}
		for _, v := range s.Volumes {
			fs.Mounts = append(fs.Mounts, facts.Mount{Type: v.Type, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		}
		out = append(out, fs)
	}
	return out
}

// planIgnore computes the .dockerignore of a build.
func planIgnore(root *safefs.Root, bp *BuildPlan, p *compose.Project, b *compose.Build, sharedContext bool, fb *facts.Build, df *dockerfile.File, stages *facts.Stages, repo *facts.Repo) error {
	contextIgnore := filepath.Join(b.Context, ".dockerignore")
	bp.IgnoreFile = contextIgnore
	if sharedContext {
		bp.IgnoreFile = bp.Optimized + ".dockerignore"
	}
	existing, err := root.ReadOutput(safefs.Ignore, bp.IgnoreFile)
	if err != nil {
		return err
	}
	bp.oldIgnore = existing
	if existing == nil && bp.IgnoreFile != contextIgnore {
		// The per-Dockerfile file replaces the context's for this build, so it
		// starts from the user's context-wide patterns.
		if existing, err = root.ReadOptional(safefs.Ignore, contextIgnore); err != nil {
			return err
		}
	}
	keep := copySources(df)
	ev := ignoreEvidence(p, fb, df, stages, keep, repo)
	ecosystems := fb.Ecosystems()
	for _, e := range fb.Scan.Ecosystems {
		if !slices.Contains(ecosystems, e) {
			ecosystems = append(ecosystems, e)
		}
	}
	out, err := ignore.Generate(ignore.Input{
		Existing:       existing,
		Ecosystems:     ecosystems,
		ContextDir:     b.Context,
		Keep:           keep,
		RebuiltOutputs: rebuiltOutputs(df),
		Retain:         ev.retain,
		Exclude:        ev.exclude,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", bp.IgnoreFile, err)
	}
	bp.ignoreContent = out.Content
	bp.Ignored = out.Added
	bp.Findings = append(bp.Findings, ev.findings...)
	for _, w := range out.Warnings {
		bp.Findings = append(bp.Findings, rules.Finding{Rule: "dockerignore", Message: w, NeedsHuman: true})
	}
	return nil
}

// workerHealthchecks lists the workers (see facts.Service.Worker) of the
// migrated builds whose stage in the optimized Dockerfile has a
// HEALTHCHECK: the check probes a port the worker does not serve, so it
// would mark the worker unhealthy; compose gets `healthcheck: disable:
// true` for them. owner maps each to its build.
func workerHealthchecks(builds []*BuildPlan) ([]string, map[string]*BuildPlan) {
	owner := map[string]*BuildPlan{}
	var names []string
	for _, bp := range builds {
		if bp.Status != StatusMigrate {
			continue
		}
		for _, s := range bp.own {
			if !s.Worker() || s.HasHealthcheck || s.HealthcheckDisabled || owner[s.Name] != nil {
				continue
			}
			if bp.healthRuns[s.Target] {
				owner[s.Name] = bp
				names = append(names, s.Name)
			}
		}
	}
	return names, owner
}

// reportWorkers says, on each worker's build, that compose now disables
// its health check, or (needs a human) why it could not. The finding is
// located at the worker's service key in the compose file that defines it
// (as edited), not in the Dockerfile.
func reportWorkers(p *compose.Project, edits []compose.FileEdit, workers []string, owner map[string]*BuildPlan, failed map[string]error) {
	files, lines := p.ServicesAt(workers, edits)
	for i, n := range workers {
		bp := owner[n]
		if bp.Status != StatusMigrate {
			continue
		}
		file, line := files[i], lines[i]
		if err, ok := failed[n]; ok {
			bp.Findings = append(bp.Findings, rules.Finding{Rule: "healthcheck", NeedsHuman: true, File: file, Line: line, Message: fmt.Sprintf(
				"service %s runs its own command from this image and publishes no port: the image's HEALTHCHECK would mark it unhealthy; set `healthcheck: disable: true` for it in compose (not done automatically: %v)", n, err)})
			continue
		}
		bp.Findings = append(bp.Findings, rules.Finding{Rule: "healthcheck", File: file, Line: line, Message: fmt.Sprintf(
			"service %s runs its own command from this image and publishes no port, so the image's HEALTHCHECK would mark it unhealthy: compose now sets `healthcheck: disable: true` for it", n)})
	}
}

// Default ignore patterns that repository evidence can keep in the context.
var (
	testPatterns = []string{"test", "tests", "**/__tests__"}
	docsPatterns = []string{"docs"}
)

// ignoreDecision is what the repository and the Dockerfile say the ignore
// file must keep or leave out.
type ignoreDecision struct {
	retain, exclude []string
	findings        []rules.Finding
}

// ignoreEvidence decides, from evidence, which defaults the ignore file
// must not add and which credential files it must leave out. Tests and
// documentation stay in the context when any build of this Dockerfile uses
// them: a test or docs command the repository runs inside one of the
// build's services (scripts, Makefiles, CI workflows, READMEs, compose
// commands), a RUN of a test runner in any stage, or a development target
// that copies the whole context.
func ignoreEvidence(p *compose.Project, fb *facts.Build, df *dockerfile.File, stages *facts.Stages, keep []string, repo *facts.Repo) ignoreDecision {
	var d ignoreDecision
	note := func(format string, args ...any) {
		d.findings = append(d.findings, rules.Finding{Rule: "dockerignore", Message: fmt.Sprintf(format, args...)})
	}
	kinds := []struct {
		name     string
		patterns []string
		isCmd    func([]string) bool
	}{
		{"tests", testPatterns, facts.IsTestCommand},
		{"docs", docsPatterns, facts.IsDocsCommand},
	}
	// The simple commands of each RUN, split once for both kinds.
	var runs []*dockerfile.Instruction
	var runCmds [][][]string
	for _, in := range df.Instructions {
		if in.Cmd != "run" {
			continue
		}
		cmds := [][]string{in.Args}
		if src, ok := in.ShellForm(); ok {
			cmds = facts.ShellCommands(src)
		}
		runs, runCmds = append(runs, in), append(runCmds, cmds)
	}
	for _, k := range kinds {
		var why []string
		for _, e := range repo.InImage(k.name, fb.Services) {
			why = append(why, fmt.Sprintf("%s runs `%s` in the container", e.Where, e.What))
		}
		for i, in := range runs {
			for _, words := range runCmds[i] {
				if k.isCmd(words) {
					why = append(why, fmt.Sprintf("the Dockerfile runs `%s` (line %d)", facts.JoinWords(words), in.Start))
					break
				}
			}
		}
		for _, t := range fb.Targets() {
			st := df.Target(t)
			if st == nil || !stages.Of(st).CopiesWholeContext() {
				continue
			}
			if r := stages.Of(st).DevelopmentReason(); r != "" {
				why = append(why, fmt.Sprintf("the development stage %s copies the whole context (%s)", stageName(st), r))
			}
		}
		if len(why) == 0 {
			continue
		}
		d.retain = append(d.retain, k.patterns...)
		note("kept %s in the build context: %s", k.name, strings.Join(why, "; "))
	}

	// Credential files under a copied directory stay out of the context,
	// unless a COPY names one (the secrets rule reports that) or an install
	// reads it (a registry token: excluding it would break the install).
	whole := slices.Contains(keep, ".")
	installs := false
	for _, in := range df.Instructions {
		if in.Cmd == "run" && facts.InstallReadsRegistryConfig(strings.Join(in.Args, " ")) {
			installs = true
		}
	}
	for _, c := range fb.Scan.Credentials {
		copied, named := whole, false
		for _, k := range keep {
			k = strings.TrimSuffix(k, "/")
			if k == c.Path {
				named = true
			} else if k != "." && strings.HasPrefix(c.Path, k+"/") {
				copied = true
			}
		}
		base := path.Base(c.Path)
		switch {
		case named || !copied:
		case base == ".env" || strings.HasPrefix(base, ".env."):
			// The defaults leave every .env file out already.
		case c.Registry && installs && !strings.Contains(c.Path, "/"):
			d.findings = append(d.findings, rules.Finding{Rule: "dockerignore", NeedsHuman: true, Message: fmt.Sprintf(
				"%s (%s) is copied into the image; it was not left out because the dependency install reads it: pass the token with `RUN --mount=type=secret` and keep the file out of the context", c.Path, c.Kind)})
		default:
			d.exclude = append(d.exclude, c.Path)
			note("left %s (%s) out of the build context", c.Path, c.Kind)
		}
	}
	return d
}

func stageName(st *dockerfile.Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return fmt.Sprintf("%d", st.Index)
}

// copySources returns the context paths that COPY and ADD read.
func copySources(f *dockerfile.File) []string {
	seen := map[string]bool{}
	var out []string
	for _, in := range f.Instructions {
		if (in.Cmd != "copy" && in.Cmd != "add") || len(in.Flag("from")) > 0 || len(in.Heredocs) > 0 {
			continue
		}
		if len(in.Args) < 2 {
			continue
		}
		for _, s := range in.Args[:len(in.Args)-1] {
			if strings.Contains(s, "://") {
				continue
			}
			s = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(s)), "/")
			if s == "" {
				s = "."
			}
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// rebuiltOutputs lists build output directories the image produces itself.
func rebuiltOutputs(f *dockerfile.File) []string {
	var out []string
	for _, in := range f.Instructions {
		if in.Cmd != "run" {
			continue
		}
		cmd := strings.Join(in.Args, " ")
		if strings.Contains(cmd, "run build") || strings.Contains(cmd, "tsc") {
			out = append(out, "dist", "build")
			break
		}
	}
	return out
}

func addFiles(set *changeset.Set, bp *BuildPlan) error {
	old := bp.oldContent
	if err := set.Add(changeset.File{Path: bp.Optimized, Old: old, New: bp.content, Exists: old != nil, Mode: bp.mode}); err != nil {
		return err
	}
	oldIgnore := bp.oldIgnore
	return set.Add(changeset.File{Path: bp.IgnoreFile, Old: oldIgnore, New: bp.ignoreContent, Exists: oldIgnore != nil, Mode: 0o644})
}

func modeOf(path string) fs.FileMode {
	if fi, err := os.Stat(path); err == nil {
		return fi.Mode().Perm()
	}
	return 0o644
}

// unwrapAll flattens errors joined with errors.Join.
func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		return out
	}
	return []error{err}
}

// inspectBases reads the real base images of every build (each reference
// once) and returns their facts for the rules, by reference; an image that
// cannot be read is a warning, and the table's facts stand for it. It also
// returns the builds' Dockerfiles it parsed, for planBuild to use rather
// than parse them again.
func inspectBases(ctx context.Context, p *compose.Project, inspect func(context.Context, string) (facts.ImageFacts, error)) ([]string, map[*compose.Build]*dockerfile.File, map[string]facts.ImageFacts) {
	var warnings []string
	inspected := map[string]facts.ImageFacts{}
	parsed := map[*compose.Build]*dockerfile.File{}
	done := map[string]bool{}
	byName := indexServices(p)
	for _, b := range p.Builds {
		src, err := p.Root.ReadFile(safefs.Dockerfile, b.Dockerfile)
		if err != nil {
			continue // planBuild reports it
		}
		df, err := dockerfile.Parse(src)
		if err != nil {
			continue
		}
		parsed[b] = df
		for _, s := range serviceFacts(byName, b) {
			args := facts.GlobalArgs(df, s.Args)
			for _, st := range df.Stages {
				if st.BaseStage != nil {
					continue
				}
				ref := facts.Expand(st.Base, args)
				if done[ref] || strings.EqualFold(ref, "scratch") || strings.Contains(ref, "$") {
					continue
				}
				done[ref] = true
				real, err := inspect(ctx, ref)
				if err != nil {
					warnings = append(warnings, fmt.Sprintf("%s: %v; using the image table's facts", safefs.Rel(p.Dir, b.Dockerfile), err))
					continue
				}
				inspected[ref] = real
			}
		}
	}
	return warnings, parsed, inspected
}
