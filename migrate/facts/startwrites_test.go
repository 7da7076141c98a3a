package facts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// TestStartWrites: what the shell scripts and commands a container starts
// with write. Each case is a start script (start.sh, run by the CMD) and
// the writes (absolute directories; a file's directory) and doubts
// (substrings of their evidence) expected.
func TestStartWrites(t *testing.T) {
	cases := []struct {
		name, script string
		app          string   // app.py, when the case needs one
		writes       []string // Path of each write, in order
		doubts       []string // substring of each doubt, in order
	}{
		{"exec only", "#!/bin/sh\nset -e\nexec \"$@\"\n", "", nil, nil},
		{"exec the server", "#!/bin/sh\nexec gunicorn app:app --bind 0.0.0.0:8000\n", "", nil, nil},
		{"collectstatic", "#!/bin/sh\npython manage.py collectstatic --noinput\nexec \"$@\"\n", "", nil, []string{"start.sh:2, run at start: python manage.py collectstatic --noinput"}},
		{"migrate without SQLite", "python manage.py migrate\n", "", nil, nil},
		{"migrate with SQLite", "python manage.py migrate\nalembic upgrade head\n", "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n", nil, []string{"start.sh:1", "start.sh:2"}},
		{"next build at start", "npm run build && npm start\n", "", nil, []string{"start.sh:1, run at start: npm run build"}},
		{"rails assets", "bundle exec rails assets:precompile\n", "", nil, []string{"rails assets:precompile"}},
		{"artisan caches", "php artisan config:cache\nphp artisan route:cache\n", "", nil, []string{"start.sh:1", "start.sh:2"}},
		{"composer dump-autoload", "composer dump-autoload --optimize\n", "", nil, []string{"composer dump-autoload"}},
		{"mkdir relative", "mkdir -p logs\n", "", []string{"/app/logs"}, nil},
		{"mkdir absolute in the code", "mkdir -p /app/logs /app/cache\n", "", []string{"/app/logs", "/app/cache"}, nil},
		{"touch sqlite beside the code", "touch db.sqlite3\n", "", []string{"/app"}, nil},
		{"config written by echo", "echo \"window.API='$API_URL'\" > public/config.js\n", "", []string{"/app/public"}, nil},
		{"envsubst into the code", "envsubst < config.tmpl > config.json\n", "", []string{"/app"}, nil},
		{"sed -i on a code file", "sed -i \"s/PORT/$PORT/\" conf/app.conf\n", "", []string{"/app/conf"}, nil},
		{"cp into the code", "cp /config/settings.py mysite/local_settings.py\n", "", []string{"/app/mysite"}, nil},
		{"cp into a directory of its own", "cp -r /app/static/. /srv/www/static/\ncp -r static/. /public/\n", "", []string{"/srv/www/static", "/public"}, nil},
		{"ln -s in the code", "ln -sf /data/media media\n", "", []string{"/app"}, nil},
		{"chmod a code file", "chmod +x bin/run\n", "", []string{"/app/bin"}, nil},
		{"own directory outside the code", "mkdir -p /data/cache\n", "", []string{"/data/cache"}, nil},
		{"scratch and system paths", "echo $$ > /tmp/app.pid\nmkdir -p /var/lock/app\necho x > /dev/stderr\nenvsubst < t > /etc/nginx/conf.d/default.conf\nmkdir -p \"$HOME/.cache\"\n", "", nil, nil},
		{"a directory of its own in /run", "mkdir -p /var/run/app /run/app\n", "", []string{"/var/run/app", "/run/app"}, nil},
		{"volume target", "mkdir -p /srv/uploads/tmp\n", "", nil, nil},
		{"variable from the script", "DIR=/app/var\nmkdir -p \"$DIR/sessions\"\n", "", []string{"/app/var/sessions"}, nil},
		{"variable from ENV", "mkdir -p \"$APP_HOME/run\"\n", "", []string{"/app/run"}, nil},
		{"unknown variable", "mkdir -p \"$SOMEWHERE\"\n", "", nil, []string{"start.sh:1"}},
		{"default of an unknown variable", "mkdir -p \"${CACHE:-$APP_HOME/cache}\" \"$PWD/tmp\"\n", "", []string{"/app/cache", "/app/tmp"}, nil},
		{"variable with a pattern removed", "LOG=/app/logs/app.log\nmkdir -p \"${LOG%/*}\"\n", "", []string{"/app/logs"}, nil},
		{"variable set empty", "PREFIX=\nmkdir -p \"$PREFIX/data/x\"\n", "", []string{"/data/x"}, nil},
		{"computed file name", "echo x > \"logs/$(date +%F).log\"\n", "", []string{"/app/logs"}, nil},
		{"cd somewhere unknown", "cd \"$(dirname \"$0\")\"\nmkdir -p logs\n", "", nil, []string{"start.sh:2"}},
		{"cd somewhere known", "cd web\ntouch ready\n", "", []string{"/app/web"}, nil},
		{"cd out of the code", "cd /srv/app\ntouch ready\n", "", []string{"/srv/app"}, nil},
		{"sh -c inside", "sh -c 'mkdir -p logs && exec node server.js'\n", "", []string{"/app/logs"}, nil},
		{"heredoc to a file", "cat > settings.ini <<EOF\n[x]\nEOF\n", "", []string{"/app"}, nil},
		{"unparsable", "if then fi (\n", "", nil, []string{"cannot read"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "start.sh"), []byte(c.script), 0o755); err != nil {
				t.Fatal(err)
			}
			if c.app != "" {
				if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(c.app), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sf := startFacts(t, dir, "FROM python:3.12-slim\nENV APP_HOME=/app\nWORKDIR /app\nCOPY . .\nCMD [\"./start.sh\"]\n",
				[]Service{{Name: "web", Mounts: []Mount{{Type: "volume", Source: "up", Target: "/srv/uploads"}}}})
			sc := sf.startScan()
			var writes []string
			for _, w := range sc.writes {
				p := w.Path
				if w.file {
					p = filepath.ToSlash(filepath.Dir(p))
				}
				writes = append(writes, p)
			}
			if strings.Join(writes, " ") != strings.Join(c.writes, " ") {
				t.Errorf("writes %v, want %v (%+v)", writes, c.writes, sc.writes)
			}
			if len(sc.doubts) != len(c.doubts) {
				t.Fatalf("doubts %+v, want %d", sc.doubts, len(c.doubts))
			}
			for i, d := range c.doubts {
				if !strings.Contains(sc.doubts[i].Evidence, d) {
					t.Errorf("doubt %d = %q, want it to contain %q", i, sc.doubts[i].Evidence, d)
				}
			}
			if len(sc.scripts) != 1 || sc.scripts[0].Path != "start.sh" {
				t.Errorf("scripts %v, want [start.sh]", sc.scripts)
			}
		})
	}
}

