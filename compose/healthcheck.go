package compose

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// DisableHealthchecks adds `healthcheck: disable: true` to each of the
// services, in the compose file that defines the service (the last -f file
// that has it), on top of the contents in prior (the dockerfile: edits; a
// file not in prior is edited from its bytes on disk). The edit is two
// inserted lines right below the service's key, in its indentation;
// nothing else changes. Like the dockerfile: edits, each edit is checked:
// the edited YAML must mean the same as before except for the one new key,
// and the project re-loaded with compose-go must differ from the prior
// state only by the disabled health checks. It returns prior with the new
// contents merged in, and an *EditError (joined) for every service that
// could not be edited safely; the other services' edits stand.
func DisableHealthchecks(p *Project, prior []FileEdit, services []string) ([]FileEdit, error) {
	if p == nil || p.state == nil {
		return nil, errors.New("DisableHealthchecks needs a project returned by Load")
	}
	st := p.state
	var errs []error
	fail := func(svc, file string, err error) {
		errs = append(errs, &EditError{Service: svc, File: file, Err: err})
	}
	pending := slices.Clone(services)
	for len(pending) > 0 {
		content := map[string][]byte{}
		old := map[string][]byte{}
		for _, e := range prior {
			content[e.Path], old[e.Path] = e.New, e.Old
		}
		var done []string
		for _, svc := range pending {
			path, out, err := disableOne(st, content, svc)
			if err != nil {
				fail(svc, path, err)
				continue
			}
			if _, ok := old[path]; !ok {
				old[path] = st.loc.files[path].src
			}
			content[path] = out
			done = append(done, svc)
		}
		if len(done) == 0 {
			return prior, errors.Join(errs...)
		}
		bad, err := verifyDisabled(st, prior, content, done)
		if err != nil {
			for _, svc := range done {
				fail(svc, "", err)
			}
			return prior, errors.Join(errs...)
		}
		if bad == "" {
			var edits []FileEdit
			for _, path := range slices.Sorted(maps.Keys(content)) {
				if !bytes.Equal(old[path], content[path]) {
					edits = append(edits, FileEdit{Path: path, Old: old[path], New: content[path]})
				}
			}
			return edits, errors.Join(errs...)
		}
		fail(bad, "", errors.New("re-loading the edited project changes more than the service's healthcheck"))
		pending = slices.DeleteFunc(done, func(s string) bool { return s == bad })
	}
	return prior, errors.Join(errs...)
}

// disableOne inserts the healthcheck key into service svc's mapping in the
// last -f file that defines the service, and checks the YAML meaning.
func disableOne(st *loadState, content map[string][]byte, svc string) (string, []byte, error) {
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
		f, err := parseYAML(path, src)
		if err != nil {
			return path, nil, err
		}
		svcs := directPair(f.root, "services")
		if svcs == nil {
			continue
		}
		kv := directPair(deref(svcs.value), svc)
		if kv == nil {
			continue
		}
		m := kv.value
		if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
			return path, nil, fmt.Errorf("%s:%d: service %s is not a block mapping; add `healthcheck: {disable: true}` by hand", path, m.Line, svc)
		}
		if directPair(m, "healthcheck") != nil {
			return path, nil, fmt.Errorf("%s:%d: service %s already has a healthcheck key", path, m.Line, svc)
		}
		first := m.Content[0]
		ind, err := f.indentOf(first)
		if err != nil {
			return path, nil, err
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
		out := append(append(append([]byte(nil), src[:at]...), text...), src[at:]...)
		if err := checkInserted(src, out, svc); err != nil {
			return path, nil, fmt.Errorf("%s: %w", path, err)
		}
		return path, out, nil
	}
	return "", nil, fmt.Errorf("service %s is not defined in a compose file given with -f (it comes from include: or extends:); add `healthcheck: disable: true` by hand", svc)
}

// checkInserted decodes both texts (anchors and merge keys resolved) and
// checks that they differ only by services.svc.healthcheck = {disable: true}.
func checkInserted(before, after []byte, svc string) error {
	var a, b map[string]any
	if err := yaml.Unmarshal(before, &a); err != nil {
		return err
	}
	if err := yaml.Unmarshal(after, &b); err != nil {
		return fmt.Errorf("the edited file is not valid YAML: %w", err)
	}
	bs, _ := b["services"].(map[string]any)
	s, _ := bs[svc].(map[string]any)
	hc, _ := s["healthcheck"].(map[string]any)
	if len(hc) != 1 || hc["disable"] != true {
		return fmt.Errorf("service %s has no `healthcheck: disable: true` after the edit", svc)
	}
	delete(s, "healthcheck")
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("adding the healthcheck to service %s changes more than that service (is its mapping an anchor other services merge?)", svc)
	}
	return nil
}

// verifyDisabled re-loads the project from content and compares it with
// the project as prior leaves it (the loaded model when prior is empty):
// only the health checks of done may differ, and they must be disabled. It
// returns the first service that differs otherwise ("" when none does).
func verifyDisabled(st *loadState, prior []FileEdit, content map[string][]byte, done []string) (string, error) {
	load := func(c map[string][]byte) (map[string]types.ServiceConfig, map[string][]byte, error) {
		model, root := st.model, ""
		if len(c) > 0 {
			m, r, err := reloadWith(st, c)
			if err != nil {
				return nil, nil, err
			}
			model, root = m, r
		}
		all := model.AllServices()
		out := map[string][]byte{}
		for name, sc := range all {
			if slices.Contains(done, name) {
				sc.HealthCheck = nil
			}
			j, err := serviceJSON(sc, "", nil)
			if err != nil {
				return nil, nil, err
			}
			if root != "" {
				j = bytes.ReplaceAll(j, []byte(root), nil)
			}
			out[name] = j
		}
		return all, out, nil
	}
	base := map[string][]byte{}
	for _, e := range prior {
		base[e.Path] = e.New
	}
	_, before, err := load(base)
	if err != nil {
		return "", fmt.Errorf("the project does not load: %w", err)
	}
	services, after, err := load(content)
	if err != nil {
		return "", fmt.Errorf("the edited project does not load: %w", err)
	}
	for _, name := range done {
		sc, ok := services[name]
		if !ok || sc.HealthCheck == nil || !sc.HealthCheck.Disable {
			return name, nil
		}
	}
	if len(after) != len(before) {
		return "", errors.New("editing the compose files changed the services")
	}
	for _, name := range slices.Sorted(maps.Keys(before)) {
		if !bytes.Equal(before[name], after[name]) {
			if slices.Contains(done, name) {
				return name, nil
			}
			return "", fmt.Errorf("service %s changed after disabling health checks", name)
		}
	}
	return "", nil
}
