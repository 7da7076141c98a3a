package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/rules"
	"github.com/composeopt/composeopt/migrate/verify"
)

// samplePlan is a plan with one build to migrate, one already migrated,
// one that failed, an image-only service and a service that needs a human.
func samplePlan(t *testing.T) *migrate.Plan {
	t.Helper()
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, filepath.FromSlash(s)) }
	project := &compose.Project{
		Name:  "demo",
		Dir:   dir,
		Files: []string{p("compose.yaml")},
		Services: []*compose.Service{
			{Name: "web"}, {Name: "api"}, {Name: "jobs"}, {Name: "legacy"}, {Name: "cache"}, {Name: "dynamic"},
		},
		Skipped: []compose.Skip{
			{Service: "cache", Reason: "image-only service (no build:)"},
			{Service: "dynamic", Reason: "dockerfile: is set from ${APP_DOCKERFILE}; point it at the optimized file by hand", NeedsHuman: true},
		},
		Warnings: []string{"variable UNSET is not set; an empty string is used"},
	}
	web := &compose.Build{Context: p("web"), Dockerfile: p("web/Dockerfile"), Current: p("web/Dockerfile"), Services: []string{"web"}}
	api := &compose.Build{Context: p("api"), Dockerfile: p("api/Dockerfile"), Current: p("api/Dockerfile.optimized"), Services: []string{"api", "jobs"}}
	legacy := &compose.Build{Context: p("legacy"), Dockerfile: p("legacy/Dockerfile"), Current: p("legacy/Dockerfile"), Services: []string{"legacy"}}
	plan := &migrate.Plan{
		Project:  project,
		Warnings: project.Warnings,
		Builds: []*migrate.BuildPlan{
			{
				Build: web, Optimized: p("web/Dockerfile.optimized"), IgnoreFile: p("web/.dockerignore"),
				BaseImage: "node:latest", Status: migrate.StatusMigrate,
				Applied: []string{"exec-form", "pkg-cache"},
				Lines:   map[string][]int{"exec-form": {12}, "pkg-cache": {5, 4}},
				Findings: []rules.Finding{
					{Rule: "hygiene", Line: 2, Message: "base image node:latest uses :latest, which changes whenever it is republished; pin a version tag (or a digest)", NeedsHuman: true},
					{Rule: "secrets", Line: 7, Message: "ENV API_TOKEN looks like a secret: set it at run time", NeedsHuman: true},
					{Rule: "non-root-user", Line: 14, Message: "runs as node"},
				},
				Ignored: []string{".git", "node_modules"},
			},
			{
				Build: api, Optimized: p("api/Dockerfile.optimized"), IgnoreFile: p("api/.dockerignore"),
				BaseImage: "python:3.12-slim", Status: migrate.StatusUpToDate, Applied: []string{"pkg-cache"},
				Lines: map[string][]int{"pkg-cache": {3}},
			},
			{
				Build: legacy, Optimized: p("legacy/Dockerfile.optimized"), Status: migrate.StatusFailed,
				Reason: "legacy/Dockerfile: unknown instruction: FORM",
			},
		},
	}
	for _, f := range []changeset.File{
		{Path: p("web/Dockerfile.optimized"), New: []byte("FROM node:latest\n")},
		{Path: p("web/.dockerignore"), New: []byte(".git\n")},
		{Path: p("compose.yaml"), Old: []byte("old"), New: []byte("new"), Exists: true},
		{Path: p("api/Dockerfile.optimized"), Old: []byte("same"), New: []byte("same"), Exists: true},
	} {
		if err := plan.Changes.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	return plan
}

// validatePlanJSON checks data against plan.schema.json.
func validatePlanJSON(t *testing.T, data []byte) {
	t.Helper()
	if err := ValidatePlanJSON(data); err != nil {
		t.Errorf("%v\n%s", err, data)
	}
}

