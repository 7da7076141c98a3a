package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/inspect"
	"github.com/composeopt/composeopt/migrate/rules"
)

// globals are docker compose's project flags, shared by every subcommand.
type globals struct {
	files      []string
	projectDir string
	envFiles   []string
	profiles   []string
	ansi       string
	// recursive plans every compose project below the directory (-r).
	recursive bool
	// verbose prints every finding in the summary (-v).
	verbose bool
	allow   []string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "composeopt",
		Short: "Migrate a Docker Compose project to production-grade Dockerfiles",
		Long: `composeopt loads a Docker Compose project the way docker compose does, and for
every service build writes an optimized Dockerfile next to the original
(<name>.optimized), a .dockerignore, and the compose edits that point the
services at the new files, as one atomic change set.

  composeopt plan            show the change set as a unified diff (writes nothing)
  composeopt apply           write the change set (--branch, --pr-body for a pull request)
  composeopt check           exit 1 while a build is not migrated (for CI)
  composeopt verify          build original and optimized images with Docker and compare
  composeopt recover         complete or roll back an apply that was killed
  composeopt rules           list the optimization rules
  composeopt explain RULE    say what a rule changes and why

The project flags are docker compose's: -f/--file (repeatable, or COMPOSE_FILE),
--project-directory, --env-file and --profile. Every service is considered,
including those behind profiles, unless SERVICE names are given.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("composeopt {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringArrayVarP(&g.files, "file", "f", nil, "Compose configuration files (default: COMPOSE_FILE, or compose.yaml/docker-compose.yml and its override)")
	pf.StringVar(&g.projectDir, "project-directory", "", "Alternate working directory (default: the directory of the first compose file)")
	pf.StringArrayVar(&g.envFiles, "env-file", nil, "Alternate environment files")
	pf.StringArrayVar(&g.profiles, "profile", nil, "Profiles to enable (every service is considered regardless)")
	pf.BoolVarP(&g.recursive, "recursive", "r", false, "Every compose project below the directory (--project-directory, or the working directory), as one change set")
	pf.StringArrayVar(&g.allow, "allow-outside", nil, "Directory outside the project directory whose files composeopt may read and write (repeatable); everything else must resolve inside the project")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "Print every finding in the summary (by default, from 10 builds on, one line per build and the items that need a human)")
	pf.StringVar(&g.ansi, "ansi", "auto", `Control when to print ANSI colours ("never"|"always"|"auto"); NO_COLOR is honoured`)
	root.AddCommand(newPlanCmd(g), newApplyCmd(g), newCheckCmd(g), newVerifyCmd(g), newRecoverCmd(g), newRulesCmd(), newExplainCmd())
	return root
}

// load loads the compose project named by the flags.
func (g *globals) load(ctx context.Context, services []string) (*compose.Project, error) {
	return g.loadWith(ctx, services, nil)
}

// loadWith is load with a compose.Options.Started hook.
func (g *globals) loadWith(ctx context.Context, services []string, started func(string, func() compose.Guess)) (*compose.Project, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return compose.Load(ctx, compose.Options{
		Files:            g.files,
		ProjectDirectory: g.projectDir,
		EnvFiles:         g.envFiles,
		Profiles:         g.profiles,
		Services:         services,
		WorkingDir:       wd,
		AllowOutside:     g.allow,
		Started:          started,
	})
}

// ruleFlags are the flags that tune the optimizer. Each can also be set in
// the project's .composeopt.yaml; a flag given on the command line wins.
type ruleFlags struct {
	flags       *pflag.FlagSet
	skip        []string
	uid         int
	healthPath  string
	interval    string
	timeout     string
	startPeriod string
	retries     int
	force       bool
	// inspect is --inspect-images.
	inspect bool
}

func (r *ruleFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	r.flags = fs
	def := rules.DefaultOptions()
	fs.StringSliceVar(&r.skip, "skip", nil, "Rule IDs not to apply (repeatable or comma-separated; list them with: composeopt rules)")
	fs.IntVar(&r.uid, "uid", def.UID, "UID/GID of the non-root account created where the image has none")
	fs.StringVar(&r.healthPath, "health-path", "", "HTTP path the health check probes (default: a route found in the code, or /)")
	fs.StringVar(&r.interval, "health-interval", def.Health.Interval.String(), "HEALTHCHECK --interval")
	fs.StringVar(&r.timeout, "health-timeout", def.Health.Timeout.String(), "HEALTHCHECK --timeout")
	fs.StringVar(&r.startPeriod, "health-start-period", def.Health.StartPeriod.String(), "HEALTHCHECK --start-period")
	fs.IntVar(&r.retries, "health-retries", def.Health.Retries, "HEALTHCHECK --retries")
	fs.BoolVar(&r.force, "force", false, "Replace an existing <Dockerfile>.optimized that composeopt did not write (by default it is left alone and reported)")
	fs.BoolVar(&r.inspect, "inspect-images", false, "Read the real base images (local engine, then registry) instead of relying on the image table only; facts are cached per digest")
}

// options merges the project's config file under the command-line flags.
func (r *ruleFlags) options(projectDir string) (migrate.Options, error) {
	cfg, err := migrate.LoadConfig(projectDir)
	if err != nil {
		return migrate.Options{}, err
	}
	set := func(name string) bool { return r.flags != nil && r.flags.Changed(name) }
	skip := append(append([]string(nil), cfg.Skip...), r.skip...)
	uid := r.uid
	if !set("uid") && cfg.UID != 0 {
		uid = cfg.UID
	}
	pick := func(flag, flagVal, cfgVal string) string {
		if !set(flag) && cfgVal != "" {
			return cfgVal
		}
		return flagVal
	}
	retries := r.retries
	if !set("health-retries") && cfg.Healthcheck.Retries != 0 {
		retries = cfg.Healthcheck.Retries
	}
	interval := pick("health-interval", r.interval, cfg.Healthcheck.Interval)
	timeout := pick("health-timeout", r.timeout, cfg.Healthcheck.Timeout)
	startPeriod := pick("health-start-period", r.startPeriod, cfg.Healthcheck.StartPeriod)
	o := rules.DefaultOptions()
	for _, t := range []struct {
		text string
		d    *time.Duration
	}{{interval, &o.Health.Interval}, {timeout, &o.Health.Timeout}, {startPeriod, &o.Health.StartPeriod}} {
		d, err := time.ParseDuration(t.text)
		if err != nil {
			return migrate.Options{}, fmt.Errorf("health check timing %q: %w", t.text, err)
		}
		*t.d = d
	}
	if uid <= 0 || uid > 65535 {
		return migrate.Options{}, fmt.Errorf("--uid %d: want 1 to 65535", uid)
	}
	o.UID = uid
	o.HealthPath = pick("health-path", r.healthPath, cfg.Healthcheck.Path)
	o.Health.Retries = retries
	mo := migrate.Options{Skip: skip, Rules: o, Force: r.force}
	if r.inspect {
		iopts := inspect.Options{Local: true, Remote: true}
		mo.InspectImage = func(ctx context.Context, ref string) (facts.ImageFacts, error) {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			res, err := inspect.Image(ctx, ref, iopts)
			if err != nil {
				return facts.ImageFacts{}, err
			}
			return inspect.Merge(facts.LookupImage(ref), res.Facts), nil
		}
	}
	return mo, nil
}

// makePlan loads the project (or, with -r, every project below the
// directory) and computes the plan. A journal left by an interrupted apply
// is reported as a warning.
func makePlan(cmd *cobra.Command, g *globals, rf *ruleFlags, services []string) (*migrate.Plan, error) {
	if g.recursive {
		plan, err := makeRepoPlan(cmd, g, rf, services)
		if err == nil && changeset.HasJournal(plan.Project.Dir) {
			plan.Warnings = append(plan.Warnings, interruptedWarning)
		}
		return plan, err
	}
	p, pf, err := g.loadPrefetching(cmd.Context(), services, rf.options)
	if err != nil {
		return nil, err
	}
	plan, err := planFor(cmd, p, rf, pf)
	if err != nil {
		return nil, err
	}
	if changeset.HasJournal(p.Dir) {
		plan.Warnings = append(plan.Warnings, interruptedWarning)
	}
	return plan, nil
}

// interruptedWarning says that an apply did not finish.
const interruptedWarning = "an interrupted composeopt apply left its journal in " + changeset.StateDirName +
	"/: run `composeopt recover` (or `composeopt apply`) to complete or roll it back"

// planFor computes the plan of a loaded project, taking what pf (nil: no
// prefetch) found during the load, and closes pf.
func planFor(cmd *cobra.Command, p *compose.Project, rf *ruleFlags, pf *prefetch) (*migrate.Plan, error) {
	defer pf.close()
	opts, err := rf.options(p.Dir)
	if err != nil {
		return nil, err
	}
	opts.Repo = repoIndex(cmd.Context(), p, pf)
	if pf != nil {
		// The prefetch used the core the load left idle; from here the
		// planner's workers use every core, and a prefetcher ahead of them
		// would only make them wait for the context it is gathering.
		opts.Speculation = pf.finish()
		opts.Contexts = pf.contexts
	}
	return migrate.Make(cmd.Context(), p, opts)
}

func validateAnsi(g *globals) error {
	switch g.ansi {
	case "auto", "always", "never":
		return nil
	}
	return fmt.Errorf("--ansi: invalid value %q (want never, always or auto)", g.ansi)
}

func joinIDs(ids []string) string { return strings.Join(ids, ", ") }
