package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/composeopt/composeopt/migrate/lockfile"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// reloadAlways makes applyAndVerify verify every edit by re-loading the
// project, even when proveEdits proves it (tests compare the two).
var reloadAlways bool

// proved counts the edits verified by proveEdits alone (for tests).
var proved atomic.Int64

// applyAndVerify applies ops and checks the result. Problems that can be
// pinned on builds are returned as EditErrors (the caller retries without
// those builds); anything else is a plain error.
//
// disable names services whose health check is turned off in the same
// files (see disableOne); those that cannot be edited come back as the
// third result, and the others are checked by the same re-load.
func applyAndVerify(st *loadState, ops []*editOp, expected map[string]string, pending []*Build, refs map[*Build]string, disable []string) ([]FileEdit, []*EditError, []*EditError, error) {
	byFile := map[*yamlFile][]*editOp{}
	envOps := map[string][]*editOp{}
	var envFiles []string
	for _, op := range ops {
		if op.kind == opEnv {
			if envOps[op.envFile] == nil {
				envFiles = append(envFiles, op.envFile)
			}
			envOps[op.envFile] = append(envOps[op.envFile], op)
			continue
		}
		byFile[op.elem.file] = append(byFile[op.elem.file], op)
	}
	blame := func(fileOps []*editOp, file, service string, err error) []*EditError {
		var out []*EditError
		for _, op := range fileOps {
			for _, b := range op.builds {
				if !slices.ContainsFunc(out, func(e *EditError) bool { return e.Build == b }) {
					out = append(out, &EditError{Build: b, File: file, Service: service, Err: err})
				}
			}
		}
		return out
	}

	var edits []FileEdit
	content := map[string][]byte{}
	// parsed holds the parses of the edited files made by checkYAMLDiff,
	// for disableAll to find the services' keys in.
	parsed := map[string]*yamlFile{}
	var bad []*EditError
	for f, fileOps := range byFile {
		var sp []splice
		for _, op := range fileOps {
			s, err := spliceFor(op)
			if err != nil {
				bad = append(bad, blame([]*editOp{op}, f.path, "", err)...)
				continue
			}
			sp = append(sp, s)
		}
		if len(sp) < len(fileOps) {
			continue
		}
		out, err := applySplices(f.src, sp)
		var doc *yaml.Node
		if err == nil {
			doc, err = checkYAMLDiff(f, out, fileOps)
		}
		if err != nil {
			bad = append(bad, blame(fileOps, f.path, "", err)...)
			continue
		}
		if len(disable) > 0 {
			if pf, err := fileFromDoc(f.path, out, doc); err == nil {
				parsed[f.path] = pf
			}
		}
		content[f.path] = out
		edits = append(edits, FileEdit{Path: f.path, Old: f.src, New: out})
	}
	// Env file edits: ".optimized" appended to a variable's value.
	envPatch := map[string]string{}
	for _, path := range envFiles {
		src, err := safefs.ReadRegular(safefs.EnvFile, path)
		if err != nil {
			bad = append(bad, blame(envOps[path], path, "", err)...)
			continue
		}
		if _, isCompose := content[path]; isCompose {
			bad = append(bad, blame(envOps[path], path, "", errors.New("the env file is also a compose file"))...)
			continue
		}
		out := src
		for _, op := range envOps[path] {
			if out, err = appendToEnvValue(path, out, op.varName, op.suffix); err != nil {
				break
			}
			envPatch[op.varName] = st.model.Environment[op.varName] + op.suffix
		}
		if err != nil {
			bad = append(bad, blame(envOps[path], path, "", err)...)
			continue
		}
		content[path] = out
		edits = append(edits, FileEdit{Path: path, Old: src, New: out})
	}
	if len(bad) > 0 {
		return nil, bad, nil, nil
	}
	var derrs []*EditError
	var done []string
	old := map[string][]byte{}
	for _, e := range edits {
		old[e.Path] = e.Old
	}
	done, errs := disableAll(st, content, parsed, disable)
	for _, svc := range disable {
		if e := errs[svc]; e != nil {
			derrs = append(derrs, e)
		}
	}
	for path := range content {
		if _, ok := old[path]; !ok {
			old[path] = st.loc.files[path].src
		}
	}
	if len(ops) == 0 && len(done) == 0 {
		return nil, nil, derrs, nil
	}
	edits = edits[:0]
	for _, path := range slices.Sorted(maps.Keys(content)) {
		edits = append(edits, FileEdit{Path: path, Old: old[path], New: content[path]})
	}

	if !reloadAlways {
		if why := proveEdits(st, ops, expected, pending, refs, done); why == "" {
			proved.Add(1)
			return edits, nil, derrs, nil
		}
	}
	reloaded, root, err := reloadWith(st, content)
	if err != nil {
		return nil, blame(ops, "", "", fmt.Errorf("the edited project does not load: %w", err)), derrs, nil
	}
	unprefix := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(root), nil) }

	// Which ops can have changed a service: those on an element of its chain.
	opsOf := func(s string) []*editOp {
		var out []*editOp
		for _, op := range ops {
			if op.kind == opEnv {
				if v := st.vars[s]; v != nil && v.EnvFile == op.envFile && v.Name == op.varName {
					out = append(out, op)
				}
				continue
			}
			if slices.ContainsFunc(st.chains[s], func(e buildElem) bool { return e.node == op.elem.node }) {
				out = append(out, op)
			}
		}
		return out
	}

	before, after := st.model.AllServices(), reloaded.AllServices()
	for _, name := range slices.Sorted(maps.Keys(before)) {
		nb, ok := after[name]
		if !ok {
			return nil, nil, nil, fmt.Errorf("service %s disappeared after editing the compose files", name)
		}
		bsc := before[name]
		if slices.Contains(done, name) {
			// The one intended difference: the health check is disabled.
			if nb.HealthCheck == nil || !nb.HealthCheck.Disable {
				return nil, nil, nil, fmt.Errorf("service %s: the health check is not disabled after the edit", name)
			}
			bsc.HealthCheck, nb.HealthCheck = nil, nil
		}
		want, err := serviceJSON(bsc, expected[name], nil)
		if err != nil {
			return nil, nil, nil, err
		}
		got, err := serviceJSON(nb, "", unprefix)
		if err != nil {
			return nil, nil, nil, err
		}
		if !bytes.Equal(want, got) {
			culprits := opsOf(name)
			if len(culprits) == 0 {
				return nil, nil, nil, fmt.Errorf("service %s changed after editing the compose files", name)
			}
			return nil, blame(culprits, st.fileOf(name), name,
				fmt.Errorf("re-loading the edited project changes more than the Dockerfile:\n  want %s\n  got  %s", want, got)), nil, nil
		}
	}
	if len(after) != len(before) {
		return nil, nil, nil, errors.New("editing the compose files added services")
	}
	for _, b := range pending {
		for _, s := range b.Services {
			sb := after[s].Build
			if sb == nil {
				return nil, blame(opsOf(s), st.fileOf(s), s, errors.New("the edited project has no build")), nil, nil
			}
			df := string(unprefix([]byte(resolveDockerfile(sb))))
			if df != refs[b] {
				return nil, []*EditError{{Build: b, Service: s, File: st.fileOf(s),
					Err: fmt.Errorf("the edited project builds %s, not %s", df, refs[b])}}, nil, nil
			}
		}
	}
	pb, err := projectJSON(st.model, nil, envPatch)
	if err != nil {
		return nil, nil, nil, err
	}
	pa, err := projectJSON(reloaded, unprefix, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	if !bytes.Equal(pb, pa) {
		return nil, nil, nil, errors.New("editing the compose files changed project-level settings")
	}
	return edits, nil, derrs, nil
}

