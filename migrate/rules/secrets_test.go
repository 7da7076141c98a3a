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

func TestSecretsLint(t *testing.T) {
	applyGated(t, []*Rule{Secrets}, "FROM node:20-alpine\nARG NPM_TOKEN\nRUN npm ci\n", factsWith(nil))
}

func TestSecretsHarmless(t *testing.T) {
	for _, src := range []string{
		"FROM python:3.12\nENV PASSWORD_FILE=/run/secrets/db GPG_KEY=abc TOKENIZERS_PARALLELISM=false MAX_TOKENS=10 PWD=/app NEXT_PUBLIC_API_KEY=pk AWS_ACCESS_KEY_ID=x\nARG PASS\n",
		"FROM alpine:3.20\nCOPY .env.example /app/\nCOPY --from=build /app/.env /x\nCOPY . .\n",
		"FROM alpine:3.20\nRUN git clone https://oauth2:${GIT_PAT}@gitlab.com/o/r\nENV AUTH_URL=https://auth.example.com/token\n",
	} {
		res, err := Apply([]byte(src), factsWith(nil), []*Rule{Secrets}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 0 {
			t.Errorf("unexpected findings for\n%s%+v", src, res.Findings)
		}
	}
}
