package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

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

// TestNonRootBindMountOverWorkdir: a source bind mount over WORKDIR where
// the application writes keeps the user (the host directory is not
// writable by an image account) and the finding gives the compose fix; the
// same mount without writes, or writes without the mount, are switched.
func TestNonRootBindMountOverWorkdir(t *testing.T) {
	flask := map[string]string{
		"app.py":           "from flask import Flask\napp = Flask(__name__)\napp.config['UPLOAD_FOLDER'] = 'uploads'\n",
		"requirements.txt": "flask\n",
	}
	in := "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
	bind := facts.Service{Name: "web", Mounts: []facts.Mount{{Type: "bind", Source: ".", Target: "/app"}}}
	runCases(t, NonRoot, []ruleCase{{
		name:  "upload folder under a bind mount",
		in:    in,
		facts: gatherIn(t, flask, bind),
		findings: []string{
			"compose service web bind-mounts", "over /app, and the application writes there (/app/uploads from app.py: UPLOAD_FOLDER",
			"keeps running as root", "user: \"${UID:-1000}:${GID:-1000}\"` to service web",
		},
	}})
	sqlite := map[string]string{"app.py": "import sqlite3\ndb = sqlite3.connect('data/app.db')\n"}
	runCases(t, NonRoot, []ruleCase{{
		name:     "sqlite under a bind mount of a parent",
		in:       "FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
		facts:    gatherIn(t, sqlite, facts.Service{Name: "web", Mounts: []facts.Mount{{Type: "bind", Source: ".", Target: "/srv"}}}),
		findings: []string{"/srv/app/data from app.py: sqlite3.connect('data/app.db')"},
	}})
	env := facts.Service{Name: "web", Environment: map[string]string{"UPLOAD_DIR": "/app/media"},
		Mounts: []facts.Mount{{Type: "bind", Source: ".", Target: "/app"}}}
	runCases(t, NonRoot, []ruleCase{{
		name:     "compose environment names the write",
		in:       in,
		facts:    gatherIn(t, map[string]string{"app.py": "print('hi')\n"}, env),
		findings: []string{"/app/media from compose service web environment UPLOAD_DIR=/app/media"},
	}})
	account := "FROM python:3.12-slim\nWORKDIR /app\n" +
		"RUN groupadd --system --gid 10001 app \\\n    && useradd --system --no-log-init --uid 10001 --gid app -M -s /usr/sbin/nologin app"
	// The code stays root's; the account owns only the upload folder.
	switched := account + "\nCOPY . .\nUSER app\nCMD [\"python\", \"app.py\"]\n"
	uploads := account + " \\\n    && mkdir -p /app/uploads \\\n    && chown app:app /app/uploads\n" +
		"COPY . .\nUSER app\nCMD [\"python\", \"app.py\"]\n"
	runCases(t, NonRoot, []ruleCase{
		{
			name:  "bind mount, no writes",
			in:    in,
			want:  switched,
			facts: gatherIn(t, map[string]string{"app.py": "print('hi')\n"}, facts.Service{Name: "web", Mounts: []facts.Mount{{Type: "bind", Source: ".", Target: "/app"}}}),
		},
		{
			name:     "writes, no bind mount",
			in:       in,
			want:     uploads,
			findings: []string{"app owns only the directories the application writes, /app/uploads (app.py: UPLOAD_FOLDER'] = 'uploads'); its code stays root's"},
			facts:    gatherIn(t, flask, facts.Service{Name: "web"}),
		},
		{
			name:  "bind mount elsewhere",
			in:    in,
			want:  uploads,
			facts: gatherIn(t, flask, facts.Service{Name: "web", Mounts: []facts.Mount{{Type: "bind", Source: ".", Target: "/config"}}}),
		},
	})
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
