package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/report"
)

func newCheckCmd(g *globals) *cobra.Command {
	var rf ruleFlags
	var format string
	cmd := &cobra.Command{
		Use:   "check [OPTIONS] [SERVICE...]",
		Short: "Fail when a service is not migrated (for CI)",
		Long: `check computes the plan, like plan, and writes nothing. It exits 1 and
lists every build that is not migrated: composeopt would still create or
change its optimized Dockerfile or .dockerignore, or compose does not build
the service from the optimized Dockerfile. It exits 0 when every build is
migrated, or has nothing to change.

Builds composeopt cannot migrate (a Dockerfile BuildKit cannot parse, a
generated Dockerfile that fails the quality gate) and services that need a
human (a dockerfile: value set from a variable) are reported as warnings;
they do not fail the check.

--format sarif writes a SARIF 2.1.0 log instead of text, with one result per
build located at its Dockerfile, for code-scanning dashboards (GitHub's
upload-sarif action, for example). Paths in it are relative to the root of
the git repository that contains the project, or to the project directory.

Use the same compose and rule flags as in plan and apply, so that check
judges the change set apply would make.`,
		Example: `  composeopt check
  composeopt -f compose.yaml -f compose.prod.yaml check --skip healthcheck
  composeopt check --format sarif > composeopt.sarif`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if g == nil {
				g = flagGlobals(cmd)
			}
			if err := validateAnsi(g); err != nil {
				return err
			}
			if err := checkFormat(format, formatText, formatSARIF); err != nil {
				return err
			}
			plan, err := makePlan(cmd, g, &rf, args)
			if err != nil {
				return err
			}
			if changeset.HasJournal(plan.Project.Dir) {
				// The files may be half written: nothing to judge yet.
				return errors.New(interruptedWarning)
			}
			stderr := cmd.ErrOrStderr()
			for _, w := range plan.Warnings {
				fmt.Fprintf(stderr, "%s %s\n", paint(g.color(stderr), "33", "warning:"), w)
			}
			doc := report.New(plan)
			items, ok := doc.Check()
			var out []byte
			if format == formatSARIF {
				if out, err = doc.SARIF(items, report.SARIFOptions{Root: repoRoot(plan.Project.Dir), Version: version()}); err != nil {
					return fmt.Errorf("encoding SARIF: %w", err)
				}
			} else {
				out = colorCheck(doc.CheckText(items, ok), g.color(cmd.OutOrStdout()))
			}
			if _, err := cmd.OutOrStdout().Write(out); err != nil {
				return err
			}
			if !ok {
				return exitError{code: 1}
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&format, "format", formatText, "Output `FORMAT`: text or sarif (SARIF 2.1.0)")
	return cmd
}

// flagGlobals reads the root's persistent project flags, for a check
// command attached to a root that did not hand over its globals.
func flagGlobals(cmd *cobra.Command) *globals {
	fs := cmd.Flags()
	g := &globals{ansi: "auto"}
	g.files, _ = fs.GetStringArray("file")
	g.projectDir, _ = fs.GetString("project-directory")
	g.envFiles, _ = fs.GetStringArray("env-file")
	g.profiles, _ = fs.GetStringArray("profile")
	g.recursive, _ = fs.GetBool("recursive")
	if a, err := fs.GetString("ansi"); err == nil {
		g.ansi = a
	}
	return g
}

// repoRoot returns the root of the git work tree containing dir (the
// nearest parent with a .git entry), or "" when there is none.
func repoRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// colorCheck colours the "error:" and "warning:" labels and the verdict.
func colorCheck(text []byte, color bool) []byte {
	if !color {
		return text
	}
	s := string(text)
	s = strings.ReplaceAll(s, ": error: ", ": "+paint(true, "31", "error:")+" ")
	s = strings.ReplaceAll(s, ": warning: ", ": "+paint(true, "33", "warning:")+" ")
	s = strings.Replace(s, "Check failed:", paint(true, "31", "Check failed:"), 1)
	s = strings.Replace(s, "Check passed:", paint(true, "32", "Check passed:"), 1)
	return []byte(s)
}
