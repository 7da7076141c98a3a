package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/report"
)

// TestApplyBranchPRBody is the acceptance test: on the matrix-studio
// fixture in a git repository with unrelated uncommitted work, apply
// --branch commits exactly the change set on a new branch, writes the
// pull-request description, and leaves the user's work uncommitted; check
// fails before and passes after.
func TestApplyBranchPRBody(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	gitRepoFixture(t, dir)
	mainHead := git(t, dir, "rev-parse", "HEAD")

	// Unrelated work: an unstaged edit, a staged edit, an untracked file.
	appendFile(t, filepath.Join(dir, "matrix-studio/backend/app.py"), "\n# unstaged edit\n")
	appendFile(t, filepath.Join(dir, "matrix-studio/docs/architecture.md"), "\nStaged edit.\n")
	git(t, dir, "add", "matrix-studio/docs/architecture.md")
	writeFile(t, filepath.Join(dir, "notes.txt"), "scratch\n")

	out, errOut, code := composeopt(t, dir, "check")
	if code != 1 {
		t.Fatalf("check before apply exited %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"stage-server: error: ", "flask-backend, worker: error: ", "Check failed: 2 builds are not migrated"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	planJSON, errOut, code := composeopt(t, dir, "plan", "--format", "json")
	if code != 0 {
		t.Fatalf("plan --format json exited %d: %s", code, errOut)
	}
	validatePlanJSON(t, []byte(planJSON))
	var doc report.Document
	if err := json.Unmarshal([]byte(planJSON), &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range doc.Files {
		want = append(want, f.Path)
	}
	if len(want) == 0 {
		t.Fatal("the plan changes nothing")
	}

	out, errOut, code = composeopt(t, dir, "apply", "--branch", "composeopt/migrate", "--pr-body", "pr.md")
	if code != 0 {
		t.Fatalf("apply exited %d:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "on new branch composeopt/migrate") || !strings.Contains(out, "wrote pr.md") {
		t.Errorf("apply output:\n%s", out)
	}

	if b := strings.TrimSpace(git(t, dir, "rev-parse", "--abbrev-ref", "HEAD")); b != "composeopt/migrate" {
		t.Errorf("checked-out branch = %s", b)
	}
	if n := strings.TrimSpace(git(t, dir, "rev-list", "--count", "main..composeopt/migrate")); n != "1" {
		t.Errorf("%s commits on the branch, want 1", n)
	}
	if h := git(t, dir, "rev-parse", "main"); h != mainHead {
		t.Errorf("main moved")
	}
	got := strings.Fields(git(t, dir, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"))
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the commit holds %v, want the change set %v", got, want)
	}
	subject := strings.TrimSpace(git(t, dir, "log", "-1", "--format=%s"))
	if subject != "composeopt: optimized Dockerfiles for stage-server, flask-backend and worker" {
		t.Errorf("commit subject = %q", subject)
	}
	if body := git(t, dir, "log", "-1", "--format=%b"); !strings.Contains(body, "- flask-backend, worker: matrix-studio/Dockerfile.python.optimized (") {
		t.Errorf("commit body:\n%s", body)
	}

	status := git(t, dir, "status", "--porcelain")
	for _, want := range []string{" M matrix-studio/backend/app.py", "M  matrix-studio/docs/architecture.md", "?? notes.txt", "?? pr.md"} {
		if !strings.Contains(status, want+"\n") {
			t.Errorf("git status lacks %q:\n%s", want, status)
		}
	}
	if lines := strings.Count(status, "\n"); lines != 4 {
		t.Errorf("git status has %d lines, want 4:\n%s", lines, status)
	}

	pr, err := os.ReadFile(filepath.Join(dir, "pr.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# composeopt: optimized Dockerfiles for stage-server, flask-backend and worker\n",
		"| Service | Dockerfile | Base image | Rules applied |",
		"| **stage-server** | `matrix-studio/web/stage/Dockerfile` → `Dockerfile.optimized` | `node:",
		"| **flask-backend** | `matrix-studio/Dockerfile.python` → `Dockerfile.python.optimized` | `python:",
		"| **redis** | — | — | not migrated: image-only service (no build:) |",
		"<details>",
		"## Needs a human\n",
		"## Reviewer checklist\n",
		"- [ ] Deploy to staging first",
	} {
		if !strings.Contains(string(pr), want) {
			t.Errorf("pr.md lacks %q:\n%s", want, pr)
		}
	}

	out, errOut, code = composeopt(t, dir, "check")
	if code != 0 {
		t.Errorf("check after apply exited %d:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "Check passed: 2 of 2 builds migrated") {
		t.Errorf("check output:\n%s", out)
	}
	if out, _, code := composeopt(t, dir, "plan", "--exit-code"); code != 0 || out != "" {
		t.Errorf("plan after apply exited %d:\n%s", code, out)
	}
}

// TestApplyBranchRefuses checks that every refusal leaves the files, the
// index and the branches exactly as they were.
func TestApplyBranchRefuses(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string
		want  string
	}{
		{
			name: "modified compose file",
			setup: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "docker-compose.yml"), "# local tweak\n")
			},
			want: "docker-compose.yml (modified)",
		},
		{
			name: "staged compose file",
			setup: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "docker-compose.yml"), "# local tweak\n")
				git(t, dir, "add", "docker-compose.yml")
			},
			want: "docker-compose.yml (staged)",
		},
		{
			name: "untracked optimized file",
			setup: func(t *testing.T, dir string) {
				// A generated file (composeopt would replace it) that git does not track.
				writeFile(t, filepath.Join(dir, "matrix-studio/web/stage/Dockerfile.optimized"), dockerfile.HeaderLine("Dockerfile", nil)+"\nFROM scratch\n")
			},
			want: "matrix-studio/web/stage/Dockerfile.optimized (untracked)",
		},
		{
			name:  "branch exists",
			setup: func(t *testing.T, dir string) { git(t, dir, "branch", "composeopt/migrate") },
			want:  "branch composeopt/migrate already exists",
		},
		{
			name: "invalid branch name",
			args: []string{"apply", "--branch", "bad..name"},
			want: `--branch "bad..name" is not a valid branch name`,
		},
		{
			name: "commit message without branch",
			args: []string{"apply", "--commit-message", "x"},
			want: "--commit-message needs --branch",
		},
		{
			name: "pr body in a missing directory",
			args: []string{"apply", "--branch", "b", "--pr-body", "nowhere/pr.md"},
			want: "--pr-body nowhere/pr.md",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := fixture(t, "matrix-studio")
			gitRepoFixture(t, dir)
			appendFile(t, filepath.Join(dir, "matrix-studio/backend/app.py"), "\n# unrelated\n")
			if c.setup != nil {
				c.setup(t, dir)
			}
			beforeTree := tree(t, dir)
			beforeStatus := git(t, dir, "status", "--porcelain")
			beforeRefs := git(t, dir, "show-ref")
			args := c.args
			if args == nil {
				args = []string{"apply", "--branch", "composeopt/migrate", "--pr-body", "pr.md"}
			}
			_, errOut, code := composeopt(t, dir, args...)
			if code != 1 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, want 1 with %q:\n%s", code, c.want, errOut)
			}
			if tree(t, dir) != beforeTree {
				t.Errorf("files changed")
			}
			if s := git(t, dir, "status", "--porcelain"); s != beforeStatus {
				t.Errorf("git status changed:\n%s\nwas:\n%s", s, beforeStatus)
			}
			if r := git(t, dir, "show-ref"); r != beforeRefs {
				t.Errorf("refs changed:\n%s\nwere:\n%s", r, beforeRefs)
			}
			if b := strings.TrimSpace(git(t, dir, "rev-parse", "--abbrev-ref", "HEAD")); b != "main" {
				t.Errorf("checked-out branch = %s", b)
			}
		})
	}
}

