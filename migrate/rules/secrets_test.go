package rules

import (
	"strings"
	"testing"
)

// TestSecretsNeverPrintValues checks that findings name variables and
// files, never their values.
func TestSecretsNeverPrintValues(t *testing.T) {
	src := "FROM alpine:3.20\nARG API_KEY=sk-live-0000\nENV DB_PASSWORD=hunter2 DSN=mysql://u:pa55w0rd@db/x\nRUN curl -H 'x: AKIAABCDEFGHIJKLMNOP' https://e\n"
	res, err := Apply([]byte(src), factsWith(nil), []*Rule{Secrets}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 4 {
		t.Errorf("want 4 findings, got %+v", res.Findings)
	}
	for _, f := range res.Findings {
		if !f.NeedsHuman {
			t.Errorf("not marked for a human: %+v", f)
		}
		for _, v := range []string{"sk-live-0000", "hunter2", "pa55w0rd", "AKIAABCDEFGHIJKLMNOP"} {
			if strings.Contains(f.Message, v) {
				t.Errorf("finding prints a secret value: %s", f.Message)
			}
		}
	}
}

// TestSecretsValueKinds finds each kind of credential in a value shaped
// like it (fake values), so a hint that does not hold for its regexp
// (the regexp would then never run) fails here.
func TestSecretsValueKinds(t *testing.T) {
	samples := map[string]string{
		"an AWS access key":     "ASIAABCDEFGHIJKLMNOP",
		"a GitHub token":        "github_pat_" + strings.Repeat("a1", 21),
		"a GitLab token":        "glpat-" + strings.Repeat("x", 20),
		"an npm token":          "npm_" + strings.Repeat("A", 36),
		"a Slack token":         "xoxb-1234567890-abc",
		"a Stripe key":          "rk_live_" + strings.Repeat("9", 16),
		"a Google API key":      "AIza" + strings.Repeat("_", 35),
		"a private key":         "-----BEGIN EC PRIVATE KEY-----",
		"a JSON web token":      "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJl",
		"a URL with a password": "git+https://user:pa55@host/repo",
	}
	if len(samples) != len(secretsValues) {
		t.Fatalf("%d samples for %d kinds", len(samples), len(secretsValues))
	}
	for _, v := range secretsValues {
		value, ok := samples[v.kind]
		if !ok {
			t.Errorf("no sample of %s", v.kind)
			continue
		}
		src := "FROM alpine:3.20\nRUN echo '" + value + "' > /x\n"
		res, err := Apply([]byte(src), factsWith(nil), []*Rule{Secrets}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message, v.kind) {
			t.Errorf("%s: findings %+v", v.kind, res.Findings)
		}
	}
}
