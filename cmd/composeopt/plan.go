package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/safefs"
)

func newPlanCmd(g *globals) *cobra.Command {
	var rf ruleFlags
	var exitCode bool
	var format, verifyJSON string
	cmd := &cobra.Command{
		Use:   "plan [OPTIONS] [SERVICE...]",
		Short: "Show the migration as a unified diff, without writing anything",
		Long: `plan loads the compose project, derives an optimized Dockerfile for every
build, and prints every file the migration would create or change as a
unified diff on standard output (git apply accepts it from the project
directory). A summary, one line per service with the rules applied or the
reason it is skipped, goes to standard error.

--format markdown prints a pull-request description instead of the diff
(the same as apply --pr-body; --verify-json adds measured image sizes,
build times, user and health to its table). --format json prints the plan
for programs: schema_version 1, documented in the README and by the JSON
Schema migrate/report/plan.schema.json.`,
		Example: `  composeopt plan                      # the project in this directory
  composeopt plan > migration.diff && git apply migration.diff
  composeopt -f compose.yaml -f compose.prod.yaml plan api worker
  composeopt plan --exit-code          # exit 2 when something would change
  composeopt plan --format markdown > pr.md
  composeopt plan --format json | jq '.files[].path'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateAnsi(g); err != nil {
				return err
			}
			if err := checkFormat(format, formatDiff, formatMarkdown, formatJSON); err != nil {
				return err
			}
			if verifyJSON != "" && format != formatMarkdown {
				return fmt.Errorf("--verify-json needs --format markdown")
			}
			verify, err := readVerify(verifyJSON, cmd.InOrStdin())
			if err != nil {
				return err
			}
			plan, err := makePlan(cmd, g, &rf, args)
			if err != nil {
				return err
			}
			printSummary(cmd.ErrOrStderr(), plan, g.color(cmd.ErrOrStderr()), g.verbose)
			if format != formatDiff {
				if err := writePlanFormat(cmd.OutOrStdout(), plan, format, verify); err != nil {
					return err
				}
			} else {
				diff := plan.Changes.Diff(plan.Project.Dir)
				if g.color(cmd.OutOrStdout()) {
					diff = changeset.ColorDiff(diff)
				}
				if _, err := cmd.OutOrStdout().Write(diff); err != nil {
					return err
				}
			}
			if exitCode && len(plan.Changes.Changed()) > 0 {
				return exitError{code: 2}
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "Exit with status 2 when the plan would change files, 0 when not")
	cmd.Flags().StringVar(&format, "format", formatDiff, "Output `FORMAT`: diff (unified diff), markdown (pull-request description) or json (schema_version 1)")
	cmd.Flags().StringVar(&verifyJSON, "verify-json", "", "Verify results `FILE` (a JSON array, as composeopt verify --json writes) for the markdown table")
	return cmd
}

// compactFrom is the number of builds from which the summary gives one
// line per build instead of every finding (-v/--verbose gives them all).
const compactFrom = 10

// printSummary writes one line per build with what happens to it, then the
// skipped services and the number of files. With few builds (or verbose),
// every finding follows its build; with many, each build line ends with its
// counts of findings and of items that need a human, and those items are
// listed together at the end.
func printSummary(w io.Writer, plan *migrate.Plan, color, verbose bool) {
	dir := plan.Project.Dir
	rel := func(p string) string { return safefs.Rel(dir, p) }
	compact := !verbose && len(plan.Builds) >= compactFrom
	var humans []string
	for _, warn := range plan.Warnings {
		fmt.Fprintf(w, "%s %s\n", paint(color, "33", "warning:"), warn)
	}
	for _, bp := range plan.Builds {
		services := strings.Join(bp.Build.Services, ", ")
		var action string
		switch bp.Status {
		case migrate.StatusMigrate:
			action = paint(color, "32", "migrate") + " " + rel(bp.Build.Dockerfile) + " → " + filepath.Base(bp.Optimized)
			if len(bp.Applied) > 0 {
				action += " (rules: " + joinIDs(bp.Applied) + ")"
			}
		case migrate.StatusUpToDate:
			action = "up to date (" + rel(bp.Optimized) + ")"
		case migrate.StatusNoChange:
			action = "no change to " + rel(bp.Build.Dockerfile) + ": " + bp.Reason
		case migrate.StatusFailed:
			action = paint(color, "31", "not migrated: ") + bp.Reason
			if compact {
				humans = append(humans, fmt.Sprintf("%s: %s: not migrated: %s", services, rel(bp.Build.Dockerfile), bp.Reason))
			}
		case migrate.StatusSkipped:
			action = "skipped: " + bp.Reason
		}
		if compact {
			nh := 0
			for _, f := range bp.Findings {
				if f.NeedsHuman {
					nh++
				}
			}
			if len(bp.Findings) > 0 {
				action += fmt.Sprintf("; %d finding%s", len(bp.Findings), plural(len(bp.Findings)))
				if nh > 0 {
					action += fmt.Sprintf(", %s", paint(color, "33", fmt.Sprintf("%d need%s a human", nh, pluralVerb(nh))))
				}
			}
		}
		fmt.Fprintf(w, "%s: %s\n", paint(color, "1", services), action)
		for _, f := range bp.Findings {
			if compact && !f.NeedsHuman {
				continue
			}
			// Findings point into the optimized file when one is written,
			// and into the original otherwise.
			loc := rel(bp.Optimized)
			if bp.Status != migrate.StatusMigrate && bp.Status != migrate.StatusUpToDate {
				loc = rel(bp.Build.Dockerfile)
			}
			if f.File != "" {
				loc = rel(f.File)
			}
			if f.Line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, f.Line)
			}
			if compact {
				humans = append(humans, fmt.Sprintf("%s: %s: %s [%s]", services, loc, f.Message, f.Rule))
				continue
			}
			tag := f.Rule
			if f.NeedsHuman {
				tag = paint(color, "33", "needs a human") + ", " + f.Rule
			}
			fmt.Fprintf(w, "    %s: %s [%s]\n", loc, f.Message, tag)
		}
	}
	// Skipped services: one line each, or one line per reason when compact.
	var reasons []string
	byReason := map[string][]string{}
	for _, s := range plan.Project.Skipped {
		if s.NeedsHuman && compact {
			humans = append(humans, fmt.Sprintf("%s: skipped: %s", s.Service, s.Reason))
			continue
		}
		if compact {
			if byReason[s.Reason] == nil {
				reasons = append(reasons, s.Reason)
			}
			byReason[s.Reason] = append(byReason[s.Reason], s.Service)
			continue
		}
		reason := s.Reason
		if s.NeedsHuman {
			reason = paint(color, "33", "needs a human: ") + reason
		}
		fmt.Fprintf(w, "%s: skipped: %s\n", paint(color, "1", s.Service), reason)
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "skipped (%s): %s\n", r, strings.Join(byReason[r], ", "))
	}
	if len(humans) > 0 {
		fmt.Fprintf(w, "%s\n", paint(color, "33", fmt.Sprintf("Needs a human (%d):", len(humans))))
		for _, h := range humans {
			fmt.Fprintf(w, "  - %s\n", h)
		}
	}
	if len(plan.Parts) > 0 {
		failed := 0
		for _, part := range plan.Parts {
			if part.Plan == nil {
				failed++
			}
		}
		line := fmt.Sprintf("%d compose project%s", len(plan.Parts), plural(len(plan.Parts)))
		if failed > 0 {
			line += fmt.Sprintf(", %d not planned", failed)
		}
		fmt.Fprintln(w, line+".")
	}
	n := len(plan.Changes.Changed())
	switch n {
	case 0:
		fmt.Fprintln(w, "No changes.")
	case 1:
		fmt.Fprintln(w, "1 file to create or change.")
	default:
		fmt.Fprintf(w, "%d files to create or change.\n", n)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// pluralVerb is the verb ending for n subjects: "needs" for one, "need" for more.
func pluralVerb(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}
