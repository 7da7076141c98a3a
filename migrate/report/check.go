package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// Check rule IDs: what a check result is about.
const (
	// CheckNotMigrated: the optimizer would still change the build's files,
	// or compose does not point at the optimized Dockerfile. Fails the check.
	CheckNotMigrated = "not-migrated"
	// CheckFailed: composeopt cannot migrate the build (parse or quality
	// gate error). A warning.
	CheckFailed = "cannot-migrate"
	// CheckConflict: the build's optimized file exists and composeopt did
	// not write it, so it is left alone. Fails the check.
	CheckConflict = "not-generated"
	// CheckNeedsHuman: a service whose build a person must migrate by hand
	// (e.g. a dockerfile: set from a variable). A warning.
	CheckNeedsHuman = "needs-human"
)

// CheckItem is one result of `composeopt check`.
type CheckItem struct {
	Rule     string // one of the Check* IDs
	Error    bool   // true fails the check; false is a warning
	Services []string
	// Path is the project-relative file the result points at (the original
	// Dockerfile, or the first compose file); Line is 1-based (0 = none).
	Path    string
	Line    int
	Message string
}

// Check evaluates the plan as a CI gate: an error for every build the
// optimizer would still change, a warning for builds it cannot migrate and
// services a person must migrate. ok is false when there is an error.
func (d *Document) Check() (items []CheckItem, ok bool) {
	ok = true
	changed := map[string]File{}
	for _, f := range d.Files {
		changed[f.Path] = f
	}
	for _, b := range d.Builds {
		switch migrate.Status(b.Status) {
		case migrate.StatusMigrate:
			ok = false
			var why []string
			if b.Optimized != nil {
				if f, in := changed[*b.Optimized]; in {
					if f.Action == "create" {
						why = append(why, fmt.Sprintf("%s does not exist", *b.Optimized))
					} else {
						why = append(why, fmt.Sprintf("%s is out of date", *b.Optimized))
					}
				}
				if b.Current != *b.Optimized {
					why = append(why, fmt.Sprintf("compose builds it from %s instead of %s", b.Current, *b.Optimized))
				}
			}
			if b.IgnoreFile != nil {
				if f, in := changed[*b.IgnoreFile]; in {
					if f.Action == "create" {
						why = append(why, fmt.Sprintf("%s does not exist", *b.IgnoreFile))
					} else {
						why = append(why, fmt.Sprintf("%s is out of date", *b.IgnoreFile))
					}
				}
			}
			ids := make([]string, len(b.Rules))
			for i, r := range b.Rules {
				ids[i] = r.ID
			}
			msg := fmt.Sprintf("%s is not migrated", b.Dockerfile)
			if len(why) > 0 {
				msg += ": " + strings.Join(why, "; ")
			}
			if len(ids) > 0 {
				msg += fmt.Sprintf(" (rules: %s)", strings.Join(ids, ", "))
			}
			msg += ". Run `composeopt apply` and commit the result."
			items = append(items, CheckItem{Rule: CheckNotMigrated, Error: true, Services: b.Services, Path: b.Dockerfile, Line: 1, Message: msg})
		case migrate.StatusFailed:
			if b.Conflict {
				ok = false
				items = append(items, CheckItem{Rule: CheckConflict, Error: true, Services: b.Services, Path: b.Dockerfile, Line: 1,
					Message: fmt.Sprintf("%s is not migrated: %s", b.Dockerfile, b.Reason)})
				continue
			}
			items = append(items, CheckItem{Rule: CheckFailed, Services: b.Services, Path: b.Dockerfile, Line: 1,
				Message: fmt.Sprintf("composeopt cannot migrate %s: %s", b.Dockerfile, b.Reason)})
		}
	}
	compose := ""
	if len(d.Project.ComposeFiles) > 0 {
		compose = d.Project.ComposeFiles[0]
	}
	for _, s := range d.Skipped {
		if s.NeedsHuman {
			items = append(items, CheckItem{Rule: CheckNeedsHuman, Services: []string{s.Service}, Path: compose,
				Message: fmt.Sprintf("service %s must be migrated by hand: %s", s.Service, s.Reason)})
		}
	}
	return items, ok
}

// CheckText renders check results for a terminal or a CI log.
func (d *Document) CheckText(items []CheckItem, ok bool) []byte {
	var b bytes.Buffer
	errors, warnings := 0, 0
	for _, it := range items {
		kind := "warning"
		if it.Error {
			kind = "error"
			errors++
		} else {
			warnings++
		}
		fmt.Fprintf(&b, "%s: %s: %s [%s]\n", strings.Join(it.Services, ", "), kind, it.Message, it.Rule)
	}
	migrated := d.Summary.Builds.UpToDate
	total := len(d.Builds)
	switch {
	case !ok:
		fmt.Fprintf(&b, "Check failed: %s not migrated", count(errors, "build is", "builds are"))
	case total == 0:
		b.WriteString("Check passed: no service builds a Dockerfile composeopt handles")
	default:
		fmt.Fprintf(&b, "Check passed: %d of %s migrated", migrated, count(total, "build", "builds"))
		if rest := total - migrated; rest > 0 {
			fmt.Fprintf(&b, " (%d with nothing to change or not migratable)", rest)
		}
	}
	if warnings > 0 {
		fmt.Fprintf(&b, ", %s", count(warnings, "warning", "warnings"))
	}
	b.WriteString(".\n")
	return b.Bytes()
}

