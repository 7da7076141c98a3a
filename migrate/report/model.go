package report

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/rules"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// SchemaVersion is the version of the JSON document. It changes only when
// a field is removed or its meaning changes; new fields may be added
// without a change.
const SchemaVersion = 1

// Document is the machine-readable plan (`composeopt plan --format json`).
// Paths are relative to the project directory, with forward slashes, when
// they lie inside it, and absolute otherwise.
type Document struct {
	SchemaVersion int       `json:"schema_version"`
	Project       Project   `json:"project"`
	Services      []Service `json:"services"`
	Builds        []Build   `json:"builds"`
	Skipped       []Skip    `json:"skipped"`
	Warnings      []string  `json:"warnings"`
	Files         []File    `json:"files"`
	Summary       Summary   `json:"summary"`
}

// Project identifies the compose project.
type Project struct {
	Name string `json:"name"`
	// Dir is the absolute project directory.
	Dir string `json:"dir"`
	// ComposeFiles are the compose files loaded, in order.
	ComposeFiles []string `json:"compose_files"`
}

// Service is one compose service and what happens to it.
type Service struct {
	Name string `json:"name"`
	// Status is its build's status, or "skipped" for a service composeopt
	// does not handle (image-only, remote context, ...).
	Status string `json:"status"`
	// Build is the index in Document.Builds, or nil when skipped.
	Build      *int   `json:"build"`
	Reason     string `json:"reason"`
	NeedsHuman bool   `json:"needs_human"`
}

// Build is one (context, Dockerfile) pair.
type Build struct {
	Services   []string `json:"services"`
	Context    string   `json:"context"`
	Dockerfile string   `json:"dockerfile"`
	// Current is the Dockerfile compose points at now.
	Current string `json:"current"`
	// Optimized and IgnoreFile are nil when the build is not migrated.
	Optimized  *string       `json:"optimized"`
	IgnoreFile *string       `json:"ignore_file"`
	BaseImage  string        `json:"base_image"`
	Status     string        `json:"status"`
	Reason     string        `json:"reason"`
	Rules      []AppliedRule `json:"rules"`
	Findings   []Finding     `json:"findings"`
	// Ignored are the patterns added to the ignore file.
	Ignored []string `json:"ignored"`
	// ReducedGate, when set, says that the optimized Dockerfile was too
	// long for the full quality gate and what the reduced one left out.
	ReducedGate string `json:"reduced_gate,omitempty"`
	// Conflict: not migrated because the optimized file exists and
	// composeopt did not write it (not in the JSON; the reason says it).
	Conflict bool `json:"-"`
}

// AppliedRule is a rule that changed the Dockerfile.
type AppliedRule struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Lines are the lines of the optimized Dockerfile the rule wrote.
	Lines []int `json:"lines"`
}

// Finding is something a rule noticed; Line is 0 when it has no line.
type Finding struct {
	Rule       string `json:"rule"`
	Line       int    `json:"line"`
	Message    string `json:"message"`
	NeedsHuman bool   `json:"needs_human"`
	// File is the project-relative file Line is in when it is not the
	// build's Dockerfile (a compose file).
	File string `json:"file,omitempty"`
}

// Skip is a service composeopt does not migrate.
type Skip struct {
	Service    string `json:"service"`
	Reason     string `json:"reason"`
	NeedsHuman bool   `json:"needs_human"`
}

// File is one file the change set creates or modifies.
type File struct {
	Path string `json:"path"`
	// Action is "create" or "modify".
	Action string `json:"action"`
	// OldSHA256 is the hex SHA-256 of the current content; nil for "create".
	OldSHA256 *string `json:"old_sha256"`
	NewSHA256 string  `json:"new_sha256"`
}

// Summary counts what the plan does.
type Summary struct {
	Builds   StatusCounts `json:"builds"`
	Services StatusCounts `json:"services"`
	// Files is the number of files created or modified.
	Files int `json:"files"`
	// NeedsHuman is the number of items a person must decide.
	NeedsHuman int `json:"needs_human"`
}

