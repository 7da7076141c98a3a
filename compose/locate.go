package compose

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
	"go.yaml.in/yaml/v3"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// The compose-go model does not say which file or line a build comes from.
// The locator re-reads the compose files with the yaml.v3 Node API and, for
// every service, lists the YAML nodes its build is merged from, lowest
// precedence first: included files, then the -f files in order; within one
// file, the extended service (extends:) before the service itself, and `<<:`
// merge sources of a build mapping before the mapping's own keys. The last
// element that has a `dockerfile:` key decides the Dockerfile.

// yamlFile is one parsed compose file with its original bytes.
type yamlFile struct {
	path string
	src  []byte
	root *yaml.Node // top-level mapping, nil when the file is empty
	// doc is the document node root comes from; nil when the file is
	// not valid YAML (a lenient locator's placeholder). The tree is
	// shared (the precheck's parse is the locator's, the locator's is
	// checkYAMLDiff's original): nothing may modify it.
	doc   *yaml.Node
	lines []int  // byte offset where each line starts
	eol   string // "\r\n" when the file uses CRLF line endings
}

// buildElem is one YAML node a service's build is merged from.
type buildElem struct {
	file *yamlFile
	node *yaml.Node // a build mapping, or the scalar of a short-form build
	key  *yaml.Node // the `build:` key when node is its value (nil for merge sources)
	// inFlow is true when the mapping holding key is a flow mapping.
	inFlow bool
	// step is the indentation step used to expand a short-form build.
	step int
}

type keyVal struct{ key, value *yaml.Node }

// direct returns the key/value pair name of the element itself (merge
// sources are separate elements).
func (e buildElem) direct(name string) *keyVal {
	if e.node.Kind != yaml.MappingNode {
		return nil
	}
	return directPair(e.node, name)
}

// definesContext reports whether the element sets the build context.
func (e buildElem) definesContext() bool {
	return e.node.Kind == yaml.ScalarNode || e.direct("context") != nil
}

// lastDockerfile returns the `dockerfile:` pair that wins in chain.
func lastDockerfile(chain []buildElem) *keyVal {
	for i := len(chain) - 1; i >= 0; i-- {
		if kv := chain[i].direct("dockerfile"); kv != nil {
			return kv
		}
	}
	return nil
}

// fileRef is a compose file together with the directory its relative
// include/extends paths are resolved against (compose-go's resource loader
// working directory for that file).
type fileRef struct {
	f    *yamlFile
	base string
	// env is the environment compose-go interpolates the file with: the
	// top-level one for -f files, merged with the include's env_file (or
	// its project's .env) for included files. nil when unknown.
	env map[string]string
}

type locator struct {
	root *safefs.Root // every file parsed must be allowed by it
	// lenient makes a file that is not valid YAML count as empty.
	lenient bool
	files   map[string]*yamlFile
	// units are the sets of files loaded together: included projects
	// (innermost first), then the -f files.
	units [][]fileRef
	// env is the interpolation environment of the -f files (nil: paths
	// with variables are left to compose-go).
	env map[string]string
	// reuse are earlier parses (the precheck's), by path: a file whose
	// bytes, read again through root, are the same is not parsed again.
	reuse map[string]*yamlFile
}

// newLocator locates the builds of the loaded files. prev are the
// precheck's parses (nil: none); each file is still read again through
// root, and a parse is reused only for the very same bytes.
func newLocator(root *safefs.Root, dir string, files []string, env map[string]string, prev map[string]*yamlFile) (*locator, error) {
	l := &locator{root: root, files: map[string]*yamlFile{}, env: env, reuse: prev}
	if err := l.init(dir, files); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *locator) init(dir string, files []string) error {
	var main []fileRef
	for _, p := range files {
		f, err := l.parse(p)
		if err != nil {
			return err
		}
		main = append(main, fileRef{f: f, base: dir, env: l.env})
	}
	seen := map[string]bool{}
	for _, r := range main {
		if err := l.addIncludes(r, seen); err != nil {
			return err
		}
	}
	l.units = append(l.units, main)
	return nil
}

