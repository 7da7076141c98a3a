package facts

import "strings"

// developmentNames are stage names, compose targets and environment values
// that mean an image is built for development or tests.
var developmentNames = map[string]bool{"dev": true, "develop": true, "development": true, "debug": true, "test": true, "tests": true, "testing": true, "local": true}

// developmentKeys are the variables whose value names the environment an
// image is built for.
var developmentKeys = []string{"NODE_ENV", "ENV", "APP_ENV", "ENVIRONMENT", "FLASK_ENV", "DJANGO_ENV", "PYTHON_ENV", "RAILS_ENV", "BUILD_ENV"}

func isDevelopmentName(name string) bool {
	name = strings.ToLower(strings.Trim(name, `"'`))
	return developmentNames[name] || strings.HasPrefix(name, "dev-") || strings.HasSuffix(name, "-dev") ||
		strings.HasSuffix(name, "-development") || strings.HasSuffix(name, "-debug")
}

func isDevelopmentKey(k string) bool {
	for _, d := range developmentKeys {
		if k == d {
			return true
		}
	}
	return false
}

// DevelopmentReason says why the stage is built for development or tests
// ("" when it is not): the one answer to "is this stage development?" that
// every rule and the planner ask, so that the same Dockerfile and services
// always get the same decision. A stage is for development when its name,
// or the target of a compose service that builds it, is a development name
// (dev, test, local, *-dev ...), or when a variable such as NODE_ENV has a
// development value in the build args or environment of such a service, or
// in an ENV or ARG default of the stage chain that no compose build arg
// overrides. Every rule asks it of every stage it looks at: it is
// computed once per stage.
func (sf *StageFacts) DevelopmentReason() string {
	if sf.development == nil {
		r := sf.developmentReason()
		sf.development = &r
	}
	return *sf.development
}

// developmentReason reads the chain stage first, then its bases, so that
// the reason given is the nearest one.
func (sf *StageFacts) developmentReason() string {
	if isDevelopmentName(sf.Stage.Name) {
		return "stage " + sf.Stage.Name + " is built for development"
	}
	args := map[string]string{}
	for _, s := range sf.Services {
		if s.Target != "" && isDevelopmentName(s.Target) {
			return "service " + s.Name + " builds the development target " + s.Target
		}
		for _, k := range developmentKeys {
			if v, ok := s.Args[k]; ok {
				args[k] = v
				if isDevelopmentName(v) {
					return "service " + s.Name + " builds with " + k + "=" + v
				}
			}
			if v := s.Environment[k]; isDevelopmentName(v) {
				return "service " + s.Name + " runs with " + k + "=" + v
			}
		}
	}
	for i := len(sf.Chain) - 1; i >= 0; i-- { // the stage first, then its bases
		for _, in := range sf.Chain[i].Instructions {
			switch in.Cmd {
			case "env":
				for i := 0; i+1 < len(in.Args); i += 3 {
					if isDevelopmentKey(in.Args[i]) && isDevelopmentName(in.Args[i+1]) {
						return "ENV " + in.Args[i] + " is " + in.Args[i+1]
					}
				}
			case "arg":
				for _, a := range in.Args {
					k, v, _ := strings.Cut(a, "=")
					if _, set := args[k]; !set && isDevelopmentKey(k) && isDevelopmentName(v) {
						return "ARG " + k + " defaults to " + v
					}
				}
			}
		}
	}
	return ""
}
