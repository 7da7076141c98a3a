package rules

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/gate"
)

// A rule's test cases are txtar archives under testdata/<rule-id>/. Each
// holds:
//
//	# what the case is about (free text)
//	# want "regexp"          one line per expected finding (every finding
//	                         must match one, and every want a finding)
//	# no-gate: why           skip the BuildKit gate (the input itself fails
//	                         BuildKit's checks); the reason is required
//	-- Dockerfile --         the input
//	-- want --               the expected output (absent: unchanged)
//	-- services.json --      the compose services, as []facts.Service JSON
//	                         (absent: one service "app" building the last stage;
//	                         a relative bind-mount source is in the context)
//	-- package.json --       any other file is written into the build
//	                         context the facts are gathered from
//
// TestRuleData runs the rule alone on each, and also checks that the
// output passes the planner's BuildKit gate and that running the rule on
// its own output changes nothing (idempotence); a multi-stage output must
// also still provide, in each runtime stage, the files its start command
// uses (splitCheckEntryPaths).
func TestRuleData(t *testing.T) {
	byID := map[string]*Rule{}
	for _, r := range All() {
		byID[r.ID] = r
	}
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		r := byID[d.Name()]
		if r == nil {
			t.Errorf("testdata/%s: no rule has that ID", d.Name())
			continue
		}
		files, _ := filepath.Glob(filepath.Join("testdata", d.Name(), "*.txtar"))
		if len(files) == 0 {
			t.Errorf("testdata/%s: no .txtar case", d.Name())
		}
		for _, file := range files {
			t.Run(d.Name()+"/"+strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
				runRuleData(t, r, file)
			})
		}
	}
}

// marker is a txtar section marker that does not start its line.
var marker = regexp.MustCompile(`[^\n]-- \S+ --\n`)

// wantLine is a `# want "regexp"` line.
var wantLine = regexp.MustCompile(`^#\s*want\s+(".*")\s*$`)

func runRuleData(t *testing.T, r *Rule, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	comment, parts := parseTxtar(data)
	for name, body := range parts {
		if marker.MatchString(body) {
			t.Fatalf("%s: section %s holds a \"-- name --\" marker inside a line (its previous line lacks a newline?)", file, name)
		}
	}
	in, ok := parts["Dockerfile"]
	if !ok {
		t.Fatalf("%s: no Dockerfile section", file)
	}
	want, ok := parts["want"]
	if !ok {
		want = in
	}
	var wants []*regexp.Regexp
	gated := true
	for i, line := range strings.Split(comment, "\n") {
		if why, ok := strings.CutPrefix(line, "# no-gate:"); ok {
			if strings.TrimSpace(why) == "" {
				t.Fatalf("%s:%d: no-gate needs a reason", file, i+1)
			}
			gated = false
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(line), "# want") {
			continue
		}
		m := wantLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s:%d: malformed want line %q", file, i+1, line)
		}
		s, err := strconv.Unquote(m[1])
		if err != nil {
			t.Fatalf("%s:%d: %v", file, i+1, err)
		}
		re, err := regexp.Compile(s)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, i+1, err)
		}
		wants = append(wants, re)
	}
	services := []facts.Service{{Name: "app"}}
	if js, ok := parts["services.json"]; ok {
		services = nil
		if err := json.Unmarshal([]byte(js), &services); err != nil {
			t.Fatalf("%s: services.json: %v", file, err)
		}
	}
	dir := t.TempDir()
	for name, body := range parts {
		if name == "Dockerfile" || name == "want" || name == "services.json" {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A bind mount's relative source is relative to the build context, as
	// a compose file next to it would say it.
	for i := range services {
		for j, m := range services[i].Mounts {
			if m.Type == "bind" && !filepath.IsAbs(m.Source) {
				services[i].Mounts[j].Source = filepath.Join(dir, filepath.FromSlash(m.Source))
			}
		}
	}
	fb, err := facts.Gather(dir, services)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply([]byte(in), fb, []*Rule{r}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Output); got != want {
		t.Errorf("%s: output mismatch\n--- got\n%s\n--- want\n%s", file, got, want)
	}
	if r == MultiStage && string(res.Output) != in {
		splitCheckEntryPaths(t, fb, res.Output) // each runtime stage still has what it starts
	}
	matched := make([]bool, len(wants))
	for _, f := range res.Findings {
		ok := false
		for i, re := range wants {
			if re.MatchString(f.Message) {
				matched[i], ok = true, true
			}
		}
		if !ok {
			t.Errorf("%s: unexpected finding (line %d): %s", file, f.Line, f.Message)
		}
	}
	for i, re := range wants {
		if !matched[i] {
			t.Errorf("%s: no finding matches %q; findings: %+v", file, re, res.Findings)
		}
	}
	if !gated {
		t.Logf("%s: BuildKit gate skipped (no-gate)", file)
	} else if _, err := gate.Check("Dockerfile.optimized", []byte(in), res.Output, fb.Targets(), nil); err != nil {
		t.Errorf("%s: BuildKit gate: %v\n%s", file, err, res.Output)
	}
	again, err := Apply(res.Output, fb, []*Rule{r}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Output, res.Output) || len(again.Applied) != 0 {
		t.Errorf("%s: not idempotent: a second run gave\n%s", file, again.Output)
	}
}

// parseTxtar splits a txtar archive into its comment and its files (the
// format of golang.org/x/tools/txtar: "-- name --" lines start files).
func parseTxtar(data []byte) (comment string, files map[string]string) {
	files = map[string]string{}
	name := ""
	var cur *strings.Builder
	var head strings.Builder
	flush := func() {
		if cur != nil {
			files[name] = cur.String()
		}
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			name = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			cur = &strings.Builder{}
			continue
		}
		if cur == nil {
			head.WriteString(line)
		} else {
			cur.WriteString(line)
		}
	}
	flush()
	return head.String(), files
}
