package rules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// Rule is one optimization: data (what `composeopt rules` and `explain`
// print, the README table and the pages under docs/ are generated from
// it) and the function that applies it.
type Rule struct {
	// ID is stable across releases; users refer to it in --skip and config.
	ID string
	// Title is a one-line summary.
	Title string
	// Doc explains what the rule changes, why, and what it leaves alone.
	Doc string
	// After lists the IDs of rules that must run before this one (their
	// output is this rule's input). All orders the catalogue by it.
	After []string
	// Options names the command-line flags (and .composeopt.yaml keys)
	// that tune the rule; their values arrive in Pass.Options.
	Options []string
	// Run inspects the pass and records edits and findings.
	Run func(p *Pass)
}

// Finding is something a rule noticed.
type Finding struct {
	Rule    string `json:"rule"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	// File is the absolute path of the file Line is in when that is not
	// the build's Dockerfile (a compose file); "" for the Dockerfile.
	File string `json:"file,omitempty"`
	// NeedsHuman marks items the tool could not decide.
	NeedsHuman bool `json:"needs_human,omitempty"`
}

// Options tune the rules. DefaultOptions is the one place their defaults
// are set; a zero field means its default (WithDefaults fills it in).
type Options struct {
	UID        int    // account id for a created user
	HealthPath string // forced health-check path ("" = discover)
	Health     Health // HEALTHCHECK timing
}

// Health is the timing of an added HEALTHCHECK.
type Health struct {
	Interval, Timeout, StartPeriod time.Duration
	Retries                        int
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		UID:    10001,
		Health: Health{Interval: 30 * time.Second, Timeout: 5 * time.Second, StartPeriod: 40 * time.Second, Retries: 3},
	}
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	def := DefaultOptions()
	if o.UID == 0 {
		o.UID = def.UID
	}
	if o.Health.Interval == 0 {
		o.Health.Interval = def.Health.Interval
	}
	if o.Health.Timeout == 0 {
		o.Health.Timeout = def.Health.Timeout
	}
	if o.Health.StartPeriod == 0 {
		o.Health.StartPeriod = def.Health.StartPeriod
	}
	if o.Health.Retries == 0 {
		o.Health.Retries = def.Health.Retries
	}
	return o
}

// Flags returns the HEALTHCHECK flags, durations written the short way
// (30s, 1m, 1m30s).
func (h Health) Flags() string {
	return fmt.Sprintf("--interval=%s --timeout=%s --start-period=%s --retries=%d",
		shortDuration(h.Interval), shortDuration(h.Timeout), shortDuration(h.StartPeriod), h.Retries)
}

// shortDuration is time.Duration.String without zero trailing units
// ("1m" for 1m0s, "1h" for 1h0m0s).
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Pass is one rule's view of one build.
type Pass struct {
	File    *dockerfile.File
	Facts   *facts.Build
	Options Options
	rule    *Rule
	stages  *facts.Stages

	edits    []dockerfile.Edit
	findings []Finding
}

// Edit records a change to the Dockerfile.
func (p *Pass) Edit(e dockerfile.Edit) { p.edits = append(p.edits, e) }

// Report records a finding at a line.
func (p *Pass) Report(line int, format string, args ...any) {
	p.findings = append(p.findings, Finding{Rule: p.rule.ID, Line: line, Message: fmt.Sprintf(format, args...)})
}

// NeedsHuman records a finding a person must follow up.
func (p *Pass) NeedsHuman(line int, format string, args ...any) {
	p.findings = append(p.findings, Finding{Rule: p.rule.ID, Line: line, Message: fmt.Sprintf(format, args...), NeedsHuman: true})
}

// Stage returns the facts of a stage of this parse, computed once.
func (p *Pass) Stage(st *dockerfile.Stage) *facts.StageFacts {
	if p.stages == nil {
		p.stages = facts.NewStages(p.Facts, p.File)
	}
	return p.stages.Of(st)
}

// Runtime returns the stages compose builds (each service's target, or the
// last stage), without duplicates, in file order.
func (p *Pass) Runtime() []*dockerfile.Stage {
	seen := map[int]bool{}
	var out []*dockerfile.Stage
	for _, t := range p.Facts.Targets() {
		if st := p.File.Target(t); st != nil && !seen[st.Index] {
			seen[st.Index] = true
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// All returns every rule in run order: each rule after the rules its
// After names, otherwise in catalogue order.
func All() []*Rule { return runOrder(catalogue()) }

// runOrder sorts rules so that every rule comes after those its After
// names (a stable topological sort: among the rules that may run next, the
// first in the list goes first). After IDs not in the list are ignored;
// rules in a cycle keep their list order after all the others.
func runOrder(list []*Rule) []*Rule {
	index := map[string]int{}
	for i, r := range list {
		index[r.ID] = i
	}
	done := make([]bool, len(list))
	var out []*Rule
	for len(out) < len(list) {
		next := -1
		for i, r := range list {
			if done[i] {
				continue
			}
			ready := true
			for _, a := range r.After {
				if j, ok := index[a]; ok && !done[j] {
					ready = false
					break
				}
			}
			if ready {
				next = i
				break
			}
		}
		if next < 0 { // a cycle: keep list order
			for i, r := range list {
				if !done[i] {
					done[i] = true
					out = append(out, r)
				}
			}
			break
		}
		done[next] = true
		out = append(out, list[next])
	}
	return out
}

// Lookup returns the rule with the ID (case-insensitive).
func Lookup(id string) *Rule {
	for _, r := range catalogue() {
		if strings.EqualFold(r.ID, id) {
			return r
		}
	}
	return nil
}

// Result is what running the rules on one Dockerfile produced.
type Result struct {
	Output   []byte
	Applied  []string // IDs of rules that changed the file, in run order
	Findings []Finding
	// Lines maps each applied rule ID to the 1-based lines of Output that
	// its edits wrote (lines later rewritten by another rule count for both).
	Lines map[string][]int
	// File is Output parsed (the last pass's parse, which changed nothing).
	File *dockerfile.File
}

// maxPasses bounds how often the rule list is run to reach a fixed point;
// rules that still change the file after that are fighting each other.
const maxPasses = 5

// Apply runs the enabled rules on src until nothing changes.
func Apply(src []byte, fb *facts.Build, enabled []*Rule, opts Options) (*Result, error) {
	return apply(src, nil, fb, enabled, opts)
}

// ApplyFile is Apply on f, a parse of the source the caller already has
// (f.Src): the first rule reads it instead of a second parse. The rules
// never modify a File.
func ApplyFile(f *dockerfile.File, fb *facts.Build, enabled []*Rule, opts Options) (*Result, error) {
	return apply(f.Src, f, fb, enabled, opts)
}

func apply(src []byte, parsed *dockerfile.File, fb *facts.Build, enabled []*Rule, opts Options) (*Result, error) {
	opts = opts.WithDefaults()
	res := &Result{Output: src, Lines: map[string][]int{}}
	applied := map[string]bool{}
	// Findings are kept across passes (a rule may explain a change only in
	// the pass that made it), one per rule and message, with their lines
	// moved along as later edits shift the text.
	var findings []Finding
	index := map[[2]string]int{}
	var stages *facts.Stages
	if parsed != nil {
		res.File, stages = parsed, facts.NewStages(fb, parsed)
	}
	for pass := 0; ; pass++ {
		if pass == maxPasses {
			return nil, fmt.Errorf("rules %s did not reach a fixed point after %d passes", strings.Join(res.Applied, ", "), maxPasses)
		}
		changed := false
		for _, r := range enabled {
			// The file is parsed once here, then again after each rule
			// that changes the text (rules read the File and never
			// modify it); the stage facts go with the parse.
			if res.File == nil {
				f, err := dockerfile.Parse(res.Output)
				if err != nil {
					return nil, fmt.Errorf("after rule %s: %w", r.ID, err)
				}
				res.File, stages = f, facts.NewStages(fb, f)
			}
			f := res.File
			p := &Pass{File: f, Facts: fb, Options: opts, rule: r, stages: stages}
			r.Run(p)
			for _, fd := range p.findings {
				key := [2]string{fd.Rule, fd.Message}
				if i, ok := index[key]; ok {
					findings[i] = fd
				} else {
					index[key] = len(findings)
					findings = append(findings, fd)
				}
			}
			if len(p.edits) == 0 {
				continue
			}
			out, err := f.Apply(p.edits)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			if string(out) == string(res.Output) {
				continue
			}
			for id, lines := range res.Lines {
				res.Lines[id] = shiftLines(lines, p.edits)
			}
			res.Lines[r.ID] = mergeLines(res.Lines[r.ID], editedLines(p.edits))
			for i := range findings {
				if findings[i].Line > 0 {
					findings[i].Line = shiftLine(findings[i].Line, p.edits)
				}
			}
			// Parse the result now, again only where the edits touched it.
			nf, err := f.Edited(p.edits)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			res.Output = out
			res.File, stages = nf, facts.NewStages(fb, nf)
			changed = true
			if !applied[r.ID] {
				applied[r.ID] = true
				res.Applied = append(res.Applied, r.ID)
			}
		}
		if !changed {
			break
		}
	}
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Line < findings[j].Line })
	res.Findings = findings
	if res.File == nil { // no rule enabled
		f, err := dockerfile.Parse(res.Output)
		if err != nil {
			return nil, err
		}
		res.File = f
	}
	return res, nil
}

// editedLines returns the output lines that the edits wrote, given edits
// that apply to one file (as dockerfile.File.Apply applies them).
func editedLines(edits []dockerfile.Edit) []int {
	es := sortedEdits(edits)
	var out []int
	delta := 0
	for _, e := range es {
		n := strings.Count(e.Text, "\n")
		start := e.Start + delta
		for i := 0; i < n; i++ {
			out = append(out, start+i)
		}
		delta += n - (e.End - e.Start + 1)
	}
	return out
}

// shiftLine maps one line through the edits; a line the edits replaced
// maps to the start of its replacement.
func shiftLine(l int, edits []dockerfile.Edit) int {
	delta := 0
	for _, e := range sortedEdits(edits) {
		if l >= e.Start && l <= e.End {
			return e.Start + delta
		}
		if l > e.End || (e.End < e.Start && l >= e.Start) {
			delta += strings.Count(e.Text, "\n") - (e.End - e.Start + 1)
		}
	}
	return l + delta
}

// shiftLines maps line numbers of the text before the edits to the text
// after them; lines the edits removed or replaced are dropped.
func shiftLines(lines []int, edits []dockerfile.Edit) []int {
	es := sortedEdits(edits)
	var out []int
	for _, l := range lines {
		delta, gone := 0, false
		for _, e := range es {
			if l >= e.Start && l <= e.End {
				gone = true
				break
			}
			if l > e.End || (e.End < e.Start && l >= e.Start) {
				delta += strings.Count(e.Text, "\n") - (e.End - e.Start + 1)
			}
		}
		if !gone {
			out = append(out, l+delta)
		}
	}
	return out
}

func sortedEdits(edits []dockerfile.Edit) []dockerfile.Edit {
	es := append([]dockerfile.Edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Start < es[j].Start })
	return es
}

func mergeLines(a, b []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, l := range append(a, b...) {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Ints(out)
	return out
}