// TestStartScripts: which files of the context a stage's start commands
// run, however they are named, and what is not followed.
func TestStartScripts(t *testing.T) {
	files := map[string]string{
		"docker/entrypoint.sh":  "#!/bin/sh\n. /app/docker/env.sh\nexec \"$@\"\n",
		"docker/env.sh":         "source ./docker/more.sh\n",
		"docker/more.sh":        "bash docker/deepest.sh\n",
		"docker/deepest.sh":     "mkdir -p /app/deep\n",
		"scripts/start":         "#!/usr/bin/env bash\nwait-for-it.sh db:5432 -- ./run.sh\n",
		"wait-for-it.sh":        "#!/bin/sh\necho waiting >&2\n",
		"run.sh":                "#!/bin/sh\nexec node server.js\n",
		"tool.py":               "#!/usr/bin/env python3\nopen('x', 'w')\n",
		"scripts/not-copied.sh": "mkdir -p x\n",
	}
	cases := []struct {
		name, dockerfile string
		services         []Service
		want             string
	}{
		{"entrypoint copied to PATH, sourced chain",
			"FROM node:20\nWORKDIR /app\nCOPY . .\nCOPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\", \"server.js\"]\n", nil,
			"docker/entrypoint.sh docker/env.sh docker/more.sh"},
		{"compose command through bash and wait-for-it",
			"FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
			[]Service{{Name: "web", Command: []string{"bash", "scripts/start"}}},
			"scripts/start wait-for-it.sh run.sh"},
		// A compose entrypoint clears the image's CMD: run.sh never runs.
		{"compose entrypoint, shell form CMD",
			"FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ./run.sh\n",
			[]Service{{Name: "web", Entrypoint: []string{"/app/docker/entrypoint.sh"}}},
			"docker/entrypoint.sh docker/env.sh docker/more.sh"},
		{"compose entrypoint and command",
			"FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
			[]Service{{Name: "web", Entrypoint: []string{"/app/docker/entrypoint.sh"}, Command: []string{"./run.sh"}}},
			"docker/entrypoint.sh docker/env.sh docker/more.sh run.sh"},
		{"a Python program is not read", "FROM python:3.12\nWORKDIR /app\nCOPY . .\nCMD [\"./tool.py\"]\n", nil, ""},
		{"a program on PATH is not looked up", "FROM python:3.12\nWORKDIR /app\nCOPY . .\nCMD [\"gunicorn\", \"app:app\"]\n", nil, ""},
	}
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sf := startFacts(t, dir, c.dockerfile, c.services)
			var got []string
			for _, sc := range sf.StartScripts() {
				got = append(got, sc.Path)
			}
			if got := strings.Join(got, " "); got != c.want {
				t.Errorf("scripts %q, want %q", got, c.want)
			}
		})
	}
	// The third level of scripts is past the scan's depth: a doubt.
	sf := startFacts(t, dir, cases[0].dockerfile, nil)
	if d := sf.startScan().doubts; len(d) != 1 || !strings.Contains(d[0].Evidence, "docker/deepest.sh, a start script past the scan's depth") {
		t.Errorf("doubts %+v, want the script past the depth", d)
	}
}

