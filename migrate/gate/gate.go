// Package gate decides whether an optimized Dockerfile is good enough to
// write out. It runs BuildKit's own Dockerfile frontend entirely offline: the
// `docker build --check` linter and the Dockerfile-to-LLB conversion, with
// every base image answered by a local stub instead of a registry.
package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/composeopt/composeopt/migrate/dockerfile"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Warning is one finding of BuildKit's Dockerfile linter.
type Warning struct {
	// RuleName is the check's name, e.g. "JSONArgsRecommended".
	RuleName string
	// Line is the 1-based line the finding starts on, 0 when BuildKit gave no location.
	Line int
	// Message is the finding's text as `docker build --check` prints it.
	Message string
	// URL points at the rule's documentation.
	URL string
}

func (w Warning) String() string {
	return fmt.Sprintf("line %d: %s: %s", w.Line, w.RuleName, w.Message)
}

// platform is the fixed target platform used for every offline run, so that
// results do not depend on the machine composeopt runs on.
var platform = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// lints and conversions count the BuildKit frontend runs of this process.
var lints, conversions atomic.Int64

// Counts returns how many times this process has run BuildKit's linter and
// its Dockerfile-to-LLB conversion. A counter for tests that check the
// planner's design (both run once per build on its final bytes, never per
// rule pass), not a timing.
func Counts() (lint, convert int64) { return lints.Load(), conversions.Load() }

// Lint runs the rule set of `docker build --check` on src without touching the
// network, honouring any `# check=` directive in the file. name is only used
// in messages. A file BuildKit cannot parse or convert yields an error that
// names the file and, when known, the line.
func Lint(name string, src []byte) ([]Warning, error) {
	return lintWithArgs(name, src, nil)
}

// lintWithArgs lints every stage of src with the given build arguments, which
// a Dockerfile whose FROM depends on a required ARG needs in order to convert.
func lintWithArgs(name string, src []byte, args map[string]string) ([]Warning, error) {
	lints.Add(1)
	res, err := dockerfile2llb.DockerfileLint(context.Background(), src, convertOpt(name, src, "", args))
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", name, err)
	}
	if res.Error != nil {
		return nil, fmt.Errorf("lint %s: %s", position(name, firstLine(&res.Error.Location)), res.Error.Message)
	}
	out := make([]Warning, 0, len(res.Warnings))
	for _, w := range res.Warnings {
		out = append(out, Warning{
			RuleName: w.RuleName,
			Line:     firstLine(w.Location),
			Message:  w.Detail,
			URL:      w.URL,
		})
	}
	return out, nil
}

// Convert translates src into an LLB graph for target ("" selects the last
// stage) with the given build arguments, as `docker build` would before
// pulling anything. It catches what the parser alone cannot: unknown targets,
// bad stage references, invalid flag values and ARG expansion problems.
func Convert(name string, src []byte, target string, args map[string]string) error {
	conversions.Add(1)
	ctx := context.Background()
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, src, convertOpt(name, src, target, args))
	if err != nil {
		return fmt.Errorf("convert %s%s: %w", position(name, errorLine(err)), targetSuffix(target), err)
	}
	if _, err := res.State.Marshal(ctx); err != nil {
		return fmt.Errorf("convert %s%s: marshal LLB: %w", name, targetSuffix(target), err)
	}
	return nil
}

