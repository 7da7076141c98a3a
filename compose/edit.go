package compose

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EditError is a build whose compose reference could not be changed safely.
// EditDockerfileRefs returns one per failed build, joined.
type EditError struct {
	Build   *Build
	Service string // the service the problem was found on ("" when it concerns the whole build)
	File    string // the compose file concerned ("" when unknown)
	Err     error
}

func (e *EditError) Error() string {
	var where []string
	if e.File != "" && !strings.HasPrefix(e.Err.Error(), e.File) {
		where = append(where, e.File)
	}
	if e.Service != "" {
		where = append(where, "service "+e.Service)
	}
	if len(where) == 0 {
		where = append(where, "Dockerfile "+e.Build.Dockerfile)
	}
	return fmt.Sprintf("%s: %v", strings.Join(where, ": "), e.Err)
}

func (e *EditError) Unwrap() error { return e.Err }

type opKind int

const (
	opReplace opKind = iota // replace the value of an existing dockerfile: key
	opInsert                // add a dockerfile: key to a build mapping
	opExpand                // turn a short-form build into a mapping
	opEnv                   // append to the value of a variable in an env file
	opDefault               // append to the default of a ${VAR:-default} dockerfile: value
)

// editOp changes one build element so that it sets dockerfile: value.
type editOp struct {
	kind   opKind
	elem   buildElem
	value  string   // new dockerfile, relative to the context, slash-separated
	builds []*Build // builds that need this op
	// resolved is the dockerfile compose-go reads after the edit when it
	// differs from value (value is then the raw ${VAR:-default} text).
	resolved string
	// envFile, varName and suffix describe an opEnv edit.
	envFile, varName, suffix string
}

// result is the dockerfile value compose-go reads after op.
func (op *editOp) result() string {
	if op.resolved != "" {
		return op.resolved
	}
	return op.value
}

// EditDockerfileRefs rewrites the compose files so that every service of
// each build in refs uses the Dockerfile refs maps it to (an absolute path).
// The returned edits hold the complete new content of each changed file;
// nothing is written to disk. Every edit is verified before it is returned:
// the edited YAML must differ from the original only by the intended
// dockerfile keys, and the project re-loaded with compose-go from the edited
// files must equal the original one except for the migrated services'
// Dockerfile. Builds that cannot be edited safely are left out and reported
// as *EditError values joined in the returned error; the edits of the other
// builds are still returned.
func EditDockerfileRefs(p *Project, refs map[*Build]string) ([]FileEdit, error) {
	return EditProject(p, refs, nil)
}

// EditProject is EditDockerfileRefs that also adds `healthcheck: disable:
// true` to the services named in disable (workers of a migrated build whose
// image gains a HEALTHCHECK), in the same files and under the same checks,
// with one verifying re-load for both kinds of edit (see disableOne). A
// service whose health check cannot be disabled safely is reported as an
// *EditError with Service set and no Build; it does not hold back the
// dockerfile: edits.
func EditProject(p *Project, refs map[*Build]string, disable []string) ([]FileEdit, error) {
	if p == nil || p.state == nil {
		return nil, errors.New("EditDockerfileRefs needs a project returned by Load")
	}
	var pending []*Build
	for _, b := range p.Builds {
		if _, ok := refs[b]; ok {
			pending = append(pending, b)
		}
	}
	if len(pending) != len(refs) {
		return nil, errors.New("EditDockerfileRefs: refs contains a build that is not part of the project")
	}
	var errs []error
	drop := func(bad []*EditError) {
		for _, e := range bad {
			errs = append(errs, e)
			pending = slices.DeleteFunc(pending, func(b *Build) bool { return b == e.Build })
		}
	}
	// Each round removes at least one failing build, so this ends.
	for {
		ops, expected, bad := planEdits(p.state, pending, refs)
		if len(bad) > 0 {
			drop(bad)
			continue
		}
		// Health checks are disabled only for services of builds that are
		// still migrated, or that need no dockerfile: edit.
		var dis []string
		var skipped []error
		for _, s := range disable {
			ok := true
			for _, b := range p.Builds {
				if _, inRefs := refs[b]; inRefs && slices.Contains(b.Services, s) && !slices.Contains(pending, b) {
					ok = false
				}
			}
			if ok {
				dis = append(dis, s)
			} else {
				skipped = append(skipped, &EditError{Service: s, Err: errors.New("its build is not migrated")})
			}
		}
		edits, bad, derrs, err := applyAndVerify(p.state, ops, expected, pending, refs, dis)
		if (err != nil || len(bad) > 0) && len(dis) > 0 {
			// Try again without the health-check edits, which are then
			// reported instead of made.
			for _, s := range dis {
				errs = append(errs, &EditError{Service: s, Err: errors.New("not changed: the compose edits could not be verified together with it")})
			}
			disable = nil
			continue
		}
		if err != nil {
			return nil, errors.Join(append(errs, err)...)
		}
		if len(bad) == 0 {
			for _, e := range derrs {
				errs = append(errs, e)
			}
			return edits, errors.Join(append(errs, skipped...)...)
		}
		drop(bad)
	}
}