func (l *locator) parse(path string) (*yamlFile, error) {
	if f, ok := l.files[path]; ok {
		return f, nil
	}
	src, err := l.root.ReadFile(safefs.Compose, path)
	if err != nil {
		return nil, err
	}
	if prev := l.reuse[path]; prev != nil && prev.doc != nil && bytes.Equal(prev.src, src) {
		f := *prev
		f.src = src
		l.files[path] = &f
		return &f, nil
	}
	f, err := parseYAML(path, src)
	if err != nil {
		if !l.lenient || errors.Is(err, errSelfAlias) {
			return nil, err
		}
		// compose-go reports invalid YAML better; the precheck only needs
		// the files it can parse.
		f = &yamlFile{path: path, src: src}
	}
	l.files[path] = f
	return f, nil
}

// yamlParses counts the compose-file YAML parses of this process (see
// YAMLParses).
var yamlParses atomic.Int64

// YAMLParses returns how many times this process has parsed a compose
// file's YAML (locating builds, checking and locating edits): a counter for
// tests that check the planner's design (a fixed number per file and plan,
// whatever the number of services), not a timing.
func YAMLParses() int64 { return yamlParses.Load() }

func unmarshalYAML(src []byte, v any) error {
	yamlParses.Add(1)
	return yaml.Unmarshal(src, v)
}

func parseYAML(path string, src []byte) (*yamlFile, error) {
	doc := new(yaml.Node)
	if err := unmarshalYAML(src, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fileFromDoc(path, src, doc)
}

// fileFromDoc is parseYAML after the parse: doc is src's document node.
func fileFromDoc(path string, src []byte, doc *yaml.Node) (*yamlFile, error) {
	if a := selfAlias(doc, map[*yaml.Node]bool{}); a != nil {
		return nil, fmt.Errorf("%s:%d: %w (*%s)", path, a.Line, errSelfAlias, a.Value)
	}
	f := &yamlFile{path: path, src: src, doc: doc, lines: []int{0}, eol: "\n"}
	if bytes.Contains(src, []byte("\r\n")) {
		f.eol = "\r\n"
	}
	for i, c := range src {
		if c == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode {
		f.root = doc.Content[0]
	}
	return f, nil
}

// errSelfAlias is a compose file with an anchor whose value holds an alias
// to that anchor (`a: &s {<<: *s}`). Decoders expand it without end:
// compose-go gave up after 100,000 nodes, 14 s for a three-line file, and
// following the merge crashed composeopt with a stack overflow.
var errSelfAlias = errors.New("an anchor's value holds an alias to the anchor itself")

// selfAlias returns the first alias below n to a node that holds it (open
// are the nodes being walked), nil when there is none. An alias can only
// name an anchor defined before it, so every cycle passes through one.
func selfAlias(n *yaml.Node, open map[*yaml.Node]bool) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		if open[n.Alias] {
			return n
		}
		return nil
	}
	open[n] = true
	defer delete(open, n)
	for _, c := range n.Content {
		if a := selfAlias(c, open); a != nil {
			return a
		}
	}
	return nil
}

// offset converts a yaml.v3 position (1-based line, 1-based column counted
// in characters) to a byte offset in src.
func (f *yamlFile) offset(line, col int) int {
	if line < 1 || line > len(f.lines) {
		return len(f.src)
	}
	off := f.lines[line-1]
	for i := 1; i < col && off < len(f.src); i++ {
		_, size := utf8.DecodeRune(f.src[off:])
		off += size
	}
	return off
}