// fileOf names the compose file holding the last part of service s's build.
func (st *loadState) fileOf(s string) string {
	if c := st.chains[s]; len(c) > 0 {
		return c[len(c)-1].file.path
	}
	return ""
}

// serviceJSON encodes a service for comparison, with its build's dockerfile
// replaced by dockerfile when that is not empty.
func serviceJSON(sc types.ServiceConfig, dockerfile string, fix func([]byte) []byte) ([]byte, error) {
	if sc.Build != nil && dockerfile != "" {
		b := *sc.Build
		b.Dockerfile = dockerfile
		sc.Build = &b
	}
	out, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", sc.Name, err)
	}
	if fix != nil {
		out = fix(out)
	}
	return out, nil
}

// projectJSON encodes everything in a project but its services, with the
// environment variables in envPatch set to their values there.
func projectJSON(p *types.Project, fix func([]byte) []byte, envPatch map[string]string) ([]byte, error) {
	q := *p
	q.Services, q.DisabledServices = nil, nil
	env := p.Environment
	if len(envPatch) > 0 {
		env = maps.Clone(env)
		maps.Copy(env, envPatch)
		q.Environment = env
	}
	out, err := json.Marshal(struct {
		P       types.Project
		Env     types.Mapping
		Files   int
		Profile []string
	}{q, env, len(p.ComposeFiles), p.Profiles})
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", p.Name, err)
	}
	if fix != nil {
		out = fix(out)
	}
	return out, nil
}