// planEdits chooses, for every service of the pending builds, the build
// element to change, making sure the change reaches no service that should
// keep its Dockerfile. It returns the operations and, for every service
// whose dockerfile value changes, the value it will have.
func planEdits(st *loadState, pending []*Build, refs map[*Build]string) ([]*editOp, map[string]string, []*EditError) {
	want := map[string]string{}
	owner := map[string]*Build{}
	var bad []*EditError
	for _, b := range pending {
		target := refs[b]
		if !filepath.IsAbs(target) {
			bad = append(bad, &EditError{Build: b, Err: fmt.Errorf("new Dockerfile %q is not an absolute path", target)})
			continue
		}
		rel, err := filepath.Rel(b.Context, target)
		if err != nil {
			bad = append(bad, &EditError{Build: b, Err: err})
			continue
		}
		for _, s := range b.Services {
			want[s] = filepath.ToSlash(rel)
			owner[s] = b
		}
	}
	if len(bad) > 0 {
		return nil, nil, bad
	}

	byNode := map[*yaml.Node]*editOp{}
	byEnv := map[string]*editOp{} // env file and variable → its edit
	var ops []*editOp
	failed := map[*Build]bool{}
	all := st.model.AllServices() // a new map per call: once, not per service
	for _, b := range pending {
		for _, s := range b.Services {
			if failed[b] {
				break
			}
			chain := st.chains[s]
			sc := all[s]
			if sc.Build != nil && resolveDockerfile(sc.Build) == refs[b] {
				continue // already points there
			}
			if v := st.vars[s]; v != nil {
				op, err := varOp(st, s, v, b, refs[b], want)
				if err != nil {
					bad = append(bad, &EditError{Build: b, Service: s, File: st.fileOf(s), Err: err})
					failed[b] = true
					continue
				}
				prev := byNode[op.elem.node]
				if op.kind == opEnv {
					prev = byEnv[op.envFile+"\x00"+op.varName]
				}
				if prev != nil {
					if !slices.Contains(prev.builds, b) {
						prev.builds = append(prev.builds, b)
					}
					continue
				}
				if op.kind == opEnv {
					byEnv[op.envFile+"\x00"+op.varName] = op
				} else {
					byNode[op.elem.node] = op
				}
				ops = append(ops, op)
				continue
			}
			elem, kind, err := chooseElem(st, s, chain, want)
			if err != nil {
				bad = append(bad, &EditError{Build: b, Service: s, File: st.fileOf(s), Err: err})
				failed[b] = true
				continue
			}
			if op := byNode[elem.node]; op != nil {
				if !slices.Contains(op.builds, b) {
					op.builds = append(op.builds, b)
				}
				continue
			}
			op := &editOp{kind: kind, elem: elem, value: want[s], builds: []*Build{b}}
			byNode[elem.node] = op
			ops = append(ops, op)
		}
	}
	if len(bad) > 0 {
		return nil, nil, bad
	}

	expected := map[string]string{}
	for s, chain := range st.chains {
		value, set := "", false
		for _, e := range chain {
			if op := byNode[e.node]; op != nil {
				value, set = op.result(), true
			} else if e.direct("dockerfile") != nil {
				set = false
			}
		}
		if v := st.vars[s]; v != nil && v.EnvFile != "" {
			if op := byEnv[v.EnvFile+"\x00"+v.Name]; op != nil {
				value, set = st.model.AllServices()[s].Build.Dockerfile+op.suffix, true
			}
		}
		if set {
			expected[s] = value
		}
	}
	return ops, expected, nil
}