// SARIFOptions tune the SARIF log.
type SARIFOptions struct {
	// Root is the absolute directory artifact URIs are relative to (the
	// repository root, so code-scanning dashboards find the files); "" is
	// the project directory.
	Root string
	// Version is composeopt's version ("" = unknown).
	Version string
}

// SARIF renders check results as a SARIF 2.1.0 log with one result per
// item, located at the build's Dockerfile (or the compose file).
func (d *Document) SARIF(items []CheckItem, opts SARIFOptions) ([]byte, error) {
	root := opts.Root
	if root == "" {
		root = d.Project.Dir
	}
	type msg struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string         `json:"id"`
		Name             string         `json:"name"`
		ShortDescription msg            `json:"shortDescription"`
		FullDescription  msg            `json:"fullDescription"`
		Help             msg            `json:"help"`
		Default          map[string]any `json:"defaultConfiguration"`
	}
	rules := []rule{
		{ID: CheckNotMigrated, Name: "NotMigrated",
			ShortDescription: msg{"Dockerfile not migrated to its optimized version"},
			FullDescription:  msg{"composeopt would still create or change the optimized Dockerfile, its .dockerignore, or the compose reference of this build."},
			Help:             msg{"Run `composeopt plan` to see the change and `composeopt apply` to make it, then commit the result."},
			Default:          map[string]any{"level": "error"}},
		{ID: CheckFailed, Name: "CannotMigrate",
			ShortDescription: msg{"composeopt cannot migrate this Dockerfile"},
			FullDescription:  msg{"The Dockerfile does not parse, or the optimized Dockerfile failed composeopt's quality gate, so the build keeps its original Dockerfile."},
			Help:             msg{"Run `composeopt plan` for the reason; fix the Dockerfile or report the problem."},
			Default:          map[string]any{"level": "warning"}},
		{ID: CheckNeedsHuman, Name: "NeedsHuman",
			ShortDescription: msg{"service must be migrated by hand"},
			FullDescription:  msg{"composeopt cannot edit this service's build safely, for example because its dockerfile: value comes from a variable."},
			Help:             msg{"Point the service at the optimized Dockerfile by hand."},
			Default:          map[string]any{"level": "warning"}},
		{ID: CheckConflict, Name: "NotGenerated",
			ShortDescription: msg{"optimized Dockerfile not written by composeopt"},
			FullDescription:  msg{"The build's <name>.optimized file exists without composeopt's generated header, so composeopt leaves it alone and cannot migrate the build."},
			Help:             msg{"Rename or remove the file, or run `composeopt apply --force` to replace it with the generated one."},
			Default:          map[string]any{"level": "error"}},
	}
	ruleIndex := map[string]int{}
	for i, r := range rules {
		ruleIndex[r.ID] = i
	}
	results := []map[string]any{}
	for _, it := range items {
		level := "warning"
		if it.Error {
			level = "error"
		}
		res := map[string]any{
			"ruleId":     it.Rule,
			"ruleIndex":  ruleIndex[it.Rule],
			"level":      level,
			"message":    msg{Redact(it.Message)},
			"properties": map[string]any{"services": it.Services},
		}
		if it.Path != "" {
			loc := map[string]any{"artifactLocation": artifact(d.Project.Dir, root, it.Path)}
			if it.Line > 0 {
				loc["region"] = map[string]any{"startLine": it.Line}
			}
			res["locations"] = []any{map[string]any{"physicalLocation": loc}}
		}
		results = append(results, res)
	}
	driver := map[string]any{
		"name":           "composeopt",
		"informationUri": "https://github.com/composeopt/composeopt",
		"rules":          rules,
	}
	if opts.Version != "" {
		driver["version"] = opts.Version
	}
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":               map[string]any{"driver": driver},
			"originalUriBaseIds": map[string]any{"%SRCROOT%": map[string]any{"uri": fileURI(root, true)}},
			"results":            results,
		}},
	}
	out, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// artifact locates a project-relative (or absolute) path for SARIF:
// relative to root when inside it, an absolute file URI otherwise.
func artifact(projectDir, root, p string) map[string]any {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(projectDir, filepath.FromSlash(p))
	}
	r, ok := safefs.Within(root, abs)
	if !ok {
		return map[string]any{"uri": fileURI(abs, false)}
	}
	u := url.URL{Path: filepath.ToSlash(r)}
	return map[string]any{"uri": u.EscapedPath(), "uriBaseId": "%SRCROOT%"}
}

func fileURI(p string, dir bool) string {
	s := filepath.ToSlash(p)
	if !strings.HasPrefix(s, "/") {
		s = "/" + s // C:/x → /C:/x
	}
	if dir && !strings.HasSuffix(s, "/") {
		s += "/"
	}
	u := url.URL{Scheme: "file", Path: path.Clean(s)}
	if dir && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String()
}
