package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/changeset"
)

func newApplyCmd(g *globals) *cobra.Command {
	var rf ruleFlags
	var ao applyOptions
	cmd := &cobra.Command{
		Use:   "apply [OPTIONS] [SERVICE...]",
		Short: "Write the migration: optimized Dockerfiles, ignore files and compose edits",
		Long: `apply computes the same change set as plan and writes it, all files or none:
each file goes to a temporary file beside it and is renamed into place,
the optimized Dockerfiles and ignore files first and the compose edits
last; if any step fails, or SIGINT or SIGTERM arrives, the files already
written are restored. The original Dockerfiles are never modified. Nothing
is written when a file changed since it was read, checked again right
before each rename.

While it runs, apply holds a lock in .composeopt/ at the project root (a
second apply refuses) and keeps a journal there, with a backup of every
file it replaces. If the process is killed, the next apply (or composeopt
recover) completes the interrupted one when every file can still reach its
new content, and rolls it back otherwise, and says which.

For review, --pr-body FILE also writes a pull-request description in
Markdown: a summary, a table of the services with the rules applied (and,
with --verify-json, the measured image sizes, build times, user and
health), the reason for each change, the items that need a human, and a
checklist for the reviewer.

--branch NAME creates the branch from HEAD in the project's git repository,
writes the change set and commits exactly its files (git's configuration,
hooks and signing apply). It refuses, changing nothing, when the branch
exists or when a file it would write has uncommitted changes; other
uncommitted work, staged or not, stays uncommitted.`,
		Example: `  composeopt plan && composeopt apply
  composeopt apply --skip healthcheck
  composeopt apply --branch composeopt/migrate --pr-body pr.md
  gh pr create --title "$(head -1 pr.md | sed 's/^# //')" --body-file pr.md
  composeopt apply --pr-body pr.md --verify-json verify.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateAnsi(g); err != nil {
				return err
			}
			if err := ao.validate(); err != nil {
				return err
			}
			// The lock and journal live in the project directory (with -r,
			// the directory searched); an interrupted apply is recovered
			// before the plan reads the files.
			var (
				dir string
				p   *compose.Project
				pf  *prefetch
				err error
			)
			if g.recursive {
				if dir, err = recursiveRoot(g); err != nil {
					return err
				}
			} else {
				if p, pf, err = g.loadPrefetching(cmd.Context(), args, rf.options); err != nil {
					return err
				}
				// Closed by planFor; on the paths that do not reach it, here.
				defer pf.close()
				dir = p.Dir
			}
			st, err := openState(cmd, dir)
			if err != nil {
				return err
			}
			defer st.Close()
			recovered, err := recoverState(cmd, st)
			if err != nil {
				return err
			}
			var plan *migrate.Plan
			if g.recursive || recovered {
				// Recovery changed the files: load them again.
				plan, err = makePlan(cmd, g, &rf, args)
			} else {
				plan, err = planFor(cmd, p, &rf, pf)
			}
			if err != nil {
				return err
			}
			printSummary(cmd.ErrOrStderr(), plan, g.color(cmd.ErrOrStderr()), g.verbose)
			return applyPlan(cmd, plan, &ao, st)
		},
	}
	rf.register(cmd)
	ao.register(cmd.Flags())
	return cmd
}

// openState takes the project's apply lock.
func openState(cmd *cobra.Command, dir string) (*changeset.State, error) {
	st, err := changeset.OpenState(dir)
	if err != nil {
		return nil, fmt.Errorf("nothing was written: %w", err)
	}
	return st, nil
}

// recoverState completes or rolls back an interrupted apply, saying which.
func recoverState(cmd *cobra.Command, st *changeset.State) (bool, error) {
	rec, err := st.Recover()
	if err != nil {
		return false, err
	}
	if rec == nil {
		return false, nil
	}
	fmt.Fprintln(cmd.ErrOrStderr(), rec)
	return true, nil
}

func newRecoverCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "recover",
		Short: "Complete or roll back an apply that was killed",
		Long: `recover looks for the journal an interrupted composeopt apply leaves in
.composeopt/ at the project root. If the apply had started renaming files
into place and every file can still reach its new content, it completes
the apply; otherwise it restores every file to the content it had before,
removes the files the apply created, and says which it did. A file changed
by someone after the interruption is left as it is and named. Temporary
files, backups and the journal are removed. composeopt apply does the
same before it plans.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := g.projectDir
			if p, err := g.load(cmd.Context(), nil); err == nil {
				dir = p.Dir
			} else if dir == "" {
				return fmt.Errorf("finding the project: %w (use --project-directory)", err)
			}
			st, err := openState(cmd, dir)
			if err != nil {
				return err
			}
			defer st.Close()
			recovered, err := recoverState(cmd, st)
			if err == nil && !recovered {
				fmt.Fprintln(cmd.ErrOrStderr(), "Nothing to recover.")
			}
			return err
		},
	}
}