func TestApplyBranchNotARepository(t *testing.T) {
	gitEnv(t)
	dir := fixture(t, "matrix-studio")
	// Keep git from finding a repository above the temporary directory.
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	before := tree(t, dir)
	_, errOut, code := composeopt(t, dir, "apply", "--branch", "x")
	if code != 1 || !strings.Contains(errOut, "is not inside a git work tree") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
	if tree(t, dir) != before {
		t.Errorf("files changed")
	}
}

// TestApplyBranchCommitFails: a pre-commit hook that fails leaves the
// change set written on the new branch, and the error says so.
func TestApplyBranchCommitFails(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	gitRepoFixture(t, dir)
	hook := filepath.Join(dir, ".git", "hooks", "pre-commit")
	if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := composeopt(t, dir, "apply", "--branch", "composeopt/migrate", "--pr-body", "pr.md")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, errOut)
	}
	for _, want := range []string{"hook says no", "the commit failed", "State: branch composeopt/migrate is checked out (created from main, no new commit)", "git commit --only -- ", "git checkout main && git branch -D composeopt/migrate"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if b := strings.TrimSpace(git(t, dir, "rev-parse", "--abbrev-ref", "HEAD")); b != "composeopt/migrate" {
		t.Errorf("checked-out branch = %s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "matrix-studio/web/stage/Dockerfile.optimized")); err != nil {
		t.Errorf("the change set is not written: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pr.md")); err != nil {
		t.Errorf("pr.md is not written: %v", err)
	}
}

func TestApplyBranchCommitMessage(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	gitRepoFixture(t, dir)
	// Detached HEAD works too.
	git(t, dir, "checkout", "-q", "--detach")
	if _, errOut, code := composeopt(t, dir, "apply", "--branch", "opt", "--commit-message", "Optimize Dockerfiles\n\nBy composeopt."); code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	if msg := git(t, dir, "log", "-1", "--format=%B"); strings.TrimSpace(msg) != "Optimize Dockerfiles\n\nBy composeopt." {
		t.Errorf("message = %q", msg)
	}
	// Nothing left to commit: no branch.
	_, errOut, code := composeopt(t, dir, "apply", "--branch", "again")
	if code != 0 || !strings.Contains(errOut, "Nothing to commit: branch again was not created.") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
	if out := git(t, dir, "branch", "--list", "again"); out != "" {
		t.Errorf("branch created: %s", out)
	}
}

func TestUndoBranch(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	gitRepoFixture(t, dir)
	writeFile(t, filepath.Join(dir, "notes.txt"), "scratch\n")
	r, err := openRepo(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev, detached, err := r.head()
	if err != nil || prev != "main" || detached {
		t.Fatalf("head = %q %v %v", prev, detached, err)
	}
	if err := r.createBranch("tmp"); err != nil {
		t.Fatal(err)
	}
	if err := r.undoBranch("tmp", prev, detached); err != nil {
		t.Fatal(err)
	}
	if b := strings.TrimSpace(git(t, dir, "rev-parse", "--abbrev-ref", "HEAD")); b != "main" {
		t.Errorf("HEAD = %s", b)
	}
	if out := git(t, dir, "branch", "--list", "tmp"); out != "" {
		t.Errorf("branch left: %s", out)
	}
}

func TestPlanFormats(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	verify := filepath.Join(t.TempDir(), "verify.json")
	writeFile(t, verify, `[{"service": "stage-server", "size_before": 450000000, "size_after": 150000000,
		"build_seconds_before": 90, "build_seconds_after": 60, "user": "1000 (node)", "healthy": true}]`)
	out, errOut, code := composeopt(t, dir, "plan", "--format", "markdown", "--verify-json", verify, "--exit-code")
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, errOut)
	}
	if !strings.Contains(out, "| 450.0 MB → 150.0 MB (×0.33) | 1m30s → 1m0s | `1000 (node)` | ✅ healthy |") {
		t.Errorf("markdown lacks the verify cells:\n%s", out)
	}
	if !strings.Contains(errOut, "5 files to create or change.") {
		t.Errorf("no summary on stderr:\n%s", errOut)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--format", "yaml"}, `--format: invalid value "yaml" (want diff, markdown or json)`},
		{[]string{"plan", "--verify-json", verify}, "--verify-json needs --format markdown"},
		{[]string{"plan", "--format", "markdown", "--verify-json", "missing.json"}, "--verify-json: reading verify results"},
		{[]string{"check", "--format", "json"}, `--format: invalid value "json" (want text or sarif)`},
	} {
		if _, errOut, code := composeopt(t, dir, c.args...); code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want 1 with %q:\n%s", c.args, code, c.want, errOut)
		}
	}
}

