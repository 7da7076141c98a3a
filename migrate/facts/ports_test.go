package facts

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

func writeFiles(t *testing.T, files map[string]string) string {
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
	return dir
}

func portList(ps []Port) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Kind+":"+itoa(p.Number))
	}
	return strings.Join(parts, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestListenPorts (StageFacts.Ports): every kind of evidence names the port, the same way.
func TestListenPorts(t *testing.T) {
	cases := []struct {
		name       string
		dockerfile string
		files      map[string]string
		svc        Service
		want       string
	}{
		{"expose", "FROM node:20\nARG P=80\nEXPOSE ${P}/tcp 9000-9001\nCMD [\"node\",\"s.js\"]\n", nil, Service{}, "expose:80 expose:9000 expose:9001"},
		{"env PORT", "FROM node:20\nENV PORT=80\nCMD [\"node\",\"s.js\"]\n", nil, Service{}, "env:80"},
		{"aspnet urls", "FROM mcr.microsoft.com/dotnet/aspnet:6.0\nENV ASPNETCORE_URLS=http://+:80\n", nil, Service{}, "env:80"},
		{"command", "FROM python:3.12-slim\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:80\", \"app:app\"]\n", nil, Service{}, "command:80"},
		{"uvicorn", "FROM python:3.12-slim\nCMD uvicorn main:app --host 0.0.0.0 --port 80\n", nil, Service{}, "command:80"},
		{"http.server", "FROM python:3.12-slim\nCMD python -m http.server 80\n", nil, Service{}, "command:80"},
		{"compose ports", "FROM node:20\n", nil, Service{Name: "web", Ports: []int{80}}, "compose:80"},
		{"compose env", "FROM node:20\n", nil, Service{Name: "web", Environment: map[string]string{"PORT": "443"}}, "compose:443"},
		{"traefik label", "FROM node:20\n", nil, Service{Name: "web", Labels: map[string]string{
			"traefik.http.services.web.loadbalancer.server.port": "80", "traefik.enable": "true"}}, "label:80"},
		{"node source", "FROM node:20\n", map[string]string{"server.js": "app.listen(process.env.PORT || 80, () => {})\n"}, Service{}, "source:80"},
		{"node listen", "FROM node:20\n", map[string]string{"src/index.ts": "server.listen(80)\n"}, Service{}, "source:80"},
		{"flask run", "FROM python:3.12-slim\n", map[string]string{"app.py": "app.run(host='0.0.0.0', port=80)\n"}, Service{}, "source:80"},
		{"python getenv", "FROM python:3.12-slim\n", map[string]string{"app.py": "port = int(os.environ.get('PORT', 8000))\n"}, Service{}, "source:8000"},
		{"go", "FROM golang:1.22\n", map[string]string{"main.go": "http.ListenAndServe(\":80\", nil)\n"}, Service{}, "source:80"},
		{"nginx conf", "FROM nginx\nCOPY default.conf /etc/nginx/conf.d/\n", map[string]string{"default.conf": "server {\n    listen 8080;\n    listen [::]:8080;\n}\n"}, Service{}, "config:8080"},
		{"nginx default", "FROM nginx:1.27-alpine\nCOPY site /usr/share/nginx/html\n", nil, Service{}, "image:80"},
		{"dotnet 8 default", "FROM mcr.microsoft.com/dotnet/aspnet:8.0\n", nil, Service{}, "image:8080"},
		{"nothing", "FROM python:3.12-slim\nCMD [\"python\", \"worker.py\"]\n", nil, Service{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := dockerfile.Parse([]byte(c.dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			dir := writeFiles(t, c.files)
			b, err := Gather(dir, []Service{c.svc})
			if err != nil {
				t.Fatal(err)
			}
			st := f.Stages[len(f.Stages)-1]
			got := NewStages(b, f).Of(st).Ports()
			if portList(got) != c.want {
				t.Errorf("ports %q, want %q (%+v)", portList(got), c.want, got)
			}
			for _, p := range got {
				if p.Evidence == "" {
					t.Errorf("port %d has no evidence", p.Number)
				}
			}
		})
	}
}

func TestPrivilegedPorts(t *testing.T) {
	got := PrivilegedPorts([]Port{{Number: 80}, {Number: 1024}, {Number: 443}, {Number: 8080}})
	if portList(got) != ":80 :443" {
		t.Errorf("%q", portList(got))
	}
}