// addIncludes records the projects r includes, depth first.
func (l *locator) addIncludes(r fileRef, seen map[string]bool) error {
	inc := directPair(r.f.root, "include")
	if inc == nil {
		return nil
	}
	items := deref(inc.value)
	if items == nil || items.Kind != yaml.SequenceNode {
		return nil
	}
	for _, item := range items.Content {
		item = deref(item)
		var paths []string
		projectDir := ""
		switch item.Kind {
		case yaml.ScalarNode:
			paths = []string{item.Value}
		case yaml.MappingNode:
			if kv := directPair(item, "path"); kv != nil {
				paths = scalarList(deref(kv.value))
			}
			if kv := directPair(item, "project_directory"); kv != nil {
				projectDir = deref(kv.value).Value
			}
		}
		if len(paths) == 0 {
			continue
		}
		known := true
		for i, p := range paths {
			p, ok, err := interpolatePath(r, p)
			if err != nil {
				return err
			}
			known = known && ok
			if !filepath.IsAbs(p) {
				p = filepath.Join(r.base, p)
			}
			paths[i] = p
		}
		pd, ok, err := interpolatePath(r, projectDir)
		if err != nil {
			return err
		}
		if !known || !ok {
			continue
		}
		base := filepath.Dir(paths[0])
		if pd != "" {
			base = pd
			if !filepath.IsAbs(base) {
				base = filepath.Join(r.base, base)
			}
		}
		env, err := l.includeEnv(r, item, base)
		if err != nil {
			return err
		}
		var unit []fileRef
		for _, p := range paths {
			if seen[p] {
				continue
			}
			seen[p] = true
			f, err := l.parse(p)
			if err != nil {
				return err
			}
			ref := fileRef{f: f, base: base, env: env}
			if err := l.addIncludes(ref, seen); err != nil {
				return err
			}
			unit = append(unit, ref)
		}
		if len(unit) > 0 {
			l.units = append(l.units, unit)
		}
	}
	return nil
}

func scalarList(n *yaml.Node) []string {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	case n.Kind == yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c = deref(c); c.Kind == yaml.ScalarNode {
				out = append(out, c.Value)
			}
		}
		return out
	}
	return nil
}

// serviceOrder lists service names in the order the files declare them.
func (l *locator) serviceOrder() []string {
	var names []string
	for _, unit := range l.units {
		for _, r := range unit {
			svcs := directPair(r.f.root, "services")
			if svcs == nil {
				continue
			}
			if m := deref(svcs.value); m != nil && m.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(m.Content); i += 2 {
					names = append(names, m.Content[i].Value)
				}
			}
		}
	}
	return names
}

// chain lists the build elements of service name across all loaded files.
func (l *locator) chain(name string) ([]buildElem, error) {
	var out []buildElem
	for _, unit := range l.units {
		for _, r := range unit {
			c, err := l.serviceChain(r.f, r.base, r.env, name, 0)
			if err != nil {
				return nil, err
			}
			out = append(out, c...)
		}
	}
	return out, nil
}

// serviceChain lists the build elements service name has in file f,
// following extends:.
func (l *locator) serviceChain(f *yamlFile, base string, env map[string]string, name string, depth int) ([]buildElem, error) {
	if depth > 32 {
		return nil, fmt.Errorf("%s: extends chain of service %s is too deep", f.path, name)
	}
	svcs := directPair(f.root, "services")
	if svcs == nil {
		return nil, nil
	}
	m := deref(svcs.value)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	kv := directPair(m, name)
	if kv == nil {
		return nil, nil
	}
	svc := deref(kv.value)
	if svc == nil || svc.Kind != yaml.MappingNode {
		return nil, nil
	}
	var out []buildElem
	if ext, _ := lookup(svc, "extends"); ext != nil {
		ext := deref(ext.value)
		ref, file := "", ""
		switch ext.Kind {
		case yaml.ScalarNode:
			ref = ext.Value
		case yaml.MappingNode:
			if s := directPair(ext, "service"); s != nil {
				ref = deref(s.value).Value
			}
			if s := directPair(ext, "file"); s != nil {
				file = deref(s.value).Value
			}
		}
		tf, tbase := f, base
		file, known, err := interpolatePath(fileRef{f: f, base: base, env: env}, file)
		if err != nil {
			return nil, err
		}
		if file != "" && known {
			if !filepath.IsAbs(file) {
				file = filepath.Join(base, file)
			}
			if tf, err = l.parse(file); err != nil {
				return nil, err
			}
			tbase = filepath.Dir(file)
		}
		if ref != "" {
			c, err := l.serviceChain(tf, tbase, env, ref, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, c...)
		}
	}
	b, owner := lookup(svc, "build")
	if b == nil {
		return out, nil
	}
	step := 2
	if owner == svc && b.key.Column > kv.key.Column {
		step = b.key.Column - kv.key.Column
	}
	return append(out, buildElems(f, b.key, deref(b.value), owner.Style&yaml.FlowStyle != 0, step)...), nil
}