func TestCheckSARIF(t *testing.T) {
	dir := fixture(t, "matrix-studio")
	gitRepoFixture(t, dir)
	out, errOut, code := composeopt(t, dir, "check", "--format", "sarif")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, errOut)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, r := range log.Runs[0].Results {
		got = append(got, r.RuleID+" "+r.Level+" "+r.Locations[0].PhysicalLocation.ArtifactLocation.URI)
	}
	want := []string{"not-migrated error matrix-studio/web/stage/Dockerfile", "not-migrated error matrix-studio/Dockerfile.python"}
	if !slices.Equal(got, want) {
		t.Errorf("results = %q, want %q", got, want)
	}
}

// TestNoSecretValuesInReports: a project full of credentials; the review
// outputs name the variables but never show a value.
func TestNoSecretValuesInReports(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "compose.yaml"), `services:
  app:
    build: .
    ports: ["8080:8080"]
    environment:
      API_KEY: AKIAIOSFODNN7EXAMPLE
      DATABASE_URL: postgres://app:s3cr3t-db-pass@db/app
`)
	writeFile(t, filepath.Join(dir, "Dockerfile"), `FROM node:20-alpine
ARG DB_PASSWORD=hunter2-very-secret
ENV GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB
ENV PAYMENTS=sk_live_0123456789abcdefABCD
WORKDIR /app
COPY package.json ./
RUN npm install
COPY . .
CMD node server.js
`)
	writeFile(t, filepath.Join(dir, "package.json"), `{"name": "app", "version": "1.0.0", "scripts": {"start": "node server.js"}}`)
	writeFile(t, filepath.Join(dir, "server.js"), `require("http").createServer((q, s) => s.end("ok")).listen(8080)`)
	values := []string{"AKIAIOSFODNN7EXAMPLE", "s3cr3t-db-pass", "hunter2-very-secret", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "sk_live_0123456789abcdefABCD"}

	outputs := map[string]string{}
	for name, args := range map[string][]string{
		"markdown": {"plan", "--format", "markdown"},
		"json":     {"plan", "--format", "json"},
		"check":    {"check"},
		"sarif":    {"check", "--format", "sarif"},
	} {
		out, errOut, _ := composeopt(t, dir, args...)
		outputs[name] = out
		outputs[name+" stderr"] = errOut
	}
	if _, errOut, code := composeopt(t, dir, "apply", "--pr-body", "pr.md"); code != 0 {
		t.Fatalf("apply: %s", errOut)
	}
	pr, err := os.ReadFile(filepath.Join(dir, "pr.md"))
	if err != nil {
		t.Fatal(err)
	}
	outputs["pr.md"] = string(pr)
	for name, out := range outputs {
		for _, v := range values {
			if strings.Contains(out, v) {
				t.Errorf("%s shows the secret value %q", name, v)
			}
		}
	}
	// The secrets rule names the variables for the reviewer.
	if strings.Contains(outputs["markdown"], "## Needs a human\n\nNothing") {
		t.Errorf("no needs-a-human item for the secrets:\n%s", outputs["markdown"])
	}
	for _, name := range []string{"DB_PASSWORD", "GITHUB_TOKEN"} {
		if !strings.Contains(outputs["markdown"], name) {
			t.Errorf("markdown does not name %s:\n%s", name, outputs["markdown"])
		}
	}
}

