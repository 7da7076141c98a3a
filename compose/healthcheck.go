package compose

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// disableOne inserts `healthcheck: disable: true` into service svc's
// mapping in the last -f file that defines it, on top of content (the
// files' edited bytes so far; a file not in it is edited from disk): two
// lines right below the service's key, in its indentation; nothing else
// changes. The decoded YAML must differ only by that key (an anchor that
// other services merge is refused); the caller's re-load checks the rest.
//
// parsed caches the parse of each file's current bytes (see serviceKey).
func disableOne(st *loadState, content map[string][]byte, parsed map[string]*yamlFile, svc string) (string, []byte, error) {
	path, f, at, text, err := disableAt(st, content, parsed, svc)
	if err != nil {
		return path, nil, err
	}
	src := f.src
	out := append(append(append([]byte(nil), src[:at]...), text...), src[at:]...)
	if err := checkInserted(f, out, []string{svc}); err != nil {
		return path, nil, fmt.Errorf("%s: %w", path, err)
	}
	return path, out, nil
}

// disableAt finds where disableOne inserts service svc's health check:
// the file, its parse (of its current bytes), the offset and the text.
// parsed caches the parse of each file's current bytes (nil: parse every
// time).
func disableAt(st *loadState, content map[string][]byte, parsed map[string]*yamlFile, svc string) (string, *yamlFile, int, string, error) {
	path, f, kv, err := serviceKey(st, content, parsed, svc)
	if err != nil {
		return path, nil, 0, "", err
	}
	if kv == nil {
		return "", nil, 0, "", fmt.Errorf("service %s is not defined in a compose file given with -f (it comes from include: or extends:); add `healthcheck: disable: true` by hand", svc)
	}
	m := kv.value
	if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		return path, nil, 0, "", fmt.Errorf("%s:%d: service %s is not a block mapping; add `healthcheck: {disable: true}` by hand", path, m.Line, svc)
	}
	if directPair(m, "healthcheck") != nil {
		return path, nil, 0, "", fmt.Errorf("%s:%d: service %s already has a healthcheck key", path, m.Line, svc)
	}
	first := m.Content[0]
	ind, err := f.indentOf(first)
	if err != nil {
		return path, nil, 0, "", err
	}
	step := first.Column - kv.key.Column
	if step <= 0 {
		step = 2
	}
	// Right below the service's key line, so that comments above the
	// first key stay with it.
	at := f.lines[first.Line-1]
	if kv.key.Line < first.Line && kv.key.Line < len(f.lines) {
		at = f.lines[kv.key.Line]
	}
	text := ind + "healthcheck:" + f.eol + ind + strings.Repeat(" ", step) + "disable: true" + f.eol
	return path, f, at, text, nil
}

// serviceKey finds service svc's key in the last -f file that defines it,
// in the file's current bytes (content, else the file as loaded); kv is
// nil when no -f file defines it. parsed caches the parse of each file's
// current bytes (nil: parse every time); an entry is used only when its
// bytes are the current ones. A file as loaded is the locator's parse.
func serviceKey(st *loadState, content map[string][]byte, parsed map[string]*yamlFile, svc string) (string, *yamlFile, *keyVal, error) {
	for i := len(st.opts.Files) - 1; i >= 0; i-- {
		path := st.opts.Files[i]
		src, ok := content[path]
		if !ok {
			f := st.loc.files[path]
			if f == nil {
				continue
			}
			src = f.src
		}
		f := parsed[path]
		if f != nil && !bytes.Equal(f.src, src) {
			f = nil
		}
		if lf := st.loc.files[path]; f == nil && !ok && lf != nil && lf.doc != nil {
			f = lf
		}
		if f == nil {
			var err error
			if f, err = parseYAML(path, src); err != nil {
				return path, nil, nil, err
			}
			if parsed != nil {
				parsed[path] = f
			}
		}
		svcs := directPair(f.root, "services")
		if svcs == nil {
			continue
		}
		if kv := directPair(deref(svcs.value), svc); kv != nil {
			return path, f, kv, nil
		}
	}
	return "", nil, nil, nil
}

