package rules

import (
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/gate"
)

// ruleCase is one table row: a Dockerfile in, the expected Dockerfile out.
type ruleCase struct {
	name string
	in   string
	want string // "" means unchanged
	// findings are substrings expected among the findings' messages.
	findings []string
	facts    *facts.Build
}

// runCases applies a single rule to each case and checks output, findings
// and idempotence (the rule applied to its own output changes nothing).
func runCases(t *testing.T, r *Rule, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := c.facts
			if fb == nil {
				fb = &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app"}}}
			}
			res, err := Apply([]byte(c.in), fb, []*Rule{r}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if want == "" {
				want = c.in
			}
			if got := string(res.Output); got != want {
				t.Errorf("output mismatch\n--- got\n%s\n--- want\n%s", got, want)
			}
			for _, f := range c.findings {
				found := false
				for _, got := range res.Findings {
					found = found || strings.Contains(got.Message, f)
				}
				if !found {
					t.Errorf("no finding containing %q in %+v", f, res.Findings)
				}
			}
			again, err := Apply(res.Output, fb, []*Rule{r}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if string(again.Output) != string(res.Output) || len(again.Applied) != 0 {
				t.Errorf("not idempotent: second run gave\n%s", again.Output)
			}
		})
	}
}

func TestAppliedLines(t *testing.T) {
	src := "FROM alpine:3\nENV A 1\nRUN apk add curl\nCMD run it\n"
	fb := &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app"}}}
	res, err := Apply([]byte(src), fb, []*Rule{EnvKeyValue, PkgCache, ExecForm}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"env-key-value": {2}, "pkg-cache": {3}, "exec-form": {4}}
	for id, lines := range want {
		if got := res.Lines[id]; len(got) != len(lines) || got[0] != lines[0] {
			t.Errorf("%s: lines %v, want %v", id, got, lines)
		}
	}
}

// applyGated applies the rules to src and fails unless the output passes the
// planner's own quality gate (no new BuildKit warning, LLB conversion for
// every compose target).
func applyGated(t *testing.T, rs []*Rule, src string, fb *facts.Build) string {
	t.Helper()
	res, err := Apply([]byte(src), fb, rs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gate.Check("Dockerfile.optimized", []byte(src), res.Output, fb.Targets(), nil); err != nil {
		t.Errorf("%v\n%s", err, res.Output)
	}
	return string(res.Output)
}

// factsWith returns build facts with the given context files and services.
func factsWith(files []string, svcs ...facts.Service) *facts.Build {
	fb := &facts.Build{Files: map[string]bool{}, Services: svcs}
	for _, f := range files {
		fb.Files[f] = true
	}
	if len(svcs) == 0 {
		fb.Services = []facts.Service{{Name: "app"}}
	}
	return fb
}