// StatusCounts counts builds or services per status.
type StatusCounts struct {
	Migrate  int `json:"migrate"`
	UpToDate int `json:"up-to-date"`
	NoChange int `json:"no-change"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
}

func (c *StatusCounts) add(status string, n int) {
	switch migrate.Status(status) {
	case migrate.StatusMigrate:
		c.Migrate += n
	case migrate.StatusUpToDate:
		c.UpToDate += n
	case migrate.StatusNoChange:
		c.NoChange += n
	case migrate.StatusFailed:
		c.Failed += n
	case migrate.StatusSkipped:
		c.Skipped += n
	}
}

// Human is one item a person must decide.
type Human struct {
	// Services are the services concerned.
	Services []string
	// Location is a project-relative path, with ":line" when known; "" when
	// the item has no file (a compose skip).
	Location string
	// Rule is the rule that raised it ("" for skips and failed builds).
	Rule    string
	Message string
}

// New builds the document for a plan.
func New(plan *migrate.Plan) *Document {
	dir := plan.Project.Dir
	rel := func(p string) string { return safefs.Rel(dir, p) }
	d := &Document{
		SchemaVersion: SchemaVersion,
		Project:       Project{Name: plan.Project.Name, Dir: dir, ComposeFiles: []string{}},
		Services:      []Service{},
		Builds:        []Build{},
		Skipped:       []Skip{},
		Warnings:      []string{},
		Files:         []File{},
	}
	for _, f := range plan.Project.Files {
		d.Project.ComposeFiles = append(d.Project.ComposeFiles, rel(f))
	}
	buildOf := map[string]int{}
	for i, bp := range plan.Builds {
		b := Build{
			Services:    append([]string{}, bp.Build.Services...),
			Context:     rel(bp.Build.Context),
			Dockerfile:  rel(bp.Build.Dockerfile),
			Current:     rel(bp.Build.Current),
			BaseImage:   bp.BaseImage,
			Status:      string(bp.Status),
			Reason:      Redact(bp.Reason),
			Rules:       []AppliedRule{},
			Findings:    []Finding{},
			Ignored:     append([]string{}, bp.Ignored...),
			Conflict:    bp.Conflict,
			ReducedGate: bp.ReducedGate,
		}
		if bp.Status == migrate.StatusMigrate || bp.Status == migrate.StatusUpToDate {
			o, ig := rel(bp.Optimized), rel(bp.IgnoreFile)
			b.Optimized = &o
			if bp.IgnoreFile != "" {
				b.IgnoreFile = &ig
			}
		}
		for _, id := range bp.Applied {
			lines := append([]int{}, bp.Lines[id]...)
			sort.Ints(lines)
			b.Rules = append(b.Rules, AppliedRule{ID: id, Title: ruleTitle(id), Lines: lines})
		}
		for _, f := range bp.Findings {
			b.Findings = append(b.Findings, Finding{Rule: f.Rule, Line: f.Line, Message: Redact(f.Message), NeedsHuman: f.NeedsHuman, File: rel(f.File)})
		}
		d.Builds = append(d.Builds, b)
		d.Summary.Builds.add(b.Status, 1)
		for _, s := range bp.Build.Services {
			if _, dup := buildOf[s]; !dup {
				buildOf[s] = i
			}
		}
	}
	skipOf := map[string]Skip{}
	for _, s := range plan.Project.Skipped {
		sk := Skip{Service: s.Service, Reason: Redact(s.Reason), NeedsHuman: s.NeedsHuman}
		d.Skipped = append(d.Skipped, sk)
		skipOf[s.Service] = sk
	}
	// Services in compose order: those of the project, then any build or
	// skip naming a service the project list lacks.
	seen := map[string]bool{}
	addService := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		s := Service{Name: name}
		if i, ok := buildOf[name]; ok {
			idx := i
			s.Build = &idx
			s.Status = d.Builds[i].Status
			s.Reason = d.Builds[i].Reason
		} else if sk, ok := skipOf[name]; ok {
			s.Status = string(migrate.StatusSkipped)
			s.Reason = sk.Reason
			s.NeedsHuman = sk.NeedsHuman
		} else {
			return // neither built nor skipped: not considered
		}
		d.Services = append(d.Services, s)
		d.Summary.Services.add(s.Status, 1)
	}
	for _, s := range plan.Project.Services {
		addService(s.Name)
	}
	for _, bp := range plan.Builds {
		for _, s := range bp.Build.Services {
			addService(s)
		}
	}
	for _, s := range plan.Project.Skipped {
		addService(s.Service)
	}
	for _, w := range plan.Warnings {
		d.Warnings = append(d.Warnings, Redact(w))
	}
	for _, f := range plan.Changes.Changed() {
		nf := File{Path: rel(f.Path), Action: "create", NewSHA256: sha(f.New)}
		if f.Exists {
			old := sha(f.Old)
			nf.Action, nf.OldSHA256 = "modify", &old
		}
		d.Files = append(d.Files, nf)
	}
	d.Summary.Files = len(d.Files)
	d.Summary.NeedsHuman = len(d.NeedsHuman())
	return d
}

// NeedsHuman lists everything the tool could not decide: compose skips
// that need a person, builds that could not be migrated, and findings
// marked as needing a person.
func (d *Document) NeedsHuman() []Human {
	var out []Human
	for _, s := range d.Skipped {
		if s.NeedsHuman {
			out = append(out, Human{Services: []string{s.Service}, Message: s.Reason})
		}
	}
	for _, b := range d.Builds {
		if b.Status == string(migrate.StatusFailed) {
			out = append(out, Human{Services: b.Services, Location: b.Dockerfile, Message: "not migrated: " + b.Reason})
		}
		for _, f := range b.Findings {
			if !f.NeedsHuman {
				continue
			}
			loc := b.Dockerfile
			if b.Optimized != nil {
				loc = *b.Optimized
			}
			if f.File != "" {
				loc = f.File
			}
			if f.Line > 0 {
				loc += ":" + itoa(f.Line)
			}
			out = append(out, Human{Services: b.Services, Location: loc, Rule: f.Rule, Message: f.Message})
		}
	}
	return out
}

// ruleTitle and ruleDoc return the catalogue's Title and Doc of the rule
// with the ID ("" for an ID the catalogue does not hold).
func ruleTitle(id string) string {
	if r := rules.Lookup(id); r != nil {
		return r.Title
	}
	return ""
}

func ruleDoc(id string) string {
	if r := rules.Lookup(id); r != nil {
		return r.Doc
	}
	return ""
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