// buildElems expands a build value into its merge sources and itself.
func buildElems(f *yamlFile, key, v *yaml.Node, inFlow bool, step int) []buildElem {
	if v == nil {
		return nil
	}
	var out []buildElem
	if v.Kind == yaml.MappingNode {
		srcs := mergeSources(v)
		// The first merge source wins, so it comes last.
		for i := len(srcs) - 1; i >= 0; i-- {
			out = append(out, buildElems(f, nil, srcs[i], false, step)...)
		}
	}
	if v.Kind != yaml.MappingNode && v.Kind != yaml.ScalarNode {
		return out
	}
	return append(out, buildElem{file: f, node: v, key: key, inFlow: inFlow, step: step})
}

// deref follows aliases and unwraps documents.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

// directPair finds key name among m's own keys (not merged ones).
func directPair(m *yaml.Node, name string) *keyVal {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == name && !isMergeKey(k) {
			return &keyVal{k, m.Content[i+1]}
		}
	}
	return nil
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "")
}

// mergeSources returns the mappings merged into m with `<<:`, first (winning) first.
func mergeSources(m *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !isMergeKey(m.Content[i]) {
			continue
		}
		v := m.Content[i+1]
		if v.Kind == yaml.SequenceNode {
			for _, c := range v.Content {
				if c = deref(c); c != nil && c.Kind == yaml.MappingNode {
					out = append(out, c)
				}
			}
		} else if v = deref(v); v != nil && v.Kind == yaml.MappingNode {
			out = append(out, v)
		}
	}
	return out
}

// lookup finds key name in m, own keys first, then merge sources; it also
// returns the mapping that holds the key.
func lookup(m *yaml.Node, name string) (*keyVal, *yaml.Node) {
	if kv := directPair(m, name); kv != nil {
		return kv, m
	}
	for _, src := range mergeSources(m) {
		if kv, owner := lookup(src, name); kv != nil {
			return kv, owner
		}
	}
	return nil, nil
}

// interpolatePath substitutes the variables of a path read from r's file
// the way compose-go will before it opens the file, so that the file
// checked here is the file compose-go reads. ok is false when the path
// has variables and r's environment is unknown.
func interpolatePath(r fileRef, p string) (string, bool, error) {
	if !strings.Contains(p, "$") {
		return p, true, nil
	}
	if r.env == nil {
		return "", false, nil
	}
	out, err := template.Substitute(p, func(k string) (string, bool) {
		v, ok := r.env[k]
		return v, ok
	})
	if err != nil {
		return "", false, fmt.Errorf("%s: path %q: %w", r.f.path, p, err)
	}
	return out, true, nil
}

// includeEnv is the environment an include item's files are interpolated
// with, as compose-go builds it: r's environment merged with the item's
// env_file entries, or with the .env of the included project's directory
// when it names none. The env files are read through the locator's root,
// so one outside the project, a link out or a special file is refused
// before compose-go opens it.
func (l *locator) includeEnv(r fileRef, item *yaml.Node, projectDir string) (map[string]string, error) {
	var files []string
	if item.Kind == yaml.MappingNode {
		if kv := directPair(item, "env_file"); kv != nil {
			for _, f := range scalarList(deref(kv.value)) {
				f, ok, err := interpolatePath(r, f)
				if err != nil {
					return nil, err
				}
				if !ok || f == "/dev/null" {
					continue
				}
				if !filepath.IsAbs(f) {
					f = filepath.Join(r.base, f)
				}
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		files = []string{filepath.Join(projectDir, ".env")}
	}
	env := maps.Clone(r.env)
	if env == nil {
		env = map[string]string{}
	}
	for _, f := range files {
		if _, err := os.Lstat(f); err != nil {
			continue // compose-go reports a missing env_file
		}
		data, err := l.root.ReadFile(safefs.EnvFile, f)
		if err != nil {
			return nil, err
		}
		vars, err := dotenv.UnmarshalBytesWithLookup(data, func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		maps.Copy(env, vars)
	}
	if r.env == nil {
		return nil, nil // the files are checked; the environment stays unknown
	}
	return env, nil
}
