package facts

import (
	"maps"
	"slices"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// TestChainIndexMatchesWalk checks the indexed lookups (EnvValue, User,
// Instructions) against a plain walk of the chain, at every instruction
// of every stage and at the end (nil).
func TestChainIndexMatchesWalk(t *testing.T) {
	src := `FROM alpine AS base
ENV A=1 B="two"
USER app
RUN echo 1
ENV A=3
FROM base AS mid
RUN useradd x
USER x:x
ENV HOME=/home/x
RUN echo 2
FROM mid
ENV B=4
USER root
RUN echo 3
`
	f, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	st := NewStages(&Build{Services: []Service{{Name: "s"}}}, f)
	for _, stage := range f.Stages {
		sf := st.Of(stage)
		var points []*dockerfile.Instruction
		for _, s := range sf.Chain {
			points = append(points, s.Instructions...)
		}
		points = append(points, nil)
		for _, at := range points {
			// The plain walk.
			env, user := map[string]string{}, ""
			runs := []*dockerfile.Instruction(nil)
		walk:
			for _, s := range sf.Chain {
				for _, in := range s.Instructions {
					if in == at {
						break walk
					}
					switch in.Cmd {
					case "env":
						for i := 0; i+1 < len(in.Args); i += 3 {
							env[in.Args[i]] = in.Args[i+1]
						}
					case "user":
						user = in.Args[0]
					case "run":
						runs = append(runs, in)
					}
				}
			}
			for _, k := range []string{"A", "B", "HOME", "NONE"} {
				want, wok := env[k]
				want = trimQuotes(want)
				if got, ok := sf.EnvValue(at, k); got != want || ok != wok {
					t.Errorf("stage %d before %v: EnvValue(%s) = %q, %v; want %q, %v", stage.Index, at, k, got, ok, want, wok)
				}
			}
			if got := sf.User(at); got != user {
				t.Errorf("stage %d before %v: User = %q, want %q", stage.Index, at, got, user)
			}
			if got := sf.Instructions("run", at); !slices.Equal(got, runs) {
				t.Errorf("stage %d before %v: %d RUNs, want %d", stage.Index, at, len(got), len(runs))
			}
			got := sf.Env(at)
			for k, v := range env {
				env[k] = trimQuotes(v)
			}
			if !maps.Equal(got, env) {
				t.Errorf("stage %d before %v: Env = %v, want %v", stage.Index, at, got, env)
			}
		}
	}
}

func trimQuotes(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// Vars, Expand and Workdir answer at an instruction of the chain, with
// BuildKit's expansion (quotes removed from values, defaults of unset
// names) and compose build args winning over ARG defaults.
func TestStageVarsAndWorkdir(t *testing.T) {
	src := "ARG BASE=node\nFROM $BASE:20 AS base\nARG PORT=3000\nENV HOST=\"0.0.0.0\" LISTEN=$HOST:${PORT}\nWORKDIR /srv\nFROM base\nARG TAG\nWORKDIR app\nENV URL=http://$LISTEN/${TAG:-v1}\nEXPOSE $PORT\nCMD [\"node\", \"s.js\"]\n"
	f, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b := &Build{Files: map[string]bool{}, Services: []Service{{Name: "web", Args: map[string]string{"PORT": "8080"}}}}
	st := f.Stages[1]
	sf := NewStages(b, f).Of(st)
	vars := sf.Vars(nil)
	for k, want := range map[string]string{"BASE": "node", "PORT": "8080", "HOST": "0.0.0.0", "LISTEN": "0.0.0.0:8080", "URL": "http://0.0.0.0:8080/v1"} {
		if vars[k] != want {
			t.Errorf("Vars[%s] = %q, want %q", k, vars[k], want)
		}
	}
	expose := st.Find("expose")[0]
	if got := sf.Expand("$PORT/tcp", expose); got != "8080/tcp" {
		t.Errorf("Expand at EXPOSE = %q", got)
	}
	if got := sf.Expand("$URL", f.Stages[0].Instructions[0]); got != "$URL" {
		t.Errorf("Expand before URL is set = %q, want it as written", got)
	}
	if got := sf.Workdir(nil); got != "/srv/app" {
		t.Errorf("Workdir = %q", got)
	}
	if got := sf.Workdir(st.Find("workdir")[0]); got != "/srv" {
		t.Errorf("Workdir before WORKDIR app = %q", got)
	}
	if sf.Info.Image.Ref != "node:20" {
		t.Errorf("Info.Image.Ref = %q", sf.Info.Image.Ref)
	}
}

// TestHealthcheckAndWholeContext: a stage inherits its base's
// HEALTHCHECK and a NONE turns it off; copying "." or "/" from the context
// in the stage or a base copies the whole context, a COPY --from does not.
func TestHealthcheckAndWholeContext(t *testing.T) {
	src := `FROM node:20 AS base
HEALTHCHECK CMD curl -f http://localhost/
COPY ./ /app
FROM base AS inherits
FROM base AS off
HEALTHCHECK NONE
FROM node:20 AS plain
COPY --from=base / /
COPY src /app/src
FROM plain AS root
COPY / /app
`
	f, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	stages := NewStages(&Build{}, f)
	for _, c := range []struct {
		stage    string
		hc, runs bool
		whole    bool
	}{
		{"base", true, true, true},
		{"inherits", true, true, true},
		{"off", true, false, true},
		{"plain", false, false, false},
		{"root", false, false, true},
	} {
		sf := stages.Of(f.Stage(c.stage))
		if got := sf.Healthcheck() != nil; got != c.hc {
			t.Errorf("%s: Healthcheck() != nil is %v, want %v", c.stage, got, c.hc)
		}
		if got := sf.HealthcheckRuns(); got != c.runs {
			t.Errorf("%s: HealthcheckRuns() = %v, want %v", c.stage, got, c.runs)
		}
		if got := sf.CopiesWholeContext(); got != c.whole {
			t.Errorf("%s: CopiesWholeContext() = %v, want %v", c.stage, got, c.whole)
		}
	}
}
