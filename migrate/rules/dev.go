package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// devNames are stage names, compose targets and environment values that
// mean an image is built for development or tests.
var devNames = map[string]bool{"dev": true, "develop": true, "development": true, "debug": true, "test": true, "tests": true, "testing": true, "local": true}

// devEnvKeys are the variables whose value tells the environment an image
// is built for.
var devEnvKeys = []string{"NODE_ENV", "ENV", "APP_ENV", "ENVIRONMENT", "FLASK_ENV", "DJANGO_ENV", "PYTHON_ENV", "RAILS_ENV", "BUILD_ENV"}

func isDevName(name string) bool {
	name = strings.ToLower(strings.Trim(name, `"'`))
	return devNames[name] || strings.HasPrefix(name, "dev-") || strings.HasSuffix(name, "-dev") ||
		strings.HasSuffix(name, "-development") || strings.HasSuffix(name, "-debug")
}

// DevStage says why stage st of f is built for development ("" when it is
// not): the decision the rules make, for the planner's other uses (which
// paths a development target reads).
func DevStage(f *dockerfile.File, fb *facts.Build, st *dockerfile.Stage) string {
	return devReason(&Pass{File: f, Facts: fb}, st)
}

// devReason says why a stage is built for development ("" when it is not).
// Rules leave such stages alone. A stage is for development when its name,
// or the target of a compose service that builds it, is a development name,
// or when a variable such as NODE_ENV has a development value in the build
// args or environment of such a service, or in an ENV or ARG default of
// the stage chain that no compose build arg overrides.
func devReason(p *Pass, st *dockerfile.Stage) string {
	if isDevName(st.Name) {
		return "stage " + st.Name + " is built for development"
	}
	args := map[string]string{}
	sf := p.Stage(st)
	for _, s := range sf.Services {
		if s.Target != "" && isDevName(s.Target) {
			return "service " + s.Name + " builds the development target " + s.Target
		}
		for _, k := range devEnvKeys {
			if v, ok := s.Args[k]; ok {
				args[k] = v
				if isDevName(v) {
					return "service " + s.Name + " builds with " + k + "=" + v
				}
			}
			if v := s.Environment[k]; isDevName(v) {
				return "service " + s.Name + " runs with " + k + "=" + v
			}
		}
	}
	for i := len(sf.Chain) - 1; i >= 0; i-- { // the stage first, then its bases
		for _, in := range sf.Chain[i].Instructions {
			switch in.Cmd {
			case "env":
				for i := 0; i+1 < len(in.Args); i += 3 {
					if isDevKey(in.Args[i]) && isDevName(in.Args[i+1]) {
						return "ENV " + in.Args[i] + " is " + in.Args[i+1]
					}
				}
			case "arg":
				for _, a := range in.Args {
					k, v, _ := strings.Cut(a, "=")
					if _, set := args[k]; !set && isDevKey(k) && isDevName(v) {
						return "ARG " + k + " defaults to " + v
					}
				}
			}
		}
	}
	return ""
}

func isDevKey(k string) bool {
	for _, d := range devEnvKeys {
		if k == d {
			return true
		}
	}
	return false
}
