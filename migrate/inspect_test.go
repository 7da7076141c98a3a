package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/compose"
	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// TestInspectImages: with --inspect-images, the facts read from the real
// image replace the table's (an image the table does not know becomes
// Debian, so the non-root rule creates a user instead of asking a human);
// an image that cannot be read is a warning and the table stands.
func TestInspectImages(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"compose.yaml": "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
		"a/Dockerfile": "FROM registry.example.com/team/base-a:1\nCOPY run /app/run\nCMD [\"/app/run\"]\n",
		"b/Dockerfile": "ARG TAG=2\nFROM registry.example.com/team/base-b:${TAG}\nCOPY run /app/run\nCMD [\"/app/run\"]\n",
		"a/run":        "#!/bin/sh\n",
		"b/run":        "#!/bin/sh\n",
	}
	writeTree(t, dir, files)
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nonroot := func(plan *Plan, svc string) (needsHuman bool, migrated bool) {
		for _, bp := range plan.Builds {
			if bp.Build.Services[0] != svc {
				continue
			}
			for _, f := range bp.Findings {
				if f.Rule == "non-root-user" && f.NeedsHuman && strings.Contains(f.Message, "unknown") {
					needsHuman = true
				}
			}
			return needsHuman, strings.Contains(string(bp.content), "useradd")
		}
		t.Fatalf("no build for %s", svc)
		return
	}
	p0 := dockerfile.Parses()
	plan, err := Make(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	parses := dockerfile.Parses() - p0
	// Inspection that reads nothing leaves the same plan, and its parses
	// of the Dockerfiles serve the plan: no parse more.
	p0 = dockerfile.Parses()
	if _, err := Make(context.Background(), p, Options{InspectImage: func(context.Context, string) (facts.ImageFacts, error) {
		return facts.ImageFacts{}, errors.New("offline")
	}}); err != nil {
		t.Fatal(err)
	}
	if n := dockerfile.Parses() - p0; n != parses {
		t.Errorf("with --inspect-images the plan parsed %d times, without %d", n, parses)
	}
	if nh, mig := nonroot(plan, "a"); !nh || mig {
		t.Fatalf("without inspection: needs human %v, user created %v; want the unknown-OS report", nh, mig)
	}
	var asked []string
	inspect := func(_ context.Context, ref string) (facts.ImageFacts, error) {
		asked = append(asked, ref)
		if strings.Contains(ref, "base-b") {
			return facts.ImageFacts{}, errors.New("unauthorized")
		}
		return facts.ImageFacts{Family: facts.Debian, OS: "debian", PkgManager: "apt", Shell: "/bin/sh", UserTools: "useradd", Known: true}, nil
	}
	plan, err = Make(context.Background(), p, Options{InspectImage: inspect})
	if err != nil {
		t.Fatal(err)
	}
	if nh, mig := nonroot(plan, "a"); nh || !mig {
		t.Errorf("inspected as Debian: needs human %v, user created %v; want a user created", nh, mig)
	}
	if nh, _ := nonroot(plan, "b"); !nh {
		t.Errorf("b could not be inspected: the table's unknown OS should stand")
	}
	if strings.Join(asked, " ") != "registry.example.com/team/base-a:1 registry.example.com/team/base-b:2" {
		t.Errorf("inspected %q, want each base once with build args expanded", asked)
	}
	if w := strings.Join(plan.Warnings, "\n"); !strings.Contains(w, "b/Dockerfile") || !strings.Contains(w, "unauthorized") {
		t.Errorf("warnings %q, want the failed inspection of b", w)
	}
	// What one plan inspected stays with that plan: the next plan, without
	// inspection, knows only the table again.
	plan, err = Make(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if nh, mig := nonroot(plan, "a"); !nh || mig {
		t.Errorf("a plan after an inspected one: needs human %v, user created %v; want the unknown-OS report", nh, mig)
	}
}