func TestJSONMatchesSchema(t *testing.T) {
	doc := New(samplePlan(t))
	out, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	validatePlanJSON(t, out)

	var got Document
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != 1 {
		t.Errorf("schema_version = %d", got.SchemaVersion)
	}
	// Only changed files, sorted, relative; hashes of the content.
	var paths []string
	for _, f := range got.Files {
		paths = append(paths, f.Path+":"+f.Action)
	}
	if want := "compose.yaml:modify web/.dockerignore:create web/Dockerfile.optimized:create"; strings.Join(paths, " ") != want {
		t.Errorf("files = %v, want %s", paths, want)
	}
	if f := got.Files[0]; f.OldSHA256 == nil || *f.OldSHA256 != sha([]byte("old")) || f.NewSHA256 != sha([]byte("new")) {
		t.Errorf("compose.yaml hashes = %+v", f)
	}
	if got.Files[1].OldSHA256 != nil {
		t.Errorf("a created file has an old hash")
	}
	web := got.Builds[0]
	if web.Rules[1].ID != "pkg-cache" || web.Rules[1].Title == "" || len(web.Rules[1].Lines) != 2 || web.Rules[1].Lines[0] != 4 {
		t.Errorf("rules = %+v", web.Rules)
	}
	if got.Builds[2].Optimized != nil {
		t.Errorf("a failed build has an optimized path")
	}
	if s := got.Summary; s.Files != 3 || s.Builds.Migrate != 1 || s.Builds.UpToDate != 1 || s.Builds.Failed != 1 ||
		s.Services.Migrate != 1 || s.Services.UpToDate != 2 || s.Services.Skipped != 2 || s.Services.Failed != 1 || s.NeedsHuman != 4 {
		t.Errorf("summary = %+v", s)
	}
	if got.Services[1].Build == nil || *got.Services[1].Build != 1 || got.Services[4].Build != nil {
		t.Errorf("services = %+v", got.Services)
	}
}

// TestSchemaRejects guards the schema itself: it must not accept anything.
func TestSchemaRejects(t *testing.T) {
	out, err := New(samplePlan(t)).JSON()
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"wrong version":   func(m map[string]any) { m["schema_version"] = 2 },
		"unknown status":  func(m map[string]any) { m["builds"].([]any)[0].(map[string]any)["status"] = "done" },
		"missing files":   func(m map[string]any) { delete(m, "files") },
		"create with old": func(m map[string]any) { m["files"].([]any)[1].(map[string]any)["old_sha256"] = sha(nil) },
		"bad hash":        func(m map[string]any) { m["files"].([]any)[0].(map[string]any)["new_sha256"] = "xyz" },
	} {
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		data, _ := json.Marshal(m)
		if ValidatePlanJSON(data) == nil {
			t.Errorf("%s: schema accepts it", name)
		}
	}
}

func TestMarkdown(t *testing.T) {
	doc := New(samplePlan(t))
	md := string(doc.Markdown(MarkdownOptions{}))
	for _, want := range []string{
		"# composeopt: optimized Dockerfiles for web\n",
		"| **web** | `web/Dockerfile` → `Dockerfile.optimized` | `node:latest` | `exec-form` Use exec form",
		"| **api** | `api/Dockerfile` → `Dockerfile.optimized` | `python:3.12-slim` | already migrated |",
		"| **legacy** | `legacy/Dockerfile` | — | not migrated: legacy/Dockerfile: unknown instruction: FORM |",
		"| **cache** | — | — | not migrated: image-only service (no build:) |",
		"<details>\n<summary><b>web</b>: <code>web/Dockerfile.optimized</code> (2 rules)</summary>",
		"- `pkg-cache` (lines 4–5): Package indexes and downloaded archives are only needed while packages install; left in a layer they add megabytes to every pull and can never be removed by a later RUN.\n",
		"## Needs a human",
		"- [ ] **dynamic**: dockerfile: is set from ${APP_DOCKERFILE}",
		"- [ ] **web** `web/Dockerfile.optimized:2`: base image node:latest uses :latest",
		"- [ ] **legacy** `legacy/Dockerfile`: not migrated: legacy/Dockerfile: unknown instruction: FORM",
		"`web/Dockerfile.optimized:7`: ENV API_TOKEN looks like a secret",
		"## Reviewer checklist",
		"Settle every item under \"Needs a human\"",
		"`docker compose build web`",
		"Point CI jobs and scripts that run `docker build -f` at the new Dockerfile names (`Dockerfile.optimized`)",
		"Deploy to staging first",
		"It touches 3 files: it creates `web/.dockerignore`, `web/Dockerfile.optimized` and modifies `compose.yaml`.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Image size") {
		t.Errorf("verify columns without verify results")
	}
	// Up-to-date builds have no "why" block.
	if strings.Contains(md, "<code>api/Dockerfile.optimized</code>") {
		t.Errorf("a why block for an up-to-date build")
	}
}

