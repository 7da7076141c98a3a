package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	runCases(t, Secrets, []ruleCase{
		{name: "arg token", in: "FROM node:20-alpine\nARG NPM_TOKEN\nRUN npm ci\n", findings: []string{"ARG NPM_TOKEN looks like a secret", "--mount=type=secret,id=npm_token"}},
		{name: "env password", in: "FROM postgres:16\nENV POSTGRES_PASSWORD=hunter2\n", findings: []string{"ENV POSTGRES_PASSWORD looks like a secret"}},
		{name: "camel case and global arg", in: "ARG githubApiKey\nFROM alpine:3.20\n", findings: []string{"ARG githubApiKey"}},
		{name: "legacy env", in: "FROM debian:bookworm\nENV AWS_SECRET_ACCESS_KEY abc\n", findings: []string{"ENV AWS_SECRET_ACCESS_KEY"}},
		{name: "literal value under a plain name", in: "FROM alpine:3.20\nENV DATABASE_URL=postgres://app:s3cr3t@db:5432/app\n", findings: []string{"ENV DATABASE_URL contains what looks like a URL with a password"}},
		{name: "token in a RUN", in: "FROM alpine:3.20\nRUN git clone https://x:ghp_0123456789abcdefghijABCDEFGHIJ0123456789@github.com/o/r\n", findings: []string{"RUN contains what looks like"}},
		{name: "copied files", in: "FROM alpine:3.20\nCOPY .env /app/.env\nCOPY certs/server.pem /etc/ssl/\nADD id_rsa /root/.ssh/\n", findings: []string{"copies .env (an environment file)", "copies certs/server.pem", "ADD copies id_rsa (an SSH private key)"}},
		{name: "harmless names", in: "FROM python:3.12\nENV PASSWORD_FILE=/run/secrets/db GPG_KEY=abc TOKENIZERS_PARALLELISM=false MAX_TOKENS=10 PWD=/app NEXT_PUBLIC_API_KEY=pk AWS_ACCESS_KEY_ID=x\nARG PASS\nCOPY .env.example /app/\nCOPY --from=build /app/.env /x\n"},
		{name: "variable reference in url", in: "FROM alpine:3.20\nRUN git clone https://oauth2:${GIT_PAT}@gitlab.com/o/r\n"},
		{name: "lower case crlf", in: "from alpine:3.20\r\narg db_password\r\n", findings: []string{"ARG db_password"}},
	})
}

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

func TestSecretsNpmrc(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".npmrc"), []byte("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "ci"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ci", ".npmrc"), []byte("//registry.npmjs.org/:_authToken=npm_abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fb := factsWith(nil)
	fb.Context = dir
	runCases(t, Secrets, []ruleCase{
		{name: "token from the environment", in: "FROM node:20\nCOPY .npmrc ./\n", facts: fb},
		{name: "literal token", in: "FROM node:20\nCOPY ci/.npmrc ./\n", facts: fb, findings: []string{"npm configuration with a literal auth token"}},
	})
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
