package compose

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A compose-go re-load of the edited project costs as much as the load
// itself. When the edits are of the simple kinds and the project uses only
// what the locator models exactly, the same guarantee follows from the YAML
// alone, and proveEdits establishes it without re-loading:
//
//   - checkYAMLDiff (dockerfile: edits) and checkInserted (health checks)
//     have shown that every edited file parses to the same node tree as
//     before, except for the intended key at the intended node;
//   - every place the document shows an edited node (directly, through an
//     alias, or merged with <<:) is a service's build or a top-level x-
//     extension (which compose-go keeps out of the services); an alias
//     anywhere else (`labels: *build`) would change that other setting;
//   - the locator's view of every build agrees with compose-go's model
//     (the Dockerfile each chain names is the one compose-go resolved),
//     and nothing it does not model is in use: a second YAML document in a
//     file, custom tags (!reset, !override), include or extends paths made
//     of variables, or one file reached under two names;
//   - the services whose chain holds an edited node are then exactly those
//     the edit reaches (affected and planEdits' expected are computed from
//     the same chains), and each of them now resolves to its build's new
//     Dockerfile; a service whose health check is disabled is extended by
//     no other service and is defined only in the -f files.
//
// Anything else (env-file and ${VAR:-default} edits, a value holding $, a
// failed condition) is verified by the re-load, as before.

// proveEdits returns "" when the edits are proven to change exactly the
// dockerfile of the services in expected (and the health check of those in
// disabled), else why not, and the caller re-loads.
func proveEdits(st *loadState, ops []*editOp, expected map[string]string, pending []*Build, refs map[*Build]string, disabled []string) string {
	for _, op := range ops {
		switch {
		case op.kind != opReplace && op.kind != opInsert && op.kind != opExpand:
			return "an env-file or ${VAR:-default} edit"
		case strings.ContainsAny(op.value, "$"):
			return "the new dockerfile value holds $"
		}
	}
	if why := st.modelled(); why != "" {
		return why
	}
	// Where the edited nodes show in their files.
	targets := map[*yamlFile]map[*yaml.Node]bool{}
	for _, op := range ops {
		if targets[op.elem.file] == nil {
			targets[op.elem.file] = map[*yaml.Node]bool{}
		}
		targets[op.elem.file][op.elem.node] = true
	}
	for f, nodes := range targets {
		if why := buildOnly(f, nodes); why != "" {
			return why
		}
	}
	all := st.model.AllServices()
	// The services that build from an edited node must not be inline builds.
	for _, op := range ops {
		for _, s := range st.usersOf(op.elem.node) {
			if sc := all[s]; sc.Build == nil || sc.Build.DockerfileInline != "" {
				return fmt.Sprintf("service %s uses an edited build without a Dockerfile", s)
			}
		}
	}
	// The services the edits reach, from the chains: the caller's expected
	// must say the same.
	byNode := map[*yaml.Node]*editOp{}
	for _, op := range ops {
		byNode[op.elem.node] = op
	}
	reached := 0
	for s, chain := range st.chains {
		value, set := "", false
		for _, e := range chain {
			if op := byNode[e.node]; op != nil {
				value, set = op.value, true
			} else if e.direct("dockerfile") != nil {
				set = false
			}
		}
		if !set {
			continue
		}
		reached++
		if v, ok := expected[s]; !ok || v != value {
			return fmt.Sprintf("the edits reach service %s, which is not expected to change", s)
		}
	}
	if reached != len(expected) {
		return "a service expected to change is not reached by the edits"
	}
	// Every service the edits reach belongs to a migrated build and now
	// resolves to its new Dockerfile; every service of a migrated build
	// does, or already did.
	owner := map[string]*Build{}
	for _, b := range pending {
		for _, s := range b.Services {
			owner[s] = b
		}
	}
	resolve := func(s, v string) string {
		sc := all[s]
		if sc.Build == nil {
			return ""
		}
		if filepath.IsAbs(v) {
			return filepath.Clean(v)
		}
		return filepath.Join(sc.Build.Context, v)
	}
	for s, v := range expected {
		b := owner[s]
		if b == nil || resolve(s, v) != refs[b] {
			return fmt.Sprintf("the edit reaches service %s, which is not migrated to %s", s, resolve(s, v))
		}
	}
	for _, b := range pending {
		for _, s := range b.Services {
			if _, ok := expected[s]; ok {
				continue
			}
			if sc := all[s]; sc.Build == nil || resolveDockerfile(sc.Build) != refs[b] {
				return fmt.Sprintf("service %s is not reached by the edits", s)
			}
		}
	}
	if len(disabled) > 0 {
		inMain := map[string]bool{}
		for _, f := range st.opts.Files {
			inMain[f] = true
		}
		for _, s := range disabled {
			if st.extended[s] {
				return fmt.Sprintf("service %s, whose health check is disabled, is extended", s)
			}
			for _, unit := range st.loc.units {
				for _, r := range unit {
					if !inMain[r.f.path] && definesService(r.f, s) {
						return fmt.Sprintf("service %s, whose health check is disabled, is also defined in %s", s, r.f.path)
					}
				}
			}
		}
	}
	return ""
}