// lintConvert lints every stage of src, as Lint does, and converts its
// default target to LLB, as Convert does, in one run of the frontend.
func lintConvert(name string, src []byte, args map[string]string) ([]Warning, error) {
	conversions.Add(1)
	var out []Warning
	opt := convertOpt(name, src, "", args)
	opt.AllStages = true
	opt.Warn = func(rule, _, url, msg string, loc []parser.Range) {
		w := Warning{RuleName: rule, Message: msg, URL: url}
		if len(loc) > 0 {
			w.Line = loc[0].Start.Line
		}
		out = append(out, w)
	}
	ctx := context.Background()
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, src, opt)
	if err != nil {
		return nil, err
	}
	if _, err := res.State.Marshal(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// FullLimit is the longest stage, in instructions, that the full gate
// checks; a stage built FROM an earlier stage counts that stage's
// instructions too. BuildKit's frontend is quadratic in a stage's length:
// every instruction looks its state up through all the earlier ones, every
// ENV copies the environment, and the LLB of every RUN carries the whole
// environment (a stage of 4,000 ENV and RUN lines converts to 21 MB of
// LLB). Up to this size the full gate costs at most a few hundred
// milliseconds; beyond it Check runs the reduced gate.
const FullLimit = 2000

// Result says how thoroughly Check judged a file.
type Result struct {
	// Reduced is "" when the full gate ran. Otherwise it says why only the
	// reduced gate ran and which checks it left out: BuildKit parsed both
	// files, ran the checks it makes while parsing and validated the flag
	// values that use no variable, but did not run its stage checks (those
	// that follow variables, the working directory, or the instructions
	// allowed once per stage) nor the LLB conversion.
	Reduced string
}

// Check is the quality gate for an optimization. optimized must lint without
// any finding that orig did not already have, must keep orig's `# check=`
// directive (so that rules cannot be switched off by the rewrite), and must
// convert for every entry of targets (an empty list means the default
// target). args are the build arguments used for both steps. Findings are matched by rule name and message, ignoring line
// numbers, and counted, so a second copy of an existing finding is new.
//
// When a stage of either file is longer than FullLimit, the linter and the
// conversion would take quadratic time: Check then runs the reduced gate
// (see Result.Reduced), which is linear, and says so in its Result.
func Check(name string, orig, optimized []byte, targets []string, args map[string]string) (Result, error) {
	origCheck, _, _, _ := dockerfile.ParseDirective("check", orig)
	optCheck, _, _, _ := dockerfile.ParseDirective("check", optimized)
	if origCheck != optCheck {
		return Result{}, fmt.Errorf("gate %s: the check directive changed from %q to %q", name, origCheck, optCheck)
	}
	if len(targets) == 0 {
		targets = []string{""}
	}
	// A stage has at most as many instructions as the file has lines: most
	// files need no measuring.
	if bytes.Count(orig, []byte("\n")) < FullLimit && bytes.Count(optimized, []byte("\n")) < FullLimit {
		return Result{}, full(name, orig, optimized, origCheck, targets, args)
	}
	// Both files are parsed once by BuildKit's parser to measure their
	// stages. A file that does not parse takes the full gate, which reports
	// the error as it always has and stops as early, unless the original is
	// too long for the full gate's linter.
	o, oerr := parseLint(name+" (original)", "the original", orig)
	p, perr := parseLint(name, "the optimized file", optimized)
	switch {
	case oerr != nil:
	case perr != nil:
		if tooLong(o) != "" {
			return Result{}, fmt.Errorf("gate: %w", perr)
		}
	default:
		if why := tooLong(o, p); why != "" {
			if err := reduced(name, o, p, targets); err != nil {
				return Result{}, err
			}
			return Result{Reduced: why}, nil
		}
	}
	return Result{}, full(name, orig, optimized, origCheck, targets, args)
}

// full is the full gate: BuildKit's linter on both files and its LLB
// conversion of the optimized one for every target.
func full(name string, orig, optimized []byte, directive string, targets []string, args map[string]string) error {
	// One frontend run lints every stage of the optimized file and converts
	// its default target (BuildKit's frontend costs the same for either,
	// and is quadratic in a stage's length). Should it fail, the steps run
	// one by one so that the error is the one each step reports.
	after, err := lintConvert(name, optimized, args)
	if err == nil && targets[0] == "" {
		targets = targets[1:]
	} else if after, err = lintWithArgs(name, optimized, args); err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	// The original's findings are the budget the optimized file's are
	// matched against: with no finding to match, and no check directive
	// (under which the linter could fail the original itself), its lint
	// cannot change the verdict and is not run. It was a third of the
	// gate's time on a 1,000-service plan.
	if len(after) > 0 || directive != "" {
		before, err := lintWithArgs(name+" (original)", orig, args)
		if err != nil {
			return fmt.Errorf("gate: %w", err)
		}
		if err := noNewWarnings(name, before, after); err != nil {
			return err
		}
	}
	for _, t := range targets {
		if err := Convert(name, optimized, t, args); err != nil {
			return fmt.Errorf("gate: %w", err)
		}
	}
	return nil
}

// parsed is a file as BuildKit's parser sees it, with the findings of the
// checks BuildKit makes while parsing.
type parsed struct {
	name     string // for messages
	role     string // "the original" or "the optimized file"
	stages   []instructions.Stage
	warnings []Warning
	lintErr  error // the linter's error when the file asks for errors on findings
}

// parseLint parses src with BuildKit's parser and instruction parser,
// collecting the parse-time findings under src's own `# check=` directive.
// It is linear in the length of src.
func parseLint(name, role string, src []byte) (*parsed, error) {
	p := &parsed{name: name, role: role}
	directive, _, _, _ := dockerfile.ParseDirective("check", src)
	cfg, err := linter.ParseLintOptions(directive)
	if err != nil {
		return nil, fmt.Errorf("parse %s: check directive: %w", name, err)
	}
	cfg.Warn = func(rule, _, url, msg string, loc []parser.Range) {
		w := Warning{RuleName: rule, Message: msg, URL: url}
		if len(loc) > 0 {
			w.Line = loc[0].Start.Line
		}
		p.warnings = append(p.warnings, w)
	}
	lint := linter.New(cfg)
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", position(name, errorLine(err)), err)
	}
	// As the frontend does: the parser's warnings are empty continuation lines.
	for _, w := range ast.Warnings {
		if w.URL == linter.RuleNoEmptyContinuation.URL && w.Location != nil {
			lint.Run(&linter.RuleNoEmptyContinuation, []parser.Range{*w.Location}, linter.RuleNoEmptyContinuation.Format())
		}
	}
	if p.stages, _, err = instructions.Parse(ast.AST, lint); err != nil {
		return nil, fmt.Errorf("parse %s: %w", position(name, errorLine(err)), err)
	}
	if len(p.stages) == 0 {
		return nil, fmt.Errorf("parse %s: no stages to build", name)
	}
	p.lintErr = lint.Error()
	return p, nil
}