// TestNeedsHumanItems: what composeopt cannot decide reaches the "Needs a
// human" list of the description: a dockerfile: from a variable, a :latest
// base image, a privileged port with network_mode: host (on a bridge
// network it is no obstacle to a non-root user).
func TestNeedsHumanItems(t *testing.T) {
	dir := t.TempDir()
	// Set in the shell: only a person knows where to change it.
	t.Setenv("WEB_DOCKERFILE", "Dockerfile")
	writeFile(t, filepath.Join(dir, "compose.yaml"), `services:
  web:
    build: .
    network_mode: host
  dynamic:
    build:
      context: .
      dockerfile: ${WEB_DOCKERFILE:-Dockerfile}
`)
	writeFile(t, filepath.Join(dir, "Dockerfile"), `FROM node:latest
WORKDIR /app
COPY . .
EXPOSE 80
CMD node server.js
`)
	writeFile(t, filepath.Join(dir, "package.json"), `{"name": "web", "version": "1.0.0"}`)
	writeFile(t, filepath.Join(dir, "server.js"), `require("http").createServer((q, s) => s.end("ok")).listen(80)`)
	out, errOut, code := composeopt(t, dir, "plan", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	_, humans, ok := strings.Cut(out, "## Needs a human\n")
	if !ok {
		t.Fatalf("no Needs a human section:\n%s", out)
	}
	humans, _, _ = strings.Cut(humans, "## Reviewer checklist")
	for _, want := range []string{"- [ ] **dynamic**: dockerfile: is set from ${WEB_DOCKERFILE:-Dockerfile}, which comes from the shell environment", ":latest", "port 80"} {
		if !strings.Contains(humans, want) {
			t.Errorf("Needs a human lacks %q:\n%s", want, humans)
		}
	}
	if !strings.Contains(out, "- [ ] Settle every item under \"Needs a human\" above.") {
		t.Errorf("the checklist does not point at the items")
	}
	// check warns about the service to migrate by hand.
	out, _, _ = composeopt(t, dir, "check")
	if !strings.Contains(out, "dynamic: warning: service dynamic must be migrated by hand") {
		t.Errorf("check output:\n%s", out)
	}
}