// modelled returns "" when the project uses only what the locator models
// exactly, and the locator's Dockerfile of every build is compose-go's;
// else what it does not model. The answer is computed once per load.
func (st *loadState) modelled() string {
	if st.model == nil || st.loc == nil {
		return "no load state"
	}
	if st.simple != nil {
		return *st.simple
	}
	why := st.checkModelled()
	st.simple = &why
	return why
}

func (st *loadState) checkModelled() string {
	st.extended = map[string]bool{}
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range st.loc.files {
			if !yield(p) {
				return
			}
		}
	})
	var infos []os.FileInfo
	for _, p := range paths {
		f := st.loc.files[p]
		if f.root == nil && len(bytes.TrimSpace(f.src)) > 0 {
			return fmt.Sprintf("%s has no top-level mapping", p)
		}
		if moreDocuments(f.src) {
			return fmt.Sprintf("%s holds more than one YAML document", p)
		}
		if why := unmodelledNodes(f, st.extended); why != "" {
			return why
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err.Error()
		}
		for _, o := range infos {
			if os.SameFile(fi, o) {
				return fmt.Sprintf("%s is read under two names", p)
			}
		}
		infos = append(infos, fi)
	}
	for name, sc := range st.model.AllServices() {
		if sc.Build == nil || sc.Build.DockerfileInline != "" || isRemoteContext(sc.Build.Context) {
			continue
		}
		chain, ok := st.chains[name]
		if !ok || len(chain) == 0 {
			return fmt.Sprintf("service %s: no build in the compose files", name)
		}
		want := filepath.Join(sc.Build.Context, "Dockerfile")
		if kv := lastDockerfile(chain); kv != nil {
			if strings.Contains(kv.value.Value, "$") {
				continue // a variable: such builds are edited through the re-load
			}
			want = kv.value.Value
			if !filepath.IsAbs(want) {
				want = filepath.Join(sc.Build.Context, want)
			}
		}
		if resolveDockerfile(sc.Build) != want {
			return fmt.Sprintf("service %s: compose-go builds %s, the compose files say %s", name, resolveDockerfile(sc.Build), want)
		}
	}
	return ""
}

// moreDocuments reports whether src may hold a YAML document after the
// first: a document marker (--- or ...) at the start of a line, other than
// one --- before any content. Markers at column 0 cannot be content, so
// this reads no YAML.
func moreDocuments(src []byte) bool {
	content := false
	for line := range bytes.Lines(src) {
		line = bytes.TrimRight(line, "\r\n")
		marker := func(m string) bool {
			rest, ok := bytes.CutPrefix(line, []byte(m))
			return ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t')
		}
		switch t := bytes.TrimSpace(line); {
		case marker("..."):
			return true
		case marker("---"):
			if content {
				return true
			}
			content = true
		case len(t) > 0 && t[0] != '#' && t[0] != '%':
			content = true
		}
	}
	return false
}