// tooLong says which stage of the files is longer than FullLimit, or "".
func tooLong(files ...*parsed) string {
	for _, f := range files {
		chain := make([]int, len(f.stages))
		byName := map[string]int{}
		for i, st := range f.stages {
			chain[i] = len(st.Commands)
			if j, ok := byName[strings.ToLower(st.BaseName)]; ok {
				chain[i] += chain[j]
			}
			if st.Name != "" {
				byName[strings.ToLower(st.Name)] = i
			}
			if chain[i] > FullLimit {
				stage := st.Name
				if stage == "" {
					stage = fmt.Sprintf("#%d", i)
				}
				return fmt.Sprintf("reduced quality gate: stage %s of %s has %d instructions (the full gate stops at %d, beyond which BuildKit's checks take quadratic time); "+
					"BuildKit parsed both files, ran its parse-time checks and validated the flags that use no variable, but not its stage checks nor the LLB conversion", stage, f.role, chain[i], FullLimit)
			}
		}
	}
	return ""
}

// reduced is the linear gate: no parse-time finding that the original did
// not have, the linter's error mode honoured, and every target a stage.
func reduced(name string, orig, opt *parsed, targets []string) error {
	if orig.lintErr != nil {
		return fmt.Errorf("gate: lint %s: %w", orig.name, orig.lintErr)
	}
	if opt.lintErr != nil {
		return fmt.Errorf("gate: lint %s: %w", opt.name, opt.lintErr)
	}
	if err := noNewWarnings(name, orig.warnings, opt.warnings); err != nil {
		return err
	}
	// The flag values BuildKit reads only when it dispatches an
	// instruction (RUN --mount, COPY --chmod, ...): validated as written,
	// for the instructions that use no variable.
	same := func(word string) (string, error) { return word, nil }
	for _, st := range opt.stages {
		for _, c := range st.Commands {
			ex, ok := c.(instructions.SupportsSingleWordExpansion)
			if _, arg := c.(*instructions.ArgCommand); !ok || arg {
				continue
			}
			if s, ok := c.(fmt.Stringer); ok && strings.Contains(s.String(), "$") {
				continue
			}
			if err := ex.Expand(same); err != nil {
				return fmt.Errorf("gate: %s: %w", position(name, firstRangeLine(c.Location())), err)
			}
		}
	}
	for _, t := range targets {
		if t == "" {
			continue
		}
		found := false
		for _, st := range opt.stages {
			found = found || strings.EqualFold(st.Name, t)
		}
		if !found {
			return fmt.Errorf("gate: %s%s: target stage %q could not be found", name, targetSuffix(t), t)
		}
	}
	return nil
}

