package compose

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// speculate reads, from the precheck's parse of the compose files, the
// services whose build and runtime settings are written plainly enough to be
// read without compose-go: a service defined in one file only (no override,
// no extends, no include in the project), with no key outside those
// plainKeys lists, no variable that is not set, no volumes, health check,
// profiles or env_file, and a local build given by context, dockerfile,
// target and arguments. Their values are read with compose-go's own
// functions (template substitution, port parsing, the mapping, label and
// command decoders) and then go through the same conversion and build
// resolution as a loaded project's.
//
// The result is a speculation, for work started while compose-go loads (see
// Guess.Speculate): nothing of it is trusted. The planner keeps a build
// planned from it only when the loaded project gives that build the very
// same inputs; a service read wrongly here costs the work done for it.
func speculate(root *safefs.Root, dir string, files, envFiles []string, env map[string]string, loc *locator) (*Project, []string) {
	if len(loc.units) != 1 {
		return nil, nil // includes
	}
	unit := loc.units[0]
	for _, r := range unit {
		if directPair(r.f.root, "include") != nil {
			return nil, nil
		}
	}
	// Where each service is defined: a service of two files is merged by
	// compose-go (an override), and is left to it.
	defined := map[string]int{}
	var order []string
	nodes := map[string]*yaml.Node{}
	for _, r := range unit {
		svcs := directPair(r.f.root, "services")
		if svcs == nil {
			continue
		}
		m := deref(svcs.value)
		if m == nil || m.Kind != yaml.MappingNode {
			return nil, nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			name := m.Content[i].Value
			if defined[name] == 0 {
				order = append(order, name)
			}
			defined[name]++
			nodes[name] = m.Content[i+1]
		}
	}
	p := &Project{Dir: dir, Files: files, Root: root}
	all := types.Services{}
	chains := map[string][]buildElem{}
	for _, name := range order {
		if defined[name] != 1 {
			continue
		}
		sc, ok := plainService(nodes[name], dir, env)
		if !ok {
			continue
		}
		chain, err := loc.chain(name)
		if err != nil {
			continue
		}
		sc.Name = name
		all[name] = sc
		chains[name] = chain
	}
	envv := newVarEnv(envFiles, dir, loc.files)
	headers := &headerCache{m: map[string]headerResult{}}
	byKey := map[[2]string]*Build{}
	for _, name := range order {
		sc, ok := all[name]
		if !ok {
			continue
		}
		svc := convertService(name, sc, dir)
		b, skip := resolveBuild(root, svc, chains[name], envv, headers)
		if skip != nil {
			continue
		}
		p.Services = append(p.Services, svc)
		p.Builds = addBuild(byKey, p.Builds, name, b)
	}
	markSharedContexts(root, p.Builds, all, chains, headers)
	return p, order
}

// plainKeys are the service keys speculate reads; ignoredKeys are those
// that change nothing the planner is given (its service facts and builds).
var (
	plainKeys   = map[string]bool{"build": true, "ports": true, "expose": true, "environment": true, "command": true, "entrypoint": true, "user": true, "labels": true, "network_mode": true}
	ignoredKeys = map[string]bool{"restart": true, "container_name": true, "depends_on": true, "networks": true, "image": true, "hostname": true, "stdin_open": true, "tty": true, "init": true, "stop_signal": true, "stop_grace_period": true, "logging": true, "pull_policy": true}
	plainBuild  = map[string]bool{"context": true, "dockerfile": true, "target": true, "args": true}
)

