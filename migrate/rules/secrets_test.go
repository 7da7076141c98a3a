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