func TestMarkdownVerify(t *testing.T) {
	doc := New(samplePlan(t))
	md := string(doc.Markdown(MarkdownOptions{Verify: []verify.Result{
		{Service: "web", Original: verify.ImageResult{Built: true, Size: 450_000_000, ColdBuild: 200 * time.Second},
			Optimized: verify.ImageResult{Built: true, Size: 180_000_000, ColdBuild: 130 * time.Second}, User: "1000 (node)", Healthy: "healthy"},
		{Service: "api", Optimized: verify.ImageResult{Built: true, Size: 90_000_000}, User: "0", Healthy: "timeout"},
	}}))
	for _, want := range []string{
		"| Service | Dockerfile | Base image | Rules applied | Image size | Build time | User | Health |",
		"| 450.0 MB → 180.0 MB (×0.40) | 3m20s → 2m10s | `1000 (node)` | ✅ healthy |",
		"| 90.0 MB | — | ⚠️ root | ❌ timeout |",
		"| **cache** | — | — | not migrated: image-only service (no build:) | — | — | — | — |",
		// The size chart: only web has both sizes; below the table.
		"|\n\nImage size in MiB per service: original (back bar) and optimized (front bar).\n\n```mermaid\nxychart-beta\n",
		"    x-axis [\"web\"]\n    y-axis \"MiB\" 0 --> 500\n    bar [429.2]\n    bar [171.7]\n```\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Without measurements there is no chart.
	if md := string(doc.Markdown(MarkdownOptions{})); strings.Contains(md, "xychart") {
		t.Errorf("a chart without verify results:\n%s", md)
	}
}

func TestReadVerify(t *testing.T) {
	res, err := ReadVerify(strings.NewReader(`[
		{"service": "a", "size_before": 10, "size_after": 5, "build_seconds_before": 1.5, "build_seconds_after": 1, "user": "app", "healthy": true},
		{"service": "b", "healthy": "unhealthy", "extra": 1},
		{"service": "c", "healthy": null},
		{"service": "d", "healthy": "none"},
		{"service": "e", "original": {"built": true, "size_bytes": 7, "cold_build_ns": 2000000000}, "healthy": false}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 || res[0].Optimized.Size != 5 || res[0].Original.ColdBuild != 1500*time.Millisecond || res[0].Healthy != "healthy" ||
		res[1].Healthy != "unhealthy" || res[2].Healthy != "none" || res[3].Healthy != "none" ||
		res[4].Original.Size != 7 || res[4].Original.ColdBuild != 2*time.Second || res[4].Healthy != "unhealthy" {
		t.Errorf("got %+v", res)
	}
	for _, bad := range []string{`{}`, `[{"size_after": 1}]`, `[{"service": "a", "healthy": 3}]`, `[{"service": "a", "healthy": "maybe"}]`, `[{"service": "a", "size_after": -1}]`} {
		if _, err := ReadVerify(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// What verify --json writes, plan --verify-json reads back unchanged: one
// record type for both.
func TestVerifyRoundTrip(t *testing.T) {
	in := []verify.Result{{
		Service:   "web",
		Original:  verify.ImageResult{Built: true, Image: "a", Size: 100, Layers: 9, ColdBuild: 3 * time.Second, Rebuild: time.Second},
		Optimized: verify.ImageResult{Built: true, Image: "b", Size: 40, Layers: 5, ColdBuild: 2 * time.Second, RebuildDeps: time.Second},
		HTTP:      &verify.HTTPCompare{Port: 80, Path: "/", Original: 200, Optimized: 200, Match: true},
		Healthy:   "healthy", User: "10001", NonRoot: true, Running: true, OK: true,
	}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, flat := range []string{`"size_before":100`, `"size_after":40`, `"build_seconds_before":3`, `"build_seconds_after":2`} {
		if !strings.Contains(string(data), flat) {
			t.Errorf("JSON lacks %s: %s", flat, data)
		}
	}
	out, err := ReadVerify(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n in %+v\nout %+v", in, out)
	}
}

func TestCheck(t *testing.T) {
	doc := New(samplePlan(t))
	items, ok := doc.Check()
	if ok {
		t.Fatal("check passes with a build to migrate")
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Rule+" "+strings.Join(it.Services, ",")+" "+it.Path)
	}
	want := []string{"not-migrated web web/Dockerfile", "cannot-migrate legacy legacy/Dockerfile", "needs-human dynamic compose.yaml"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("items = %q, want %q", got, want)
	}
	if msg := items[0].Message; !strings.Contains(msg, "web/Dockerfile.optimized does not exist") || !strings.Contains(msg, "compose builds it from web/Dockerfile instead of web/Dockerfile.optimized") {
		t.Errorf("message = %s", msg)
	}
	text := string(doc.CheckText(items, ok))
	if !strings.Contains(text, "web: error: ") || !strings.Contains(text, "Check failed: 1 build is not migrated, 2 warnings.") {
		t.Errorf("text:\n%s", text)
	}

	// Without the build to migrate, the check passes with warnings.
	plan := samplePlan(t)
	plan.Builds = plan.Builds[1:]
	plan.Changes = changeset.Set{}
	doc = New(plan)
	items, ok = doc.Check()
	if !ok || len(items) != 2 {
		t.Errorf("ok=%v items=%+v", ok, items)
	}
	if text := string(doc.CheckText(items, ok)); !strings.HasSuffix(text, "Check passed: 1 of 2 builds migrated (1 with nothing to change or not migratable), 2 warnings.\n") {
		t.Errorf("text:\n%s", text)
	}
}

func TestSARIF(t *testing.T) {
	plan := samplePlan(t)
	doc := New(plan)
	items, _ := doc.Check()
	root := filepath.Dir(plan.Project.Dir)
	out, err := doc.SARIF(items, SARIFOptions{Root: root, Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Rules   []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			OriginalURIBaseIDs map[string]struct {
				URI string `json:"uri"`
			} `json:"originalUriBaseIds"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "composeopt" || log.Runs[0].Tool.Driver.Version != "v1.2.3" {
		t.Fatalf("log = %s", out)
	}
	run := log.Runs[0]
	if u := run.OriginalURIBaseIDs["%SRCROOT%"].URI; !strings.HasPrefix(u, "file:///") || !strings.HasSuffix(u, "/") {
		t.Errorf("SRCROOT = %q", u)
	}
	if len(run.Results) != 3 {
		t.Fatalf("results = %d", len(run.Results))
	}
	r := run.Results[0]
	base := filepath.Base(plan.Project.Dir)
	loc := r.Locations[0].PhysicalLocation
	if r.RuleID != "not-migrated" || r.Level != "error" || loc.ArtifactLocation.URI != base+"/web/Dockerfile" ||
		loc.ArtifactLocation.URIBaseID != "%SRCROOT%" || loc.Region.StartLine != 1 {
		t.Errorf("result 0 = %+v", r)
	}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("ruleIndex %d does not point at %s", r.RuleIndex, r.RuleID)
		}
	}
	if run.Results[1].Level != "warning" {
		t.Errorf("failed build level = %s", run.Results[1].Level)
	}
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"One. Two.":                         "One.",
		"Keeps `a.b. C` together. Next.":    "Keeps `a.b. C` together.",
		"Tools, e.g. gcc, go. Then more.":   "Tools, e.g. gcc, go.",
		"Stops at RUN. apk gets --no-cache": "Stops at RUN.",
		"No full stop":                      "No full stop",
		"Version 1.2 is fine. Yes.":         "Version 1.2 is fine.",
	} {
		if got := FirstSentence(in); got != want {
			t.Errorf("FirstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// secretValues are credential values that a buggy rule or a compose file
// might carry into a message; none may reach any output.
var secretValues = []string{
	"ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
	"AKIAIOSFODNN7EXAMPLE",
	"hunter2-very-secret",
	"sk_live_0123456789abcdefABCD",
	"s3cr3t-db-pass",
	"-----BEGIN RSA PRIVATE KEY-----",
}

// TestNoSecretValues is defensive: rules report variable names, never
// values, but should a message ever carry a value, no output shows it.
func TestNoSecretValues(t *testing.T) {
	plan := samplePlan(t)
	web := plan.Builds[0]
	web.Findings = append(web.Findings,
		rules.Finding{Rule: "secrets", Line: 3, NeedsHuman: true, Message: "ENV GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB is baked in"},
		rules.Finding{Rule: "secrets", Line: 4, NeedsHuman: true, Message: "ARG AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE and DB_PASSWORD=hunter2-very-secret"},
		rules.Finding{Rule: "secrets", Line: 5, Message: `RUN curl https://admin:s3cr3t-db-pass@example.com/ with STRIPE_KEY="sk_live_0123456789abcdefABCD"`},
		rules.Finding{Rule: "secrets", Line: 6, Message: "COPY id_rsa: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"},
	)
	plan.Builds[2].Reason = "legacy/Dockerfile: line 3: API_SECRET=hunter2-very-secret"
	plan.Project.Skipped[1].Reason = "dockerfile: is set from ${DF:-AKIAIOSFODNN7EXAMPLE}"
	plan.Warnings = append(plan.Warnings, "env_file has DB_PASSWORD=s3cr3t-db-pass")

	doc := New(plan)
	js, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	items, _ := doc.Check()
	sarif, err := doc.SARIF(items, SARIFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"markdown": string(doc.Markdown(MarkdownOptions{})),
		"json":     string(js),
		"sarif":    string(sarif),
		"check":    string(doc.CheckText(items, false)),
		"commit":   doc.CommitMessage(),
	}
	for name, out := range outputs {
		for _, v := range secretValues {
			if strings.Contains(out, v) {
				t.Errorf("%s output contains the secret value %q", name, v)
			}
		}
	}
	// The names stay, so a person knows what to fix.
	for _, name := range []string{"GITHUB_TOKEN", "DB_PASSWORD", "AWS_ACCESS_KEY_ID", "API_SECRET", "STRIPE_KEY"} {
		if !strings.Contains(outputs["markdown"], name) {
			t.Errorf("markdown lost the variable name %s", name)
		}
	}
}

func TestRedactKeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{
		"ENV API_TOKEN looks like a secret: ENV values are stored in the image configuration",
		"pass it with `RUN --mount=type=secret,id=api_token`",
		"ARG NPM_TOKEN=$NPM_TOKEN is a reference",
		"PYTHONUNBUFFERED=1 and NODE_ENV=production",
		"base image node:20-alpine",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}

func TestCommitMessage(t *testing.T) {
	msg := New(samplePlan(t)).CommitMessage()
	lines := strings.Split(msg, "\n")
	if lines[0] != "composeopt: optimized Dockerfiles for web" || lines[1] != "" {
		t.Errorf("subject:\n%s", msg)
	}
	for _, l := range lines {
		if len(l) > 72 && !strings.HasPrefix(l, "- ") {
			t.Errorf("line longer than 72 columns: %q", l)
		}
	}
	if !strings.Contains(msg, "\n- web: web/Dockerfile.optimized (exec-form, pkg-cache)\n") || strings.Contains(msg, "`") {
		t.Errorf("message:\n%s", msg)
	}
}

// TestReducedGate: a build that passed only the reduced quality gate says
// so in the JSON (valid against the schema), in its "why" block and in the
// reviewer checklist; the others say nothing of it.
func TestReducedGate(t *testing.T) {
	plan := samplePlan(t)
	const why = "reduced quality gate: stage build of the original has 15997 instructions"
	plan.Builds[0].ReducedGate = why
	doc := New(plan)
	out, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	validatePlanJSON(t, out)
	if !strings.Contains(string(out), `"reduced_gate": "`+why) || strings.Count(string(out), `"reduced_gate"`) != 1 {
		t.Errorf("the JSON does not carry the reduced gate of the web build only:\n%s", out)
	}
	md := string(doc.Markdown(MarkdownOptions{}))
	for _, want := range []string{
		"- Quality gate: " + why + ".\n",
		"- [ ] Run `docker build --check` on `web/Dockerfile.optimized`: too long for composeopt's full quality gate",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if md := string(New(samplePlan(t)).Markdown(MarkdownOptions{})); strings.Contains(md, "quality gate") {
		t.Errorf("markdown mentions the quality gate for a plan whose gates all ran in full:\n%s", md)
	}
}
