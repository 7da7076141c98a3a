package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

// The bind-mount cases are txtar files in testdata/non-root-user (a
// relative bind source there is in the context); file modes, which the
// format cannot hold, stay here.

// gatherIn writes files into a temporary context and gathers its facts.
func gatherIn(t *testing.T, files map[string]string, svcs ...facts.Service) *facts.Build {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range svcs {
		for j := range svcs[i].Mounts {
			if svcs[i].Mounts[j].Source == "." {
				svcs[i].Mounts[j].Source = dir
			}
		}
	}
	fb, err := facts.Gather(dir, svcs)
	if err != nil {
		t.Fatal(err)
	}
	return fb
}

// TestNonRootUnreadableContext: COPY keeps the context's modes, so code
// left root's must be readable by others. A file only its owner may read
// keeps the code given to the account (with a finding); the same file
// excluded by .dockerignore, which the build never sends, does not.
func TestNonRootUnreadableContext(t *testing.T) {
	in := "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
	account := "FROM python:3.12-slim\nWORKDIR /app\n" +
		"RUN groupadd --system --gid 10001 app \\\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /usr/sbin/nologin app\n"
	gatherPrivate := func(files map[string]string) *facts.Build {
		fb := gatherIn(t, files, facts.Service{Name: "web"})
		if err := os.Chmod(filepath.Join(fb.Context, "settings.ini"), 0o600); err != nil {
			t.Fatal(err)
		}
		return fb
	}
	runCases(t, NonRoot, []ruleCase{
		{
			name:     "a file only its owner reads",
			in:       in,
			want:     account + "COPY --chown=app:app . .\nUSER app\nCMD [\"python\", \"app.py\"]\n",
			facts:    gatherPrivate(map[string]string{"app.py": "print('hi')\n", "settings.ini": "[x]\n"}),
			findings: []string{"context files are not readable by other users (settings.ini) and COPY keeps their modes, so the copied files are given to app"},
		},
		{
			name:  "the same file ignored",
			in:    in,
			want:  account + "COPY . .\nUSER app\nCMD [\"python\", \"app.py\"]\n",
			facts: gatherPrivate(map[string]string{"app.py": "print('hi')\n", "settings.ini": "[x]\n", ".dockerignore": "settings.ini\n"}),
		},
	})
}
