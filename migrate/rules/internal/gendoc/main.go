// Command gendoc writes the rule documentation from the rule catalogue:
// one page per rule under migrate/rules/docs, an index of them, and the
// rule table of the top-level README.md (between its two marker lines).
// Run it with `go generate ./migrate/rules`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/composeopt/composeopt/migrate/report"
	"github.com/composeopt/composeopt/migrate/rules"
)

// The README's rule table sits between these lines.
const (
	tableBegin = "<!-- rule table: generated from migrate/rules by `go generate ./migrate/rules`; edit the rules, not this table -->"
	tableEnd   = "<!-- end of rule table -->"
)

// configKeys maps an option flag to its .composeopt.yaml key.
var configKeys = map[string]string{
	"uid":                 "uid",
	"health-path":         "healthcheck.path",
	"health-interval":     "healthcheck.interval",
	"health-timeout":      "healthcheck.timeout",
	"health-start-period": "healthcheck.start_period",
	"health-retries":      "healthcheck.retries",
}

func main() {
	docs := flag.String("docs", "docs", "directory of the rule pages")
	readme := flag.String("readme", "../../README.md", "README.md whose rule table is rewritten")
	flag.Parse()
	files, err := render(*readme)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*docs, 0o755); err != nil {
		log.Fatal(err)
	}
	for name, data := range files {
		path := filepath.Join(*docs, name)
		if name == "" {
			path = *readme
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// render returns the generated files: the pages by their name under the
// docs directory, and the README (read from readme) under "".
func render(readme string) (map[string][]byte, error) {
	out := map[string][]byte{}
	all := rules.All()
	for i, r := range all {
		out[r.ID+".md"] = page(r, i+1)
	}
	out["README.md"] = index(all)
	src, err := os.ReadFile(readme)
	if err != nil {
		return nil, err
	}
	text, err := replaceTable(string(src), table(all))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", readme, err)
	}
	out[""] = []byte(text)
	return out, nil
}

func page(r *rules.Rule, n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!-- Generated from migrate/rules by `go generate ./migrate/rules`; edit the rule, not this page. -->\n\n")
	fmt.Fprintf(&b, "# `%s`: %s\n\n", r.ID, r.Title)
	fmt.Fprintf(&b, "%s\n\n", report.Wrap(r.Doc, 78))
	fmt.Fprintf(&b, "- Source: [`%s.go`](../%s.go)\n", r.ID, r.ID)
	fmt.Fprintf(&b, "- Runs: %s in the run order", ordinal(n))
	if len(r.After) > 0 {
		var after []string
		for _, a := range r.After {
			after = append(after, "[`"+a+"`]("+a+".md)")
		}
		fmt.Fprintf(&b, ", after %s", strings.Join(after, ", "))
	}
	b.WriteString("\n")
	for _, o := range r.Options {
		fmt.Fprintf(&b, "- Option: `--%s`", o)
		if k, ok := configKeys[o]; ok {
			fmt.Fprintf(&b, " (`%s` in `.composeopt.yaml`)", k)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "- Turn it off: `--skip %s`, or `skip: [%s]` in `.composeopt.yaml`\n", r.ID, r.ID)
	return b.Bytes()
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

func index(all []*rules.Rule) []byte {
	var b bytes.Buffer
	b.WriteString("<!-- Generated from migrate/rules by `go generate ./migrate/rules`; edit the rules, not this page. -->\n\n")
	b.WriteString("# composeopt rules\n\n")
	b.WriteString("The rules in the order they run. `composeopt explain ID` prints a rule's page\n")
	b.WriteString("text; [How to add a rule](../README.md) explains how they are written.\n\n")
	b.WriteString("| # | ID | What it does |\n| --- | --- | --- |\n")
	for i, r := range all {
		fmt.Fprintf(&b, "| %d | [`%s`](%s.md) | %s |\n", i+1, r.ID, r.ID, r.Title)
	}
	return b.Bytes()
}

// table is the README's rule table (rows in run order).
func table(all []*rules.Rule) string {
	var b strings.Builder
	b.WriteString("| ID | What it does |\n| --- | --- |\n")
	for _, r := range all {
		fmt.Fprintf(&b, "| `%s` | %s |\n", r.ID, r.Title)
	}
	return b.String()
}

// replaceTable puts table between the marker lines of src.
func replaceTable(src, table string) (string, error) {
	i := strings.Index(src, tableBegin+"\n")
	j := strings.Index(src, tableEnd+"\n")
	if i < 0 || j < i {
		return "", fmt.Errorf("no rule table markers (%q ... %q)", tableBegin, tableEnd)
	}
	return src[:i+len(tableBegin)+1] + table + src[j:], nil
}
