package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendToEnvValue(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "A=x\nB=./Dockerfile\n", want: "A=x\nB=./Dockerfile.optimized\n"},
		{in: "B=Dockerfile   # keep me\r\n", want: "B=Dockerfile.optimized   # keep me\r\n"},
		{in: "export B=\"d/Dockerfile\" # q\n", want: "export B=\"d/Dockerfile.optimized\" # q\n"},
		{in: "B='Dockerfile'", want: "B='Dockerfile.optimized'"},
		{in: "B=one\nB=two\n", want: "B=one\nB=two.optimized\n"}, // the last line wins
		{in: "BB=x\n", err: "no line sets B"},
		{in: "B=\"unclosed\n", err: "spans lines"},
	} {
		got, err := appendToEnvValue("e.env", []byte(c.in), "B", ".optimized")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestClassifyDockerfileVar(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	if err := os.WriteFile(envFile, []byte("DF=Dockerfile\nOTHER=${USED}/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMPOSEOPT_TEST_SHELL_DF", "Dockerfile")
	env := &varEnv{envFiles: []string{envFile}, texts: map[string][]byte{"c.yaml": []byte("dockerfile: ${DF}\nx: ${USED}\ny: $${DF2}\n")}}
	for _, c := range []struct{ raw, file, why string }{
		{raw: "${DF}", file: envFile},
		{raw: "$DF", file: envFile},
		{raw: "${NOPE:-Dockerfile}", file: ""},
		{raw: "${NOPE-Dockerfile}", file: ""},
		{raw: "${COMPOSEOPT_TEST_SHELL_DF}", why: "shell environment"},
		{raw: "${COMPOSEOPT_TEST_SHELL_DF:-Dockerfile}", why: "shell environment"},
		{raw: "${USED}", why: "not set"},
		{raw: "${NOPE}", why: "not set"},
		{raw: "docker/${DF}", why: "dockerfile: is set from docker/${DF}; point"},
		{raw: "${NOPE:?required}", why: "point it at the optimized file by hand"},
	} {
		v, why := classifyDockerfileVar(c.raw, env)
		switch {
		case c.why != "" && (v != nil || !strings.Contains(why, c.why)):
			t.Errorf("%s: got %+v %q, want a reason with %q", c.raw, v, why, c.why)
		case c.why == "" && (v == nil || v.EnvFile != c.file):
			t.Errorf("%s: got %+v %q, want an edit of %q", c.raw, v, why, c.file)
		}
	}
	// A variable read twice is left to a human.
	env.texts["c.yaml"] = []byte("dockerfile: ${DF}\nenvironment:\n  X: $DF\n")
	if v, why := classifyDockerfileVar("${DF}", env); v != nil || !strings.Contains(why, "also used elsewhere") {
		t.Errorf("twice-used variable: %+v %q", v, why)
	}
}

// A project whose every Dockerfile path comes from .env: after the edits
// are written, compose-go resolves every service to the optimized file.
func TestDockerfileFromEnvResolvesAfterEdit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".env", "# paths\nA_DF=./src/a/Dockerfile\nB_DF=\"src/b/Dockerfile\"  # b\n")
	write("compose.yaml", "services:\n  a:\n    build:\n      context: .\n      dockerfile: ${A_DF}\n  b:\n    build:\n      context: .\n      dockerfile: ${B_DF}\n  c:\n    build:\n      context: src/c\n      dockerfile: ${C_DF:-Dockerfile}\n")
	for _, d := range []string{"a", "b", "c"} {
		write("src/"+d+"/Dockerfile", "FROM alpine:3.20\n")
		write("src/"+d+"/Dockerfile.optimized", "FROM alpine:3.20\n")
	}
	p, err := Load(context.Background(), Options{WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Skipped) != 0 || len(p.Builds) != 3 {
		t.Fatalf("builds %d, skipped %+v", len(p.Builds), p.Skipped)
	}
	refs := map[*Build]string{}
	for _, b := range p.Builds {
		refs[b] = b.Dockerfile + ".optimized"
	}
	edits, err := EditDockerfileRefs(p, refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		if err := os.WriteFile(e.Path, e.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env, _ := os.ReadFile(filepath.Join(dir, ".env"))
	if want := "# paths\nA_DF=./src/a/Dockerfile.optimized\nB_DF=\"src/b/Dockerfile.optimized\"  # b\n"; string(env) != want {
		t.Errorf(".env:\n%s\nwant\n%s", env, want)
	}
	q, err := Load(context.Background(), Options{WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range q.Services {
		got := filepath.Join(s.Build.Context, s.Build.Dockerfile)
		if want := filepath.Join(dir, "src", s.Name, "Dockerfile.optimized"); got != want {
			t.Errorf("service %s builds %s, want %s", s.Name, got, want)
		}
	}
}