// reloadWith loads the project again as if the edited files had their new
// content. compose-go reads -f files, included files and extends: files from
// disk by path, and resolves relative paths against their directories, so
// the new bytes must live at a path that behaves like the original one. The
// overlay is a temporary directory root in which root+P is a symlink to P for
// every path P, except for the edited files (real files with the new bytes)
// and their ancestor directories (real directories whose other entries are
// symlinks). The project is loaded from root+files with root+dir as project
// directory; every path in the resulting model then starts with root, which
// the caller strips before comparing. Nothing outside root is written.
func reloadWith(st *loadState, content map[string][]byte) (*types.Project, string, error) {
	root, done, err := lockfile.TempDir("reload")
	if err != nil {
		return nil, "", err
	}
	defer done()
	if err := buildOverlay(root, content); err != nil {
		return nil, "", err
	}
	in := func(p string) string { return filepath.Join(root, strings.TrimPrefix(p, filepath.VolumeName(p))) }
	opts := st.opts
	opts.Files = nil
	for _, f := range st.opts.Files {
		opts.Files = append(opts.Files, in(f))
	}
	opts.ProjectDirectory = in(st.opts.ProjectDirectory)
	opts.EnvFiles = nil
	for _, f := range st.opts.EnvFiles {
		opts.EnvFiles = append(opts.EnvFiles, in(f))
	}
	opts.WorkingDir = in(st.opts.WorkingDir)
	// The overlay's links lead to the real project, which the first load
	// already confined.
	opts.AllowOutside = append(slices.Clone(st.opts.AllowOutside), st.opts.ProjectDirectory)
	ld, err := loadModel(context.Background(), opts)
	if err != nil {
		return nil, "", errors.New(strings.ReplaceAll(err.Error(), root, ""))
	}
	return ld.model, root, nil
}