// plainService reads one service node, or says it is not plain.
func plainService(node *yaml.Node, dir string, env map[string]string) (types.ServiceConfig, bool) {
	var raw map[string]any
	if err := node.Decode(&raw); err != nil { // anchors and <<: merges resolved
		return types.ServiceConfig{}, false
	}
	v, ok := substitute(raw, env)
	if !ok {
		return types.ServiceConfig{}, false
	}
	raw = v.(map[string]any)
	var sc types.ServiceConfig
	for k, val := range raw {
		switch {
		case ignoredKeys[k] || strings.HasPrefix(k, "x-"):
			continue
		case !plainKeys[k]:
			return sc, false
		}
		var err error
		switch k {
		case "build":
			sc.Build, ok = plainBuildConfig(val, dir)
		case "ports":
			var list []string
			list, ok = portList(val)
			for _, s := range list {
				ports, perr := types.ParsePortConfig(s)
				if perr != nil {
					ok = false
					break
				}
				sc.Ports = append(sc.Ports, ports...)
			}
		case "expose":
			sc.Expose, ok = portList(val)
		case "environment":
			ok = noNil(val)
			err = sc.Environment.DecodeMapstructure(val)
		case "labels":
			ok = noNil(val)
			err = sc.Labels.DecodeMapstructure(val)
		case "command", "entrypoint":
			var cmd types.ShellCommand
			ok = stringsOnly(val)
			if ok {
				err = cmd.DecodeMapstructure(val)
			}
			if k == "command" {
				sc.Command = cmd
			} else {
				sc.Entrypoint = cmd
			}
		case "user", "network_mode":
			var s string
			s, ok = val.(string)
			if k == "user" {
				sc.User = s
			} else {
				sc.NetworkMode = s
			}
		}
		if !ok || err != nil {
			return sc, false
		}
	}
	return sc, sc.Build != nil
}

// plainBuildConfig reads a local build: a context path, or a mapping of
// context, dockerfile, target and args (a mapping without variables left
// to the environment).
func plainBuildConfig(v any, dir string) (*types.BuildConfig, bool) {
	b := &types.BuildConfig{Context: ".", Dockerfile: "Dockerfile"}
	switch v := v.(type) {
	case string:
		b.Context = v
	case map[string]any:
		for k, val := range v {
			if !plainBuild[k] {
				return nil, false
			}
			if k == "args" {
				if !noNil(val) {
					return nil, false
				}
				if err := b.Args.DecodeMapstructure(val); err != nil {
					return nil, false
				}
				continue
			}
			s, ok := val.(string)
			if !ok {
				return nil, false
			}
			switch k {
			case "context":
				b.Context = s
			case "dockerfile":
				b.Dockerfile = s
			case "target":
				b.Target = s
			}
		}
	default:
		return nil, false
	}
	if b.Context == "" || strings.Contains(b.Context, "://") || strings.HasPrefix(b.Context, "~") || isRemoteContext(b.Context) || strings.HasPrefix(b.Context, types.ServicePrefix) {
		return nil, false
	}
	if !filepath.IsAbs(b.Context) {
		b.Context = filepath.Join(dir, b.Context)
	}
	return b, true
}

// substitute interpolates every string of v as compose-go does, without
// its logging; ok is false when a variable is not set (compose-go would
// warn, and the value may come from elsewhere).
func substitute(v any, env map[string]string) (any, bool) {
	switch v := v.(type) {
	case string:
		missing := false
		out, err := template.SubstituteWithOptions(v, func(name string) (string, bool) {
			val, ok := env[name]
			if !ok {
				missing = true
			}
			return val, ok
		}, template.WithoutLogging)
		return out, err == nil && !missing
	case map[string]any:
		for k, e := range v {
			s, ok := substitute(e, env)
			if !ok {
				return nil, false
			}
			v[k] = s
		}
		return v, true
	case []any:
		for i, e := range v {
			s, ok := substitute(e, env)
			if !ok {
				return nil, false
			}
			v[i] = s
		}
		return v, true
	case nil, int, bool:
		return v, true
	}
	return nil, false // floats, dates, binary: left to compose-go
}

// portList returns a list of ports or exposed ports as strings, as
// compose-go reads them (a number is its decimal form).
func portList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		switch e := e.(type) {
		case string:
			out = append(out, e)
		case int:
			out = append(out, strconv.Itoa(e))
		default:
			return nil, false
		}
	}
	return out, true
}

// noNil reports whether a mapping or list has only values (a key without
// one is resolved from the environment by compose-go).
func noNil(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if e == nil {
				return false
			}
			if _, ok := e.(map[string]any); ok {
				return false
			}
			if _, ok := e.([]any); ok {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok || !strings.Contains(s, "=") {
				return false
			}
		}
		return true
	}
	return false
}

// stringsOnly reports whether a command is a string or a list of strings.
func stringsOnly(v any) bool {
	switch v := v.(type) {
	case string:
		return true
	case []any:
		for _, e := range v {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}