// noNewWarnings fails when after has findings that before did not.
func noNewWarnings(name string, before, after []Warning) error {
	if added := newWarnings(before, after); len(added) > 0 {
		lines := make([]string, len(added))
		for i, w := range added {
			lines[i] = "  " + w.String()
		}
		return fmt.Errorf("gate %s: %d new lint warning(s):\n%s", name, len(added), strings.Join(lines, "\n"))
	}
	return nil
}

// newWarnings returns the findings of after that are not matched one-for-one
// by a finding of before with the same rule and message, in line order.
func newWarnings(before, after []Warning) []Warning {
	type key struct{ rule, msg string }
	budget := make(map[key]int, len(before))
	for _, w := range before {
		budget[key{w.RuleName, w.Message}]++
	}
	sorted := append([]Warning(nil), after...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Line < sorted[j].Line })
	var added []Warning
	for _, w := range sorted {
		k := key{w.RuleName, w.Message}
		if budget[k] > 0 {
			budget[k]--
			continue
		}
		added = append(added, w)
	}
	return added
}

// convertOpt builds the frontend options shared by Lint and Convert. The
// source map needs a non-nil Definition: the linter serialises it.
func convertOpt(name string, src []byte, target string, args map[string]string) dockerfile2llb.ConvertOpt {
	p := platform
	return dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			Target:    target,
			BuildArgs: args,
		},
		SourceMap: &llb.SourceMap{
			Filename:   name,
			Language:   "Dockerfile",
			Data:       src,
			Definition: &llb.Definition{},
		},
		TargetPlatform: &p,
		MetaResolver:   stubResolver{},
	}
}

// stubResolver stands in for a registry. Every image exists and has a minimal
// Linux config for the requested platform: one layer (so it is not treated as
// scratch) and the usual PATH, so rules such as UndefinedVar see what a real
// base image would provide for $PATH.
type stubResolver struct{}

func (stubResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	p := platform
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	cfg := map[string]any{
		"os":           p.OS,
		"architecture": p.Architecture,
		"variant":      p.Variant,
		"rootfs": map[string]any{
			"type":     "layers",
			"diff_ids": []string{digest.FromString(ref).String()},
		},
		"config": map[string]any{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
	}
	dt, err := json.Marshal(cfg)
	if err != nil {
		return "", "", nil, fmt.Errorf("stub image config for %s: %w", ref, err)
	}
	return ref, "", dt, nil
}

// firstLine returns the start line of the first range of loc, or 0.
func firstLine(loc *pb.Location) int {
	if loc == nil || len(loc.Ranges) == 0 || loc.Ranges[0].Start == nil {
		return 0
	}
	return int(loc.Ranges[0].Start.Line)
}

// firstRangeLine returns the start line of the first of ranges, or 0.
func firstRangeLine(ranges []parser.Range) int {
	if len(ranges) == 0 {
		return 0
	}
	return ranges[0].Start.Line
}

// errorLine returns the first source line attached to a frontend error, or 0.
func errorLine(err error) int {
	var le *parser.LocationError
	if !errors.As(err, &le) {
		return 0
	}
	for _, ranges := range le.Locations {
		if len(ranges) > 0 {
			return ranges[0].Start.Line
		}
	}
	return 0
}

// position formats "name:line", or just name when the line is unknown.
func position(name string, line int) string {
	if line <= 0 {
		return name
	}
	return fmt.Sprintf("%s:%d", name, line)
}

func targetSuffix(target string) string {
	if target == "" {
		return " (default target)"
	}
	return fmt.Sprintf(" (target %q)", target)
}
