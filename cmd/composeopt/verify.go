package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/lockfile"
	"github.com/composeopt/composeopt/migrate/verify"

	"github.com/composeopt/composeopt/migrate/safefs"
)

func newVerifyCmd(g *globals) *cobra.Command {
	var rf ruleFlags
	var o verify.Options
	var jsonFile string
	cmd := &cobra.Command{
		Use:   "verify [OPTIONS] [SERVICE...]",
		Short: "Build the original and optimized images and prove the result",
		Long: `verify builds each migrated build twice with your Docker engine, from the
original Dockerfile and from the optimized one, with the build's context,
target and args, and measures both: image size, layers, cold build time
and the rebuild time after a change to one source file (in a copy of the
context; your files are not touched). It then runs the optimized image
with the compose service's environment, command and ports, and checks that
it does not run as root, stays up, becomes healthy when it has a
HEALTHCHECK, and answers like the original: a GET of the health route its
HEALTHCHECK requests, or else a TCP connect that sends no request (never
a GET of /, which may change the app's state).

When the migration is not applied yet, the plan's optimized Dockerfiles
and ignore files are built from a temporary directory. Progress goes to
standard error (one status line per service, redrawn in place, on a
terminal), the table to standard output, followed on a terminal by a bar
chart of the image sizes.

The cold builds of all services run in the same builder, up to --parallel
at once (the number of CPUs by default): they share base-image pulls and
common steps, and their times are measured while sharing the machine, so
compare original with optimized within one run. The rebuild timings run
one build at a time so that no other build skews them. Then the run
checks, again up to --parallel at once. The exit status is 1 when
an optimized image fails to build, runs as root, stops, or never becomes
healthy. The containers and images it creates are removed unless --keep.`,
		Example: `  composeopt verify
  composeopt verify --json verify.json stage-server
  composeopt verify --builder my-remote-builder --rebuild-deps
  composeopt verify --parallel 1   # cold build times with nothing else running`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateAnsi(g); err != nil {
				return err
			}
			if o.Parallel < 0 {
				return fmt.Errorf("--parallel: %d is not a number of builds (want 1 or more, or 0 for the number of CPUs)", o.Parallel)
			}
			o.Progress = cmd.ErrOrStderr()
			o.Live = g.ansi != "never" && isTerminal(o.Progress)
			if err := verify.Engine(cmd.Context(), o); err != nil {
				return err
			}
			plan, err := makePlan(cmd, g, &rf, args)
			if err != nil {
				return err
			}
			tmp, done, err := lockfile.TempDir("verify")
			if err != nil {
				return err
			}
			defer done()
			targets, err := verifyTargets(plan, tmp)
			if err != nil {
				return err
			}
			if len(targets) == 0 {
				return fmt.Errorf("no migrated build to verify (run `composeopt plan` to see why)")
			}
			results, err := verify.Run(cmd.Context(), targets, o)
			if err != nil {
				return err
			}
			verify.WriteTable(cmd.OutOrStdout(), results)
			if isTerminal(cmd.OutOrStdout()) {
				verify.WriteChart(cmd.OutOrStdout(), results)
			}
			if jsonFile != "" {
				if err := writeVerifyJSON(jsonFile, results); err != nil {
					return err
				}
			}
			for _, r := range results {
				if !r.OK {
					return exitError{code: 1}
				}
			}
			return nil
		},
	}
	rf.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&o.Builder, "builder", "", "BuildKit builder to use (passed to docker buildx build --builder)")
	fs.BoolVar(&o.RebuildDeps, "rebuild-deps", false, "Also time a rebuild after a dependency-manifest change")
	fs.BoolVar(&o.Keep, "keep", false, "Keep the containers and images verify creates")
	fs.IntVar(&o.Parallel, "parallel", 0, "Builds and run checks at once (0: the number of CPUs); rebuilds are always timed one at a time")
	fs.StringVar(&jsonFile, "json", "", "Write the results as JSON to `FILE` (readable by plan --verify-json)")
	return cmd
}

// verifyTargets returns one target per migrated build. A build whose files
// are not written yet is verified from the plan's content, written to dir:
// the optimized Dockerfile and, beside it, its ignore file under the name
// BuildKit looks for first (<Dockerfile>.dockerignore).
func verifyTargets(plan *migrate.Plan, dir string) ([]verify.Target, error) {
	content := map[string][]byte{}
	for _, f := range plan.Changes.Changed() {
		content[f.Path] = f.New
	}
	services := map[string]*compose.Service{}
	for _, s := range plan.Project.Services {
		services[s.Name] = s
	}
	var out []verify.Target
	for i, bp := range plan.Builds {
		if bp.Status != migrate.StatusMigrate && bp.Status != migrate.StatusUpToDate {
			continue
		}
		optimized := bp.Optimized
		if data, pending := content[bp.Optimized]; pending {
			sub := filepath.Join(dir, fmt.Sprint(i))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return nil, err
			}
			optimized = filepath.Join(sub, filepath.Base(bp.Optimized))
			if err := os.WriteFile(optimized, data, 0o644); err != nil {
				return nil, err
			}
			ignore, ok := content[bp.IgnoreFile]
			if !ok {
				ignore, _ = plan.Project.Root.ReadFile(safefs.Ignore, bp.IgnoreFile)
			}
			if err := os.WriteFile(optimized+".dockerignore", ignore, 0o644); err != nil {
				return nil, err
			}
		}
		// The service that publishes a port is the one worth running; a
		// worker sharing the image runs another command.
		svc := services[bp.Build.Services[0]]
		for _, name := range bp.Build.Services {
			if s := services[name]; s != nil && len(s.Ports) > 0 {
				svc = s
				break
			}
		}
		t := verify.Target{
			Service:    svc.Name,
			Context:    bp.Build.Context,
			Dockerfile: bp.Build.Dockerfile,
			Optimized:  optimized,
			Env:        svc.Environment,
			Command:    svc.Command,
			Ports:      svc.Ports,
		}
		if svc.Build != nil {
			t.BuildTarget = svc.Build.Target
			t.Args = svc.Build.Args
		}
		for _, f := range bp.Findings {
			if f.Rule == "non-root-user" && f.NeedsHuman {
				t.RootKept = f.Message
				break
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// writeVerifyJSON writes the results for --json.
func writeVerifyJSON(path string, results []verify.Result) error {
	// verify.Result is the one record type: its JSON form also carries the
	// flat fields plan --verify-json shows.
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