func startFacts(t *testing.T, dir, dockerfileText string, services []Service) *StageFacts {
	t.Helper()
	if services == nil {
		services = []Service{{Name: "app"}}
	}
	b, err := Gather(dir, services)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dockerfile.Parse([]byte(dockerfileText))
	if err != nil {
		t.Fatal(err)
	}
	return NewStages(b, f).Of(f.Stages[len(f.Stages)-1])
}

// TestStartSystemWrites: a start script's write to a directory only root
// may write is reported (it blocks the switch to an unprivileged user); a
// directory of the application's own under /var, /opt or /srv, the home,
// scratch directories and volumes are not.
func TestStartSystemWrites(t *testing.T) {
	cases := []struct {
		name, script string
		want         []string // evidence substrings, in order
	}{
		{"envsubst into /etc", "envsubst < t > /etc/nginx/conf.d/default.conf\nexec nginx -g 'daemon off;'\n", []string{"start.sh:1"}},
		{"a file directly in /var/log", "echo start >> /var/log/app.log\n", []string{"start.sh:1"}},
		{"sed -i in /usr", "sed -i s/a/b/ /usr/local/etc/app.conf\n", []string{"start.sh:1"}},
		{"root's home", "mkdir -p /root/.config/app\n", []string{"start.sh:1"}},
		{"own directory below /var", "mkdir -p /var/lib/app /var/log/app\n", nil},
		{"own directory below /opt", "touch /opt/data/ready\n", nil},
		{"a pid file directly in /run", "echo $$ > /run/app.pid\n", []string{"start.sh:1"}},
		{"a file directly in /", "touch /ready\n", []string{"start.sh:1"}},
		{"a directory of its own in /usr/local or /usr/src", "mkdir -p /usr/local/tomcat/logs /usr/src/app/cache\n", nil},
		{"a file directly in /home", "touch /home/ready\n", []string{"start.sh:1"}},
		{"scratch and volume", "echo $$ > /tmp/app.pid\nmkdir -p /srv/uploads/x /run/lock/app\n", nil},
		{"exec only", "exec \"$@\"\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "start.sh"), []byte(c.script), 0o755); err != nil {
				t.Fatal(err)
			}
			sf := startFacts(t, dir, "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"./start.sh\"]\n",
				[]Service{{Name: "web", Mounts: []Mount{{Type: "volume", Source: "up", Target: "/srv/uploads"}}}})
			got := sf.StartSystemWrites()
			if len(got) != len(c.want) {
				t.Fatalf("system writes %+v, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i].Evidence, w) {
					t.Errorf("system write %d: %q, want %q in it", i, got[i].Evidence, w)
				}
			}
		})
	}
}

// TestAppWritesScratch: AppWrites leaves out the directories every user
// may write and those no image file lives in, by path component (a
// directory named /devdata is the application's, not /dev).
func TestAppWritesScratch(t *testing.T) {
	for dir, want := range map[string]bool{
		"/devdata/uploads": true,
		"/tmpfiles":        true,
		"/run/app":         true,
		"/dev/shm/uploads": false,
		"/tmp/uploads":     false,
		"/var/tmp/uploads": false,
	} {
		sf := startFacts(t, t.TempDir(), "FROM python:3.12-slim\nENV UPLOAD_FOLDER="+dir+"\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n", nil)
		var got []string
		for _, w := range sf.Writes() {
			got = append(got, w.Path)
		}
		if has := strings.Join(got, " ") == dir; has != want {
			t.Errorf("UPLOAD_FOLDER=%s: writes %v, want it listed: %v", dir, got, want)
		}
	}
}