// unmodelledNodes returns what in f the locator does not model: a custom
// tag, or an include or extends path made of variables. It records in
// extended the services extends: names.
func unmodelledNodes(f *yamlFile, extended map[string]bool) string {
	var why string
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || why != "" {
			return
		}
		if t := n.ShortTag(); strings.HasPrefix(t, "!") && !strings.HasPrefix(t, "!!") {
			why = fmt.Sprintf("%s:%d: tag %s", f.path, n.Line, t)
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(f.root, 0)
	if why != "" {
		return why
	}
	if inc := directPair(f.root, "include"); inc != nil && strings.Contains(nodeText(inc.value), "$") {
		return fmt.Sprintf("%s:%d: include: uses a variable", f.path, inc.key.Line)
	}
	svcs := directPair(f.root, "services")
	if svcs == nil {
		return ""
	}
	m := deref(svcs.value)
	if m == nil || m.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		svc := deref(m.Content[i+1])
		if svc == nil || svc.Kind != yaml.MappingNode {
			continue
		}
		ext, _ := lookup(svc, "extends")
		if ext == nil {
			continue
		}
		if strings.Contains(nodeText(ext.value), "$") {
			return fmt.Sprintf("%s:%d: extends: uses a variable", f.path, ext.key.Line)
		}
		switch e := deref(ext.value); {
		case e == nil:
		case e.Kind == yaml.ScalarNode:
			extended[e.Value] = true
		case e.Kind == yaml.MappingNode:
			if s := directPair(e, "service"); s != nil {
				extended[deref(s.value).Value] = true
			}
		}
	}
	return ""
}

// nodeText joins the scalars below n, aliases followed, up to 1<<16
// nodes; past that it holds a $ (aliases of aliases multiply the nodes,
// and so much is not modelled).
func nodeText(n *yaml.Node) string {
	var b strings.Builder
	budget := 1 << 16
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil {
			return
		}
		if budget--; budget < 0 || depth > 64 {
			b.WriteString("$")
			return
		}
		if n.Kind == yaml.AliasNode {
			walk(n.Alias, depth+1)
			return
		}
		b.WriteString(n.Value)
		b.WriteByte(0)
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// definesService reports whether f's services: mapping has a key name.
func definesService(f *yamlFile, name string) bool {
	svcs := directPair(f.root, "services")
	return svcs != nil && directPair(deref(svcs.value), name) != nil
}

// maxShown bounds how many places buildOnly follows (aliases of aliases
// multiply them).
const maxShown = 1 << 16

// buildOnly returns "" when every place f shows one of nodes (following
// aliases, and <<: merges) is services.<name>.build, with merges only
// where the locator follows them (into a service and into a build), or
// lies under a top-level x- key; else the first other place.
func buildOnly(f *yamlFile, nodes map[*yaml.Node]bool) string {
	// holds says whether a node shows a target, aliases followed.
	holds := map[*yaml.Node]bool{}
	busy := map[*yaml.Node]bool{}
	var contains func(n *yaml.Node) bool
	contains = func(n *yaml.Node) bool {
		if n == nil {
			return false
		}
		if n.Kind == yaml.AliasNode {
			return contains(n.Alias)
		}
		if v, ok := holds[n]; ok {
			return v
		}
		if busy[n] {
			return false
		}
		busy[n] = true
		v := nodes[n]
		for _, c := range n.Content {
			if contains(c) {
				v = true
			}
		}
		holds[n] = v
		return v
	}
	shown := 0
	var bad string
	var walk func(n *yaml.Node, path []string)
	walk = func(n *yaml.Node, path []string) {
		for n != nil && n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if bad != "" || !contains(n) {
			return
		}
		if nodes[n] {
			shown++
			if shown > maxShown {
				bad = "too many aliases of an edited build"
			} else if !buildPath(path) {
				bad = fmt.Sprintf("%s:%d: the edited build also shows at %s", f.path, n.Line, strings.Join(path, "."))
			}
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				seg := "\x00"
				switch {
				case isMergeKey(k):
					seg = "<<"
				case k.Kind == yaml.ScalarNode:
					seg = k.Value
				}
				walk(n.Content[i+1], append(slices.Clip(path), seg))
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, append(slices.Clip(path), "[]"))
			}
		}
	}
	walk(f.root, nil)
	return bad
}

// buildPath reports whether path is a top-level x- extension or
// services.<name>(.<<)*.build(.<<)*, where a << may be followed by [] (a
// list of merge sources).
func buildPath(path []string) bool {
	if len(path) > 0 && strings.HasPrefix(path[0], "x-") {
		return true
	}
	if len(path) < 3 || path[0] != "services" || path[1] == "<<" || path[1] == "[]" || path[1] == "\x00" {
		return false
	}
	rest := path[2:]
	merges := func() {
		for len(rest) > 0 && rest[0] == "<<" {
			rest = rest[1:]
			if len(rest) > 0 && rest[0] == "[]" {
				rest = rest[1:]
			}
		}
	}
	merges()
	if len(rest) == 0 || rest[0] != "build" {
		return false
	}
	rest = rest[1:]
	merges()
	return len(rest) == 0
}
