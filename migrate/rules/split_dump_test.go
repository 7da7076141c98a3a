package rules

import (
	"os"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

func splitDump(t *testing.T, cases []splitCase) {
	for _, c := range cases {
		fb := splitContext(t, c.files, c.services)
		res, err := Apply([]byte(c.in), fb, []*Rule{MultiStage}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		var fs []string
		f0, _ := dockerfile.Parse([]byte(c.in))
		p0 := &Pass{File: f0, Facts: fb, Options: DefaultOptions(), rule: MultiStage}
		MultiStage.Run(p0)
		for _, f := range append(p0.findings, res.Findings...) {
			fs = append(fs, f.Message)
		}
		// also findings of first pass
		os.Stdout.WriteString("=== " + c.name + "\n" + string(res.Output) + "--- findings: ")
		for _, f := range fs {
			os.Stdout.WriteString(f + " | ")
		}
		os.Stdout.WriteString("\n")
	}
}
