package compose

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// The services speculate reads without compose-go are exactly the loaded
// project's (service facts and builds), and the ones it cannot read
// plainly (an override, volumes, an unset variable, a health check, an
// extends) are left out rather than guessed.
func TestSpeculateAgreesWithLoad(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"compose.yaml": `name: spec
x-common: &common
  restart: unless-stopped
  environment:
    LOG_LEVEL: ${LOG_LEVEL:-info}
services:
  plain:
    <<: *common
    build:
      context: ./a
      args:
        V: ${V}
        N: 20
      target: run
    ports: ["8080:80", "3000", 5000]
    expose: [9000]
    command: npm start --port 3000
    labels: [traefik.port=80]
    user: "1000"
    depends_on: [list-env]
  list-env:
    build: ./b
    environment: [A=1, B=two]
    entrypoint: ["sh", "-c"]
    network_mode: host
  shared:
    build: ./b
  overridden:
    build: ./c
    ports: ["7000"]
  with-volume:
    build: ./a
    volumes: ["./data:/data"]
  unset-var:
    build: ./c
    environment: {X: "${NOPE}"}
  checked:
    build: ./c
    healthcheck: {test: ["CMD", "true"]}
  child:
    extends: plain
  image-only:
    image: nginx
`,
		"compose.override.yaml": "services:\n  overridden:\n    build: ./c\n    environment: {D: \"1\"}\n",
		".env":                  "V=3\nLOG_LEVEL=warn\n",
		"a/Dockerfile":          "FROM node:20 AS run\nCMD [\"node\"]\n",
		"b/Dockerfile":          "FROM python:3.12\n",
		"c/Dockerfile":          "FROM golang:1.22\n",
	})
	var guess func() Guess
	p := load(t, Options{WorkingDir: dir, Started: func(_ string, g func() Guess) { guess = g }})
	spec, names := guess().Speculate()
	if spec == nil {
		t.Fatal("no speculation")
	}
	want := []string{"plain", "list-env", "shared", "overridden", "with-volume", "unset-var", "checked", "child", "image-only"}
	if !slices.Equal(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	var got []string
	for _, s := range spec.Services {
		got = append(got, s.Name)
		i := slices.IndexFunc(p.Services, func(l *Service) bool { return l.Name == s.Name })
		if i < 0 || !reflect.DeepEqual(s, p.Services[i]) {
			t.Errorf("service %s: speculated %+v\nloaded %+v", s.Name, s, p.Services[i])
		}
	}
	if !slices.Equal(got, []string{"plain", "list-env", "shared"}) {
		t.Errorf("speculated services %v, want plain, list-env and shared", got)
	}
	// b/Dockerfile is built by plain services only: the same build. The
	// loaded a/Dockerfile is also built by with-volume and child, which the
	// speculation left out: its build differs, and the planner, which
	// compares them, will not take its speculative plan.
	if len(spec.Builds) != 2 {
		t.Fatalf("%d speculated builds, want 2 (a/Dockerfile, b/Dockerfile)", len(spec.Builds))
	}
	for _, b := range spec.Builds {
		i := slices.IndexFunc(p.Builds, func(l *Build) bool { return l.Dockerfile == b.Dockerfile })
		if i < 0 {
			t.Fatalf("speculated build %s is not loaded", b.Dockerfile)
		}
		same := reflect.DeepEqual(*b, *p.Builds[i])
		if shared := filepath.Base(b.Context) == "a"; same == shared {
			t.Errorf("build %s: speculated %+v\nloaded %+v", b.Dockerfile, *b, *p.Builds[i])
		}
	}
}