func buildOverlay(root string, content map[string][]byte) error {
	dirs := map[string]bool{}
	for p := range content {
		for d := filepath.Dir(p); !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	in := func(p string) string { return filepath.Join(root, strings.TrimPrefix(p, filepath.VolumeName(p))) }
	for d := range dirs {
		if err := os.MkdirAll(in(d), 0o755); err != nil {
			return err
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			if _, edited := content[p]; edited || dirs[p] {
				continue
			}
			if err := os.Symlink(p, in(p)); err != nil {
				return err
			}
		}
	}
	for p, b := range content {
		if err := os.WriteFile(in(p), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkYAMLDiff parses the edited text and checks that it means the same as
// the original except for the dockerfile keys set by ops. It returns the
// edited text's document node.
//
// The original is the locator's parse of f.src (f.doc), which the
// comparison only reads; a file without one is parsed again.
func checkYAMLDiff(f *yamlFile, edited []byte, ops []*editOp) (*yaml.Node, error) {
	doc := new(yaml.Node)
	if err := unmarshalYAML(edited, doc); err != nil {
		return nil, fmt.Errorf("the edited file is not valid YAML: %w", err)
	}
	orig := f.doc
	if orig == nil {
		orig = new(yaml.Node)
		if err := unmarshalYAML(f.src, orig); err != nil {
			return nil, err
		}
	}
	// The ops' nodes are the locator's; match them by position, which
	// also holds for a separate parse of the same bytes.
	byPos := map[[2]int]*editOp{}
	for _, op := range ops {
		byPos[[2]int{op.elem.node.Line, op.elem.node.Column}] = op
	}
	c := yamlCmp{file: f.path, ops: byPos}
	if err := c.same(orig, doc); err != nil {
		return nil, err
	}
	if c.done != len(ops) {
		return nil, errors.New("the edited file does not contain every intended change")
	}
	return doc, nil
}

type yamlCmp struct {
	file string
	ops  map[[2]int]*editOp
	done int
}

func (c *yamlCmp) same(a, b *yaml.Node) error {
	if op := c.ops[[2]int{a.Line, a.Column}]; op != nil && (a.Kind == yaml.MappingNode || a.Kind == yaml.ScalarNode) && a.Kind == op.elem.node.Kind {
		c.done++
		return c.edited(a, b, op)
	}
	diff := func(what string) error {
		return fmt.Errorf("%s:%d:%d: the edit changes %s", c.file, a.Line, a.Column, what)
	}
	switch {
	case a.Kind != b.Kind:
		return diff("the kind of a node")
	case a.ShortTag() != b.ShortTag():
		return diff("a tag")
	case a.Anchor != b.Anchor:
		return diff("an anchor")
	case a.Kind == yaml.ScalarNode || a.Kind == yaml.AliasNode:
		if a.Value != b.Value {
			return diff(fmt.Sprintf("%q into %q", a.Value, b.Value))
		}
		return nil
	case len(a.Content) != len(b.Content):
		return diff("the number of entries")
	}
	for i := range a.Content {
		if err := c.same(a.Content[i], b.Content[i]); err != nil {
			return err
		}
	}
	return nil
}

// edited checks one node the edit was meant to change.
func (c *yamlCmp) edited(a, b *yaml.Node, op *editOp) error {
	bad := func(why string) error {
		return fmt.Errorf("%s:%d:%d: %s", c.file, a.Line, a.Column, why)
	}
	checkValue := func(kv *keyVal) error {
		if kv == nil {
			return bad("dockerfile: is missing after the edit")
		}
		if v := kv.value; v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || v.Value != op.value {
			return bad(fmt.Sprintf("dockerfile: reads %q after the edit, want %q", v.Value, op.value))
		}
		return nil
	}
	if b.Kind != yaml.MappingNode || a.Anchor != b.Anchor {
		return bad("the build is no longer the same mapping")
	}
	switch op.kind {
	case opExpand:
		ctx := directPair(b, "context")
		if len(b.Content) != 4 || ctx == nil || ctx.value.Value != a.Value || ctx.value.ShortTag() != a.ShortTag() {
			return bad("the expanded build does not keep its context")
		}
		return checkValue(directPair(b, "dockerfile"))
	case opReplace, opDefault:
		if len(a.Content) != len(b.Content) {
			return bad("the number of keys changed")
		}
	case opInsert:
		if len(a.Content)+2 != len(b.Content) || directPair(a, "dockerfile") != nil {
			return bad("the key was not inserted exactly once")
		}
	}
	if err := checkValue(directPair(b, "dockerfile")); err != nil {
		return err
	}
	rest := slices.Clone(b.Content)
	for i := 0; i+1 < len(rest); i += 2 {
		if rest[i].Value == "dockerfile" && !isMergeKey(rest[i]) {
			rest = slices.Delete(rest, i, i+2)
			break
		}
	}
	orig := slices.Clone(a.Content)
	if op.kind == opReplace || op.kind == opDefault {
		for i := 0; i+1 < len(orig); i += 2 {
			if orig[i].Value == "dockerfile" && !isMergeKey(orig[i]) {
				orig = slices.Delete(orig, i, i+2)
				break
			}
		}
	}
	for i := range orig {
		if err := c.same(orig[i], rest[i]); err != nil {
			return err
		}
	}
	return nil
}
