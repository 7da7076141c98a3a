package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/composeopt/composeopt/migrate/report"
	"github.com/composeopt/composeopt/migrate/rules"
)

func newRulesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the optimization rules with their IDs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTITLE")
			for _, r := range rules.All() {
				fmt.Fprintf(tw, "%s\t%s\n", r.ID, r.Title)
			}
			return tw.Flush()
		},
	}
}

func newExplainCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "explain RULE",
		Short:   "Explain what a rule changes and why",
		Example: "  composeopt explain pkg-cache",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := rules.Lookup(args[0])
			if r == nil {
				return fmt.Errorf("unknown rule %q (see `composeopt rules`)", args[0])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n\n%s\n", r.ID, r.Title, report.Wrap(r.Doc, 78))
			return nil
		},
	}
}
