package rules

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRunOrder checks the run order All derives from After: every rule
// runs after the rules it names, and the order is the one the golden
// outputs were made with (changing it changes outputs, so it must be a
// deliberate edit of this list).
func TestRunOrder(t *testing.T) {
	all := All()
	pos := map[string]int{}
	for i, r := range all {
		pos[r.ID] = i
	}
	for _, r := range all {
		for _, a := range r.After {
			j, ok := pos[a]
			switch {
			case a == r.ID:
				t.Errorf("%s: After names itself", r.ID)
			case !ok:
				t.Errorf("%s: After names unknown rule %q", r.ID, a)
			case j > pos[r.ID]:
				t.Errorf("%s runs before %s, which its After names", r.ID, a)
			}
		}
	}
	var ids []string
	for _, r := range all {
		ids = append(ids, r.ID)
	}
	want := []string{
		"maintainer-label", "instruction-casing", "from-as-casing", "workdir-absolute", "add-to-copy",
		"base-image-tag", "env-key-value", "exec-form", "multi-stage", "deps-first", "prod-deps", "pkg-cache",
		"cache-mount", "python-env", "node-env", "healthcheck", "non-root-user", "secrets",
	}
	if !slices.Equal(ids, want) {
		t.Errorf("run order\n got %v\nwant %v", ids, want)
	}
}

// TestRunOrderFollowsAfter checks runOrder itself on a list whose order
// contradicts After.
func TestRunOrderFollowsAfter(t *testing.T) {
	a := &Rule{ID: "a", After: []string{"c"}}
	b := &Rule{ID: "b"}
	c := &Rule{ID: "c", After: []string{"b", "missing"}}
	var got []string
	for _, r := range runOrder([]*Rule{a, b, c}) {
		got = append(got, r.ID)
	}
	if want := []string{"b", "c", "a"}; !slices.Equal(got, want) {
		t.Errorf("runOrder = %v, want %v", got, want)
	}
	x := &Rule{ID: "x", After: []string{"y"}}
	y := &Rule{ID: "y", After: []string{"x"}}
	got = nil
	for _, r := range runOrder([]*Rule{x, b, y}) {
		got = append(got, r.ID)
	}
	if want := []string{"b", "x", "y"}; !slices.Equal(got, want) {
		t.Errorf("runOrder with a cycle = %v, want %v", got, want)
	}
}

var ruleVar = regexp.MustCompile(`(?m)^var ([A-Z][A-Za-z]*) = &Rule\{\s*\n\s*ID:\s+"([a-z-]+)"`)

// TestRuleFiles checks that each rule ID leads to its file: <id>.go
// defines the rule, no other file defines one, and no rule file (the
// files named after an ID, and their <id>_*.go parts) exceeds 500 lines.
func TestRuleFiles(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range All() {
		if r.Title == "" || r.Doc == "" || r.Run == nil {
			t.Errorf("%s: Title, Doc and Run are required", r.ID)
		}
		if ids[r.ID] {
			t.Errorf("rule ID %s twice", r.ID)
		}
		ids[r.ID] = true
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ruleVar.FindAllStringSubmatch(string(data), -1) {
			defined[m[2]] = name
		}
		base, _, _ := strings.Cut(strings.TrimSuffix(name, ".go"), "_")
		if ids[base] {
			if n := strings.Count(string(data), "\n"); n > 500 {
				t.Errorf("%s: %d lines, more than 500", name, n)
			}
		}
	}
	for id := range ids {
		if defined[id] != id+".go" {
			t.Errorf("rule %s is defined in %q, want %s.go", id, defined[id], id)
		}
	}
}