// varOp is the edit that points service s, whose dockerfile: is variable v,
// at target: ".optimized" appended to the variable's value in its env file,
// or to the default written in the compose file when the variable is not
// set. Either must reach no service that keeps its Dockerfile.
func varOp(st *loadState, s string, v *DockerfileVar, b *Build, target string, want map[string]string) (*editOp, error) {
	suffix, ok := strings.CutPrefix(target, b.Current)
	if !ok || suffix == "" {
		return nil, fmt.Errorf("dockerfile: comes from ${%s}, which cannot name %s by appending to its value", v.Name, target)
	}
	if v.EnvFile != "" {
		for t, tv := range st.vars {
			if tv.Name == v.Name && want[t] != want[s] {
				return nil, fmt.Errorf("${%s} also sets the Dockerfile of service %s; edit it by hand", v.Name, t)
			}
		}
		return &editOp{kind: opEnv, envFile: v.EnvFile, varName: v.Name, suffix: suffix, builds: []*Build{b}}, nil
	}
	chain := st.chains[s]
	at := -1
	for i, e := range chain {
		if e.direct("dockerfile") != nil {
			at = i
		}
	}
	if at < 0 {
		return nil, errors.New("cannot find the dockerfile: key")
	}
	e := chain[at]
	for _, t := range affected(st, e.node) {
		if want[t] != want[s] {
			return nil, fmt.Errorf("the dockerfile: value at %s:%d is shared with service %s; edit it by hand", e.file.path, e.node.Line, t)
		}
	}
	raw := e.direct("dockerfile").value.Value
	_, def, _, _ := parseVarRef(raw)
	value, err := appendToDefault(raw, suffix)
	if err != nil {
		return nil, err
	}
	return &editOp{kind: opDefault, elem: e, value: value, resolved: def + suffix, suffix: suffix, builds: []*Build{b}}, nil
}

// chooseElem picks the element of chain to edit for service s: the one
// holding the winning dockerfile: key, else the one setting the context,
// else the last one. When that element is shared with services that must not
// change (an x- anchor used by other builds, a service others extend), a
// later element of the chain that only this build uses is tried instead.
func chooseElem(st *loadState, s string, chain []buildElem, want map[string]string) (buildElem, opKind, error) {
	if len(chain) == 0 {
		return buildElem{}, 0, errors.New("cannot find where the build is defined")
	}
	df := -1
	for i, e := range chain {
		if e.direct("dockerfile") != nil {
			df = i
		}
	}
	preferred := len(chain) - 1
	if df >= 0 {
		preferred = df
	} else {
		for i, e := range chain {
			if e.definesContext() {
				preferred = i
			}
		}
	}
	candidates := []int{preferred}
	for i := len(chain) - 1; i >= max(df, 0); i-- {
		if i != preferred {
			candidates = append(candidates, i)
		}
	}
	var others []string
	for _, i := range candidates {
		e := chain[i]
		others = others[:0]
		for _, t := range affected(st, e.node) {
			if want[t] != want[s] {
				others = append(others, t)
			}
		}
		if len(others) > 0 {
			continue
		}
		switch {
		case e.node.Kind == yaml.ScalarNode:
			return e, opExpand, nil
		case e.direct("dockerfile") != nil:
			return e, opReplace, nil
		default:
			return e, opInsert, nil
		}
	}
	e := chain[preferred]
	return buildElem{}, 0, fmt.Errorf("the build is defined at %s:%d, which services %s also use with a different Dockerfile; "+
		"add a dockerfile: key to service %s by hand", e.file.path, e.node.Line, strings.Join(others, ", "), s)
}

