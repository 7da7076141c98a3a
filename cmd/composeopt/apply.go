package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/migrate/changeset"
)

func newApplyCmd(g *globals) *cobra.Command {
	var rf ruleFlags
	cmd := &cobra.Command{
		Use:   "apply [OPTIONS] [SERVICE...]",
		Short: "Write the migration: optimized Dockerfiles, ignore files and compose edits",
		Long: `apply computes the same change set as plan and writes it, all files or none:
each file goes to a temporary file beside it and is renamed into place; if
any step fails, the files already written are restored. The original
Dockerfiles are never modified. Nothing is written when a file changed
since it was read.`,
		Example: `  composeopt plan && composeopt apply
  composeopt apply --skip healthcheck`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateAnsi(g); err != nil {
				return err
			}
			plan, err := makePlan(cmd, g, &rf, args)
			if err != nil {
				return err
			}
			printSummary(cmd.ErrOrStderr(), plan, g.color(cmd.ErrOrStderr()))
			written, err := plan.Changes.Apply(changeset.ApplyOptions{})
			if err != nil {
				return fmt.Errorf("nothing was written: %w", err)
			}
			for _, p := range written {
				if r, err := filepath.Rel(plan.Project.Dir, p); err == nil {
					p = filepath.ToSlash(r)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", p)
			}
			return nil
		},
	}
	rf.register(cmd)
	return cmd
}