// ServicesAt returns, for each service of svcs, the compose file that
// defines it (the last -f file that does) and the 1-based line of the
// service's key there, in the file's content after edits (a FileEdit's
// New, keyed by path; a file not in edits is read as loaded); ("", 0) when
// no -f file defines the service (it comes from include: or extends:).
// Each file is parsed once for all of svcs: a parse of the whole compose
// file per worker made a plan with a hundred workers among a thousand
// services spend as long here as in the compose-go load.
func (p *Project) ServicesAt(svcs []string, edits []FileEdit) (files []string, lines []int) {
	files, lines = make([]string, len(svcs)), make([]int, len(svcs))
	if p == nil || p.state == nil {
		return files, lines
	}
	content := map[string][]byte{}
	for _, e := range edits {
		content[e.Path] = e.New
	}
	parsed := map[string]*yamlFile{}
	for i, svc := range svcs {
		path, _, kv, err := serviceKey(p.state, content, parsed, svc)
		if err == nil && kv != nil {
			files[i], lines[i] = path, kv.key.Line
		}
	}
	return files, lines
}

// disableAll does what disableOne does for each service of svcs in turn,
// and returns the services done and the errors, in svcs order. It inserts
// the health checks of all the services of one file at once and checks the
// result once: a parse and a decode per service made thousands of workers
// quadratic. When a file's batch fails the check, its services are done
// one by one with disableOne, as before, so that each error is its own.
//
// parsed are parses of files' current bytes already made (checkYAMLDiff's
// of the build-edited files; nil: none); disableAll adds its own.
func disableAll(st *loadState, content map[string][]byte, parsed map[string]*yamlFile, svcs []string) (done []string, errs map[string]*EditError) {
	if parsed == nil {
		parsed = map[string]*yamlFile{}
	}
	errs = map[string]*EditError{}
	type ins struct {
		svc  string
		at   int
		text string
	}
	fileOf := map[string]*yamlFile{}
	byFile := map[string][]ins{}
	var files []string
	for _, svc := range svcs {
		path, f, at, text, err := disableAt(st, content, parsed, svc)
		if err != nil {
			errs[svc] = &EditError{Service: svc, File: path, Err: err}
			continue
		}
		if _, ok := byFile[path]; !ok {
			files = append(files, path)
			fileOf[path] = f
		}
		byFile[path] = append(byFile[path], ins{svc, at, text})
	}
	ok := map[string]bool{}
	for _, path := range files {
		list, f := byFile[path], fileOf[path]
		distinct := true
		for i := range list {
			for j := range i {
				if list[i].at == list[j].at {
					distinct = false
				}
			}
		}
		if distinct && len(list) > 1 {
			sorted := slices.Clone(list)
			slices.SortFunc(sorted, func(a, b ins) int { return b.at - a.at })
			out := slices.Clone(f.src)
			for _, in := range sorted {
				out = slices.Insert(out, in.at, []byte(in.text)...)
			}
			names := make([]string, len(list))
			for i, in := range list {
				names[i] = in.svc
			}
			if checkInserted(f, out, names) == nil {
				content[path] = out
				for _, n := range names {
					ok[n] = true
				}
				continue
			}
		}
		for _, in := range list {
			p, out, err := disableOne(st, content, parsed, in.svc)
			if err != nil {
				errs[in.svc] = &EditError{Service: in.svc, File: p, Err: err}
				continue
			}
			content[p] = out
			ok[in.svc] = true
		}
	}
	for _, svc := range svcs {
		if ok[svc] {
			done = append(done, svc)
		}
	}
	return done, errs
}

// checkInserted decodes both texts (anchors and merge keys resolved) and
// checks that they differ only by services.svc.healthcheck = {disable: true}
// for each of svcs. before is decoded from its parse (before.doc, which
// decoding only reads: the same decoder yaml.Unmarshal runs on the same
// tree), after is parsed.
func checkInserted(before *yamlFile, after []byte, svcs []string) error {
	// Decoding the file before and parsing it after are independent: a
	// large compose file's two take 10 and 25 ms, at the end of the plan
	// when the other cores are idle.
	var a, b map[string]any
	var aerr error
	var wg sync.WaitGroup
	wg.Go(func() { aerr = before.doc.Decode(&a) })
	berr := unmarshalYAML(after, &b)
	wg.Wait()
	if aerr != nil {
		return aerr
	}
	if berr != nil {
		return fmt.Errorf("the edited file is not valid YAML: %w", berr)
	}
	bs, _ := b["services"].(map[string]any)
	for _, svc := range svcs {
		s, _ := bs[svc].(map[string]any)
		hc, _ := s["healthcheck"].(map[string]any)
		if len(hc) != 1 || hc["disable"] != true {
			return fmt.Errorf("service %s has no `healthcheck: disable: true` after the edit", svc)
		}
		delete(s, "healthcheck")
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("adding the healthcheck to service %s changes more than that service (is its mapping an anchor other services merge?)", strings.Join(svcs, ", "))
	}
	return nil
}