// affected lists the services whose Dockerfile would follow a dockerfile:
// key set on node: those that merge node and set no dockerfile after it.
func affected(st *loadState, node *yaml.Node) []string {
	var out []string
	for _, t := range st.usersOf(node) {
		chain := st.chains[t]
		at := slices.IndexFunc(chain, func(e buildElem) bool { return e.node == node })
		if !slices.ContainsFunc(chain[at+1:], func(e buildElem) bool { return e.direct("dockerfile") != nil }) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// usersOf returns the services whose build chain holds node. The index is
// built on first use: scanning every chain for every candidate element
// made planning edits quadratic in services.
func (st *loadState) usersOf(node *yaml.Node) []string {
	if st.users == nil {
		st.users = map[*yaml.Node][]string{}
		for t, chain := range st.chains {
			for i, e := range chain {
				if !slices.ContainsFunc(chain[:i], func(o buildElem) bool { return o.node == e.node }) {
					st.users[e.node] = append(st.users[e.node], t)
				}
			}
		}
	}
	return st.users[node]
}

// splice replaces src[start:end] with text.
type splice struct {
	start, end int
	text       string
}

// spliceFor computes the byte change that performs op on its file.
func spliceFor(op *editOp) (splice, error) {
	e := op.elem
	f := e.file
	val := yamlScalar(op.value)
	switch op.kind {
	case opReplace:
		kv := e.direct("dockerfile")
		start, end, err := f.scalarSpan(kv.value, e.node.Style&yaml.FlowStyle != 0)
		if err != nil {
			return splice{}, err
		}
		return splice{start, end, styled(kv.value, op.value)}, nil
	case opDefault:
		// Only the default's bytes grow: quoting and the reference stay.
		kv := e.direct("dockerfile")
		start, end, err := f.scalarSpan(kv.value, e.node.Style&yaml.FlowStyle != 0)
		if err != nil {
			return splice{}, err
		}
		at := bytes.LastIndexByte(f.src[start:end], '}')
		if at < 0 {
			return splice{}, fmt.Errorf("%s:%d: cannot find the end of %s", f.path, kv.value.Line, kv.value.Value)
		}
		return splice{start + at, start + at, op.suffix}, nil
	case opInsert:
		if e.node.Style&yaml.FlowStyle != 0 {
			if kv := e.direct("context"); kv != nil {
				_, end, err := f.scalarSpan(kv.value, true)
				if err != nil {
					return splice{}, err
				}
				return splice{end, end, ", dockerfile: " + val}, nil
			}
			open := f.offset(e.node.Line, e.node.Column)
			if open >= len(f.src) || f.src[open] != '{' {
				return splice{}, fmt.Errorf("%s:%d: unsupported flow mapping for build", f.path, e.node.Line)
			}
			text := "dockerfile: " + val
			if len(e.node.Content) > 0 {
				text += ", "
			}
			return splice{open + 1, open + 1, text}, nil
		}
		if kv := e.direct("context"); kv != nil {
			ind, err := f.indentOf(kv.key)
			if err != nil {
				return splice{}, err
			}
			_, end, err := f.scalarSpan(kv.value, false)
			if err != nil {
				return splice{}, err
			}
			nl := f.lineEnd(end)
			if nl == len(f.src) {
				return splice{nl, nl, f.eol + ind + "dockerfile: " + val}, nil
			}
			return splice{nl + 1, nl + 1, ind + "dockerfile: " + val + f.eol}, nil
		}
		first := e.node.Content[0]
		ind, err := f.indentOf(first)
		if err != nil {
			return splice{}, err
		}
		at := f.lines[first.Line-1]
		return splice{at, at, ind + "dockerfile: " + val + f.eol}, nil
	default: // opExpand
		if e.inFlow || e.key == nil || e.node.Anchor != "" {
			return splice{}, fmt.Errorf("%s:%d: cannot turn this short-form build into a mapping; write `build: {context: ..., dockerfile: %s}` by hand",
				f.path, e.node.Line, op.value)
		}
		ind, err := f.indentOf(e.key)
		if err != nil {
			return splice{}, err
		}
		ind += strings.Repeat(" ", e.step)
		start, end, err := f.scalarSpan(e.node, false)
		if err != nil {
			return splice{}, err
		}
		cut := start
		for cut > 0 && (f.src[cut-1] == ' ' || f.src[cut-1] == '\t') {
			cut--
		}
		le := f.lineEnd(end)
		if le > end && f.src[le-1] == '\r' {
			le--
		}
		text := f.eol + ind + "context: " + string(f.src[start:le]) + f.eol + ind + "dockerfile: " + val
		return splice{cut, le, text}, nil
	}
}

// lineEnd returns the offset of the newline ending the line containing pos,
// or len(src).
func (f *yamlFile) lineEnd(pos int) int {
	for i := pos; i < len(f.src); i++ {
		if f.src[i] == '\n' {
			return i
		}
	}
	return len(f.src)
}

// indentOf returns the whitespace before key on its line.
func (f *yamlFile) indentOf(key *yaml.Node) (string, error) {
	start := f.lines[key.Line-1]
	at := f.offset(key.Line, key.Column)
	ind := string(f.src[start:at])
	if strings.Trim(ind, " \t") != "" {
		return "", fmt.Errorf("%s:%d: key %s does not start its line", f.path, key.Line, key.Value)
	}
	return ind, nil
}

// scalarSpan returns the byte range of a one-line scalar as written,
// quotes included, trailing comment and spaces excluded.
func (f *yamlFile) scalarSpan(n *yaml.Node, flow bool) (int, int, error) {
	unsupported := func(why string) (int, int, error) {
		return 0, 0, fmt.Errorf("%s:%d:%d: cannot edit this value in place (%s)", f.path, n.Line, n.Column, why)
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return unsupported("not a plain string")
	}
	start := f.offset(n.Line, n.Column)
	src := f.src
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if start >= len(src) || src[start] != '"' {
			return unsupported("unexpected position")
		}
		for i := start + 1; i < len(src) && src[i] != '\n'; i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return start, i + 1, nil
			}
		}
		return unsupported("multi-line string")
	case n.Style&yaml.SingleQuotedStyle != 0:
		if start >= len(src) || src[start] != '\'' {
			return unsupported("unexpected position")
		}
		for i := start + 1; i < len(src) && src[i] != '\n'; i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return start, i + 1, nil
			}
		}
		return unsupported("multi-line string")
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return unsupported("block scalar")
	}
	end := start
	for end < len(src) {
		c := src[end]
		if c == '\n' || c == '\r' || (flow && (c == ',' || c == '}' || c == ']')) {
			break
		}
		if c == '#' && end > start && (src[end-1] == ' ' || src[end-1] == '\t') {
			break
		}
		end++
	}
	for end > start && (src[end-1] == ' ' || src[end-1] == '\t') {
		end--
	}
	if string(src[start:end]) != n.Value {
		return unsupported("multi-line or tagged value")
	}
	return start, end, nil
}

var plainSafe = regexp.MustCompile(`^[A-Za-z0-9_./][A-Za-z0-9_./@+-]*$`)

// yamlScalar writes v as a plain scalar when YAML reads it back as the same
// string, double-quoted otherwise.
func yamlScalar(v string) string {
	if plainSafe.MatchString(v) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			switch strings.ToLower(v) {
			case "true", "false", "yes", "no", "on", "off", "null", "y", "n":
			default:
				return v
			}
		}
	}
	return strconv.Quote(v)
}

// styled writes v with the quoting style of the scalar it replaces.
func styled(n *yaml.Node, v string) string {
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return strconv.Quote(v)
	case n.Style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return yamlScalar(v)
}

// applySplices returns src with the splices applied; they must not overlap.
func applySplices(src []byte, sp []splice) ([]byte, error) {
	sort.Slice(sp, func(i, j int) bool { return sp[i].start < sp[j].start })
	var out []byte
	pos := 0
	for _, s := range sp {
		if s.start < pos {
			return nil, errors.New("overlapping edits")
		}
		out = append(out, src[pos:s.start]...)
		out = append(out, s.text...)
		pos = s.end
	}
	return append(out, src[pos:]...), nil
}
