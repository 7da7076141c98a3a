package main

import (
	"github.com/spf13/cobra"
)

func newApplyCmd(g *globals) *cobra.Command {
	var rf ruleFlags
	var ao applyOptions
	cmd := &cobra.Command{
		Use:   "apply [OPTIONS] [SERVICE...]",
		Short: "Write the migration: optimized Dockerfiles, ignore files and compose edits",
		Long: `apply computes the same change set as plan and writes it, all files or none:
each file goes to a temporary file beside it and is renamed into place; if
any step fails, the files already written are restored. The original
Dockerfiles are never modified. Nothing is written when a file changed
since it was read.

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
			plan, err := makePlan(cmd, g, &rf, args)
			if err != nil {
				return err
			}
			printSummary(cmd.ErrOrStderr(), plan, g.color(cmd.ErrOrStderr()))
			return applyPlan(cmd, plan, &ao)
		},
	}
	rf.register(cmd)
	ao.register(cmd.Flags())
	return cmd
}
