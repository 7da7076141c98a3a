package compose

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// disableOne inserts `healthcheck: disable: true` into service svc's
// mapping in the last -f file that defines it, on top of content (the
// files' edited bytes so far; a file not in it is edited from disk): two
// lines right below the service's key, in its indentation; nothing else
// changes. The decoded YAML must differ only by that key (an anchor that
// other services merge is refused); the caller's re-load checks the rest.
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
