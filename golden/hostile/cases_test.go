package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/lockfile"
)

// migrated are the files a successful apply of the basic project writes.
var migrated = []string{"compose.yaml", "app/Dockerfile.optimized", "app/.dockerignore"}

func withBasic(f func(e *env)) func(e *env) {
	return func(e *env) {
		e.basic()
		f(e)
	}
}

// twoBuilds adds a second, harmless build so that one build's failure can
// be seen not to stop the other.
func (e *env) twoBuilds(first string) {
	e.write("compose.yaml", "services:\n  app:\n    build: "+first+"\n  web:\n    build: ./web\n")
	e.write("web/Dockerfile", "FROM node:20-slim\nWORKDIR /srv\nCOPY . .\nCMD node server.js\n")
	e.write("web/server.js", "require('http').createServer((q, s) => s.end('ok')).listen(3000)\n")
}

var webMigrated = []string{"web/Dockerfile.optimized", "web/.dockerignore", "compose.yaml"}

func TestHostile(t *testing.T) {
	cases := []hcase{
		// --- links out of the project, one per kind of path -------------
		{name: "optimized-link-to-outside-plan", setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "secret"), "app/Dockerfile.optimized")
		}), want: []string{"app/Dockerfile.optimized is a symbolic link"}},
		{name: "optimized-link-to-outside-apply", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "secret"), "app/Dockerfile.optimized")
		}), want: []string{"app/Dockerfile.optimized is a symbolic link", "never writes through a link"}},
		{name: "optimized-link-to-outside-force", args: []string{"apply", "--force"}, setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "secret"), "app/Dockerfile.optimized")
		}), want: []string{"app/Dockerfile.optimized is a symbolic link"}},
		{name: "optimized-link-to-proc-environ", setup: withBasic(func(e *env) {
			e.link("/proc/self/environ", "app/Dockerfile.optimized")
		}), want: []string{"app/Dockerfile.optimized is a symbolic link"}},
		{name: "optimized-link-inside-project", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("notes.txt", "mine\n")
			e.link("../notes.txt", "app/Dockerfile.optimized")
		}), want: []string{"app/Dockerfile.optimized is a symbolic link"}},
		{name: "optimized-dangling-link-out", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "created-by-attack"), "app/Dockerfile.optimized")
		}), want: []string{"app/Dockerfile.optimized is a symbolic link"}},
		{name: "dockerignore-link-to-outside-plan", setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "secret"), "app/.dockerignore")
		}), want: []string{"app/.dockerignore is a symbolic link"}},
		{name: "dockerignore-link-to-outside-apply", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "secret"), "app/.dockerignore")
		}), want: []string{"app/.dockerignore is a symbolic link"}},
		{name: "per-dockerfile-ignore-link-out", args: []string{"apply"}, setup: func(e *env) {
			e.write("compose.yaml", "services:\n  a:\n    build:\n      context: ./app\n      dockerfile: Dockerfile\n  b:\n    build:\n      context: ./app\n      dockerfile: Dockerfile.b\n")
			e.write("app/Dockerfile", basicDockerfile)
			e.write("app/Dockerfile.b", basicDockerfile)
			e.write("app/requirements.txt", "flask\n")
			e.link(filepath.Join(e.outside, "secret"), "app/Dockerfile.optimized.dockerignore")
		}, want: []string{"app/Dockerfile.optimized.dockerignore is a symbolic link"},
			changed: []string{"compose.yaml", "app/Dockerfile.b.optimized", "app/Dockerfile.b.optimized.dockerignore"}},
		{name: "context-is-link-to-outside-dir", args: []string{"apply"}, setup: func(e *env) {
			e.write("compose.yaml", basicCompose)
			e.write(filepath.Join(e.outside, "app", "Dockerfile"), basicDockerfile)
			e.link(filepath.Join(e.outside, "app"), "app")
		}, want: []string{"build context", "outside the project directory", "--allow-outside"}},
		{name: "context-dotdot", args: []string{"apply"}, setup: func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    build: ../outside/app\n")
			e.write(filepath.Join(e.outside, "app", "Dockerfile"), basicDockerfile)
		}, want: []string{"build context", "outside the project directory"}},
		{name: "context-absolute", args: []string{"apply"}, setup: func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    build: "+filepath.Join(e.outside, "app")+"\n")
			e.write(filepath.Join(e.outside, "app", "Dockerfile"), basicDockerfile)
		}, want: []string{"build context", "outside the project directory"}},
		{name: "context-outside-allowed", args: []string{"--allow-outside", "$OUT", "apply"}, setup: func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    build: ../outside/app\n")
			os.Remove(filepath.Join(e.outside, "app", "Dockerfile.optimized"))
			os.Remove(filepath.Join(e.outside, "app", ".dockerignore"))
			e.write(filepath.Join(e.outside, "app", "Dockerfile"), basicDockerfile)
			e.write(filepath.Join(e.outside, "app", "requirements.txt"), "flask\n")
		}, changed: []string{"compose.yaml"}, outsideChanged: []string{"app/Dockerfile.optimized", "app/.dockerignore"}},
		{name: "dockerfile-outside-context-inside", args: []string{"apply"}, setup: func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    build:\n      context: ./app\n      dockerfile: ../../outside/Dockerfile\n")
			e.write("app/app.py", "print(1)\n")
			e.write(filepath.Join(e.outside, "Dockerfile"), basicDockerfile)
		}, want: []string{"Dockerfile", "outside the project directory"}},
		{name: "dockerfile-link-to-outside", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write(filepath.Join(e.outside, "Dockerfile"), basicDockerfile+"# "+canary+"\n")
			e.link(filepath.Join(e.outside, "Dockerfile"), "app/Dockerfile")
		}), want: []string{"Dockerfile", "outside the project directory"}},
		{name: "include-outside", setup: func(e *env) {
			e.write("compose.yaml", "include:\n  - ../outside/inc.yaml\nservices:\n  x:\n    image: alpine\n")
			e.write(filepath.Join(e.outside, "inc.yaml"), "services:\n  y:\n    image: alpine\n")
		}, exit: 1, want: []string{"inc.yaml", "outside the project directory"}},
		{name: "include-link-to-outside", setup: func(e *env) {
			e.write("compose.yaml", "include:\n  - inc.yaml\nservices:\n  x:\n    image: alpine\n")
			e.write(filepath.Join(e.outside, "inc.yaml"), "services:\n  y:\n    image: alpine\n")
			e.link(filepath.Join(e.outside, "inc.yaml"), "inc.yaml")
		}, exit: 1, want: []string{"inc.yaml", "outside the project directory"}},
		{name: "extends-file-outside", setup: func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    extends:\n      file: ../outside/base.yaml\n      service: base\n")
			e.write(filepath.Join(e.outside, "base.yaml"), "services:\n  base:\n    build: .\n")
		}, exit: 1, want: []string{"base.yaml", "outside the project directory"}},
		// Paths built from variables are checked as compose-go will
		// interpolate them (from the project's .env here).
		{name: "include-variable-outside", setup: func(e *env) {
			e.write(".env", "INC=../outside/inc.yaml\n")
			e.write("compose.yaml", "include:\n  - ${INC}\nservices:\n  x:\n    image: alpine\n")
			e.write(filepath.Join(e.outside, "inc.yaml"), "services:\n  y:\n    image: alpine\n    environment:\n      X: "+canary+"\n")
		}, exit: 1, want: []string{"inc.yaml", "outside the project directory"}},
		{name: "include-default-outside", setup: func(e *env) {
			e.write("compose.yaml", "include:\n  - path: ${SHARED:-../outside}/inc.yaml\nservices:\n  x:\n    image: alpine\n")
			e.write(filepath.Join(e.outside, "inc.yaml"), "services:\n  y:\n    image: alpine\n")
		}, exit: 1, want: []string{"inc.yaml", "outside the project directory"}},
		{name: "include-variable-inside", args: []string{"apply"}, setup: func(e *env) {
			e.write(".env", "INC=sub/compose.yaml\n")
			e.write("compose.yaml", "include:\n  - ${INC}\n")
			e.write("sub/compose.yaml", "services:\n  app:\n    build: ./app\n")
			e.write("sub/app/Dockerfile", basicDockerfile)
			e.write("sub/app/requirements.txt", "flask\n")
		}, changed: []string{"sub/compose.yaml", "sub/app/Dockerfile.optimized", "sub/app/.dockerignore"}},
		{name: "include-env-file-outside", setup: func(e *env) {
			e.write("compose.yaml", "include:\n  - path: inc.yaml\n    env_file: ../outside/env\n")
			e.write("inc.yaml", "services:\n  y:\n    image: alpine:${TAG}\n")
			e.write(filepath.Join(e.outside, "env"), "TAG="+canary+"\n")
		}, exit: 1, want: []string{"env", "outside the project directory"}},
		{name: "include-project-dotenv-fifo", setup: func(e *env) {
			e.write("compose.yaml", "include:\n  - sub/compose.yaml\n")
			e.write("sub/compose.yaml", "services:\n  y:\n    image: alpine\n")
			e.fifo("sub/.env")
		}, exit: 1, want: []string{".env", "FIFO"}},
		{name: "extends-file-variable-outside", setup: func(e *env) {
			e.write(".env", "BASE=../outside\n")
			e.write("compose.yaml", "services:\n  app:\n    extends:\n      file: ${BASE}/base.yaml\n      service: base\n")
			e.write(filepath.Join(e.outside, "base.yaml"), "services:\n  base:\n    build: .\n")
		}, exit: 1, want: []string{"base.yaml", "outside the project directory"}},
		{name: "compose-file-link-to-outside", setup: func(e *env) {
			e.write(filepath.Join(e.outside, "compose.yaml"), "services:\n  app:\n    image: alpine\n    environment:\n      X: "+canary+"\n")
			e.link(filepath.Join(e.outside, "compose.yaml"), "compose.yaml")
		}, exit: 1, want: []string{"compose.yaml", "outside the project directory"}},
		{name: "compose-file-link-inside-apply", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("deploy/compose.yaml", basicCompose)
			os.Remove(e.path("compose.yaml"))
			e.link("deploy/compose.yaml", "compose.yaml")
		}), exit: 1, want: []string{"compose.yaml is a symbolic link"}},
		{name: "dotenv-compose-file-outside", setup: func(e *env) {
			e.write(".env", "COMPOSE_FILE="+filepath.Join(e.outside, "compose.yaml")+"\n")
			e.write(filepath.Join(e.outside, "compose.yaml"), "services:\n  app:\n    image: alpine\n")
		}, exit: 1, want: []string{"COMPOSE_FILE", "outside the project directory"}},
		{name: "dotenv-link-to-outside", setup: withBasic(func(e *env) {
			e.write(filepath.Join(e.outside, "env"), "TAG="+canary+"\n")
			e.link(filepath.Join(e.outside, "env"), ".env")
		}), exit: 1, want: []string{".env", "outside the project directory"}},
		{name: "dotenv-fifo", setup: withBasic(func(e *env) { e.fifo(".env") }),
			exit: 1, want: []string{".env", "FIFO"}},
		{name: "manifest-link-to-outside", setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "secret"), "app/requirements.txt")
		}), want: []string{"app/Dockerfile.optimized"}},
		{name: "npmrc-link-to-outside", setup: func(e *env) {
			e.write("compose.yaml", "services:\n  web:\n    build: ./web\n")
			e.write("web/Dockerfile", "FROM node:20-slim\nWORKDIR /srv\nCOPY .npmrc package.json ./\nRUN npm install\nCOPY . .\nCMD node server.js\n")
			e.write("web/package.json", `{"name":"w","dependencies":{}}`)
			e.write(filepath.Join(e.outside, "npmrc"), "//registry.npmjs.org/:_authToken="+canary+"\n")
			e.link(filepath.Join(e.outside, "npmrc"), "web/.npmrc")
		}, want: []string{"web/Dockerfile.optimized"}},
		{name: "config-link-to-outside", setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "secret"), ".composeopt.yaml")
		}), exit: 1, want: []string{".composeopt.yaml", "outside the project directory"}},
		{name: "source-dir-link-to-outside", setup: withBasic(func(e *env) {
			e.write(filepath.Join(e.outside, "src", "routes.py"), "# "+canary+"\n@app.get('/readyz')\n")
			e.link(filepath.Join(e.outside, "src"), "app/src")
		}), want: []string{"app/Dockerfile.optimized"}, check: func(e *env, out string) []string {
			if strings.Contains(out, "/readyz") {
				return []string{"a health route was read from a file outside the project"}
			}
			return nil
		}},

		// --- special files ----------------------------------------------
		{name: "dockerignore-fifo", setup: withBasic(func(e *env) { e.fifo("app/.dockerignore") }),
			want: []string{"app/.dockerignore", "FIFO"}},
		{name: "dockerfile-fifo", setup: withBasic(func(e *env) { e.fifo("app/Dockerfile") }),
			want: []string{"app/Dockerfile", "not a regular file"}},
		{name: "requirements-fifo", setup: withBasic(func(e *env) { e.fifo("app/requirements.txt") }),
			want: []string{"app/Dockerfile.optimized"}},
		{name: "requirements-dev-zero", setup: withBasic(func(e *env) { e.link("/dev/zero", "app/requirements.txt") }),
			want: []string{"app/Dockerfile.optimized"}},
		{name: "dockerignore-dev-zero", setup: withBasic(func(e *env) { e.link("/dev/zero", "app/.dockerignore") }),
			want: []string{"app/.dockerignore is a symbolic link"}},
		{name: "requirements-dev-zero-allowed", args: []string{"--allow-outside", "/dev", "plan"},
			setup: withBasic(func(e *env) { e.link("/dev/zero", "app/requirements.txt") }),
			want:  []string{"app/Dockerfile.optimized"}},
		{name: "dockerfile-dev-zero-allowed", args: []string{"--allow-outside", "/dev", "plan"},
			setup: withBasic(func(e *env) { e.link("/dev/zero", "app/Dockerfile") }),
			want:  []string{"not a regular file"}},
		{name: "package-json-fifo", setup: func(e *env) {
			e.write("compose.yaml", "services:\n  web:\n    build: ./web\n")
			e.write("web/Dockerfile", "FROM node:20-slim\nWORKDIR /srv\nCOPY . .\nCMD node server.js\n")
			e.fifo("web/package.json")
		}, want: []string{"web"}},
		{name: "compose-file-fifo", args: []string{"-f", "pipe.yaml", "plan"}, setup: func(e *env) { e.fifo("pipe.yaml") },
			exit: 1, want: []string{"pipe.yaml: not a regular file (a FIFO)"}},
		{name: "include-fifo", setup: func(e *env) {
			e.write("compose.yaml", "include:\n  - inc.yaml\nservices:\n  x:\n    image: alpine\n")
			e.fifo("inc.yaml")
		}, exit: 1, want: []string{"inc.yaml", "FIFO"}},
		{name: "extends-fifo", setup: func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    extends:\n      file: base.yaml\n      service: base\n")
			e.fifo("base.yaml")
		}, exit: 1, want: []string{"base.yaml", "FIFO"}},
		{name: "config-fifo", setup: withBasic(func(e *env) { e.fifo(".composeopt.yaml") }),
			exit: 1, want: []string{".composeopt.yaml", "FIFO"}},
		{name: "add-source-fifo", setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "FROM python:3.12-slim\nADD data.bin /data/\nCMD python app.py\n")
			e.fifo("app/data.bin")
		}), want: []string{"app"}},
		{name: "go-source-fifo", setup: func(e *env) {
			e.write("compose.yaml", "services:\n  ids:\n    build: ./svc\n")
			e.write("svc/Dockerfile", "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /ids .\nCMD [\"/ids\"]\n")
			e.write("svc/go.mod", "module x\n\ngo 1.22\n")
			e.write("svc/main.go", "package main\nfunc main() {}\n")
			e.fifo("svc/pipe.go")
			e.fifo("svc/routes.py")
		}, want: []string{"ids"}},
		{name: "optimized-is-fifo", args: []string{"apply"}, setup: withBasic(func(e *env) { e.fifo("app/Dockerfile.optimized") }),
			want: []string{"app/Dockerfile.optimized", "FIFO"}},
		{name: "optimized-is-directory", args: []string{"apply"}, setup: withBasic(func(e *env) { e.mkdir("app/Dockerfile.optimized") }),
			want: []string{"app/Dockerfile.optimized", "a directory"}},
		{name: "dockerignore-is-directory", args: []string{"apply"}, setup: withBasic(func(e *env) { e.mkdir("app/.dockerignore") }),
			want: []string{"app/.dockerignore", "a directory"}},
		{name: "dockerfile-is-directory", setup: withBasic(func(e *env) {
			os.Remove(e.path("app/Dockerfile"))
			e.mkdir("app/Dockerfile")
		}), want: []string{"app/Dockerfile", "not a regular file"}},

		// --- huge files -------------------------------------------------
		{name: "huge-dockerfile", setup: withBasic(func(e *env) { e.big("app/Dockerfile", basicDockerfile, 3<<20) }),
			want: []string{"app/Dockerfile", "too large"}},
		{name: "huge-compose-file", setup: func(e *env) { e.big("compose.yaml", basicCompose+"#", 6<<20) },
			exit: 1, want: []string{"compose.yaml", "too large"}},
		{name: "huge-requirements", setup: withBasic(func(e *env) { e.big("app/requirements.txt", "flask\n", 200<<20) }),
			want: []string{"app/Dockerfile.optimized"}},
		{name: "huge-dockerignore", setup: withBasic(func(e *env) { e.big("app/.dockerignore", "*.pyc\n", 2<<20) }),
			want: []string{"app/.dockerignore", "too large"}},

		// --- YAML ---------------------------------------------------------
		{name: "invalid-yaml", setup: func(e *env) { e.write("compose.yaml", "services:\n  app:\n   build: [\n") },
			exit: 1, want: []string{"compose.yaml", "line"}},
		{name: "yaml-bomb", setup: func(e *env) { e.write("compose.yaml", yamlBomb) },
			exit: 1, want: []string{"compose.yaml"}},
		// The same aliases inside a built service, which the plan reads
		// while compose-go loads (compose.Guess.Speculate decodes it).
		{name: "yaml-bomb-in-built-service", setup: withBasic(func(e *env) {
			e.write("compose.yaml", strings.Replace(yamlBomb, "services:\n  x:\n    image: alpine\n", "", 1)+"services:\n  app:\n    build: ./app\n    labels: *i\n")
		}),
			exit: 1, want: []string{"compose.yaml"}},
		// An anchor holding an alias to itself: compose-go expanded it for
		// 14 s, and following the service's merge overflowed the stack.
		{name: "yaml-self-merge-service", setup: func(e *env) { e.write("compose.yaml", "services:\n  a: &s\n    <<: *s\n    build: ./app\n") },
			exit: 1, want: []string{"compose.yaml:3", "alias to the anchor itself"}},
		{name: "yaml-self-merge-extension", setup: func(e *env) {
			e.write("compose.yaml", "x-b: &b\n  <<: *b\n  context: v\nservices:\n  x:\n    image: alpine\n")
		},
			exit: 1, want: []string{"compose.yaml:2", "alias to the anchor itself"}},
		{name: "yaml-deep-nesting", setup: func(e *env) {
			e.write("compose.yaml", "services:\n  x:\n    image: alpine\nx-deep: "+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+"\n")
		}, exit: 1, want: []string{"compose.yaml"}},
		{name: "compose-nul-bytes", setup: func(e *env) { e.write("compose.yaml", "services:\n  app:\n    build: ./app\x00\n") },
			exit: 1, want: []string{"compose.yaml"}},
		{name: "compose-invalid-utf8", setup: func(e *env) { e.write("compose.yaml", "services:\n  app:\n    image: \xff\xfe\n") },
			exit: 1, want: []string{"compose.yaml"}},
		{name: "compose-bom", args: []string{"apply"}, setup: withBasic(func(e *env) { e.write("compose.yaml", "\ufeff"+basicCompose) }),
			changed: migrated},
		{name: "compose-crlf", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("compose.yaml", strings.ReplaceAll(basicCompose, "\n", "\r\n"))
		}), changed: migrated, check: func(e *env, _ string) []string {
			data, _ := os.ReadFile(e.path("compose.yaml"))
			if strings.Count(string(data), "\n") != strings.Count(string(data), "\r\n") {
				return []string{fmt.Sprintf("CRLF compose file got LF lines:\n%q", data)}
			}
			return nil
		}},

		// --- Dockerfile text ----------------------------------------------
		{name: "dockerfile-nul-bytes", setup: withBasic(func(e *env) { e.write("app/Dockerfile", "FROM python:3.12\x00\nCMD python app.py\n") }),
			want: []string{"app"}},
		{name: "dockerfile-invalid-utf8", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", strings.Replace(basicDockerfile, "WORKDIR /app", "# caf\xe9\nWORKDIR /app", 1))
		}), changed: migrated},
		{name: "dockerfile-crlf", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", strings.ReplaceAll(basicDockerfile, "\n", "\r\n"))
		}), changed: migrated, check: checkOptimizedParses},
		{name: "dockerfile-unknown-instruction", setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "FROM python:3.12-slim\nFROBNICATE all the things\nCMD python app.py\n")
		}), want: []string{"app"}},
		{name: "dockerfile-empty", setup: withBasic(func(e *env) { e.write("app/Dockerfile", "") }),
			want: []string{"app/Dockerfile", "no instructions"}},
		{name: "dockerfile-unterminated-heredoc", setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "FROM python:3.12-slim\nRUN <<EOF\necho hi\n")
		}), want: []string{"app/Dockerfile:"}},
		{name: "dockerfile-bom-directive", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "\ufeff# syntax=docker/dockerfile:1\n"+basicDockerfile)
		}), changed: migrated, check: checkOptimizedParses},
		{name: "dockerfile-escape-directive-spaces", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "# escape  = `\n"+basicDockerfile)
		}), changed: migrated, check: checkOptimizedParses},

		// --- read-only and odd targets ------------------------------------
		{name: "compose-file-read-only", args: []string{"apply"}, setup: withBasic(func(e *env) {
			if err := os.Chmod(e.path("compose.yaml"), 0o444); err != nil {
				e.t.Fatal(err)
			}
		}), changed: migrated, check: func(e *env, _ string) []string {
			if fi, err := os.Stat(e.path("compose.yaml")); err != nil || fi.Mode().Perm() != 0o444 {
				return []string{fmt.Sprintf("the compose file lost its read-only mode: %v", err)}
			}
			return nil
		}},
		{name: "project-dir-not-writable", args: []string{"apply"}, setup: withBasic(func(e *env) {
			// Root ignores permissions; an immutable directory stops it.
			makeImmutable(e, "app")
		}), exit: 1, want: []string{"app/"}},

		// --- Windows images and variable contexts ---------------------------
		{name: "windows-platform-flag", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "FROM --platform=windows/amd64 python:3.12\nCOPY . .\nCMD python app.py\n")
		}), want: []string{"Windows-container Dockerfile", "windows/amd64"}},
		{name: "windows-platform-from-arg", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "ARG PLATFORM=windows/amd64\nFROM --platform=$PLATFORM python:3.12\nCOPY . .\nCMD python app.py\n")
		}), want: []string{"Windows-container Dockerfile"}},
		{name: "windows-dotnet-framework", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "FROM mcr.microsoft.com/dotnet/framework/aspnet:4.8\nWORKDIR /inetpub/wwwroot\nCOPY . .\n")
		}), want: []string{"Windows-container Dockerfile"}},
		{name: "windows-servercore-tag", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "FROM python:3.12-windowsservercore-ltsc2022\nCOPY . .\nCMD python app.py\n")
		}), want: []string{"Windows-container Dockerfile"}},
		{name: "windows-nanoserver-build-stage", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022 AS tools\nRUN echo hi\nFROM python:3.12\nCOPY --from=tools /x /x\nCMD python app.py\n")
		}), want: []string{"Windows-container Dockerfile"}},
		{name: "context-from-variable", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    build: ./app${SUFFIX:-}\n")
		}), want: []string{"build context is set from ./app${SUFFIX:-}"}},
		{name: "context-from-variable-long-form", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("compose.yaml", "services:\n  app:\n    build:\n      context: ${APP_DIR:-./app}\n")
		}), want: []string{"build context is set from ${APP_DIR:-./app}"}},

		// --- one bad build does not stop the others -------------------------
		{name: "bad-build-beside-good-one", args: []string{"apply"}, setup: func(e *env) {
			e.twoBuilds("../outside/app")
			e.write(filepath.Join(e.outside, "app", "Dockerfile"), basicDockerfile)
		}, want: []string{"outside the project directory"}, changed: webMigrated},

		// --- files composeopt did not write, references that dangle ----------
		{name: "hand-written-optimized", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile.optimized", "FROM python:3.12-slim\n# tuned by hand\nCMD [\"python\", \"app.py\"]\n")
		}), want: []string{"app/Dockerfile.optimized", "not written by composeopt", "--force"}},
		{name: "hand-written-optimized-force", args: []string{"apply", "--force"}, setup: withBasic(func(e *env) {
			e.write("app/Dockerfile.optimized", "FROM python:3.12-slim\n# tuned by hand\n")
		}), changed: migrated},
		{name: "generated-file-deleted-check", args: []string{"check"}, setup: withBasic(func(e *env) {
			e.composeopt("apply")
			os.Remove(e.path("app/Dockerfile.optimized"))
		}), exit: 1, want: []string{"app"}},
		{name: "generated-file-deleted-plan", args: []string{"plan", "--exit-code"}, setup: withBasic(func(e *env) {
			e.composeopt("apply")
			os.Remove(e.path("app/Dockerfile.optimized"))
		}), exit: 2, want: []string{"app/Dockerfile.optimized"}},
		{name: "original-changed-after-apply-check", args: []string{"check"}, setup: withBasic(func(e *env) {
			e.composeopt("apply")
			e.write("app/Dockerfile", basicDockerfile+"ENV EXTRA=1\n")
		}), exit: 1, want: []string{"app"}},
		{name: "journal-dir-link-to-outside", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.link(e.outside, ".composeopt")
		}), exit: 1, want: []string{".composeopt"}},
		// .composeopt/ is composeopt's own directory: a FIFO left there does
		// not hang apply, which removes the directory when it ends.
		{name: "lock-file-is-fifo", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.fifo(".composeopt/lock")
		}), changed: append([]string{".composeopt", ".composeopt/lock"}, migrated...)},
		{name: "lock-file-link-to-outside", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.link(filepath.Join(e.outside, "created-by-lock"), ".composeopt/lock")
		}), exit: 1, want: []string{".composeopt/lock"}},
		{name: "apply-while-another-holds-the-lock", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.mkdir(".composeopt")
			l, err := lockfile.Acquire(e.path(".composeopt/lock"))
			if err != nil {
				e.t.Fatal(err)
			}
			e.t.Cleanup(func() { l.Release(false) })
		}), exit: 1, want: []string{"locked"}},
		{name: "stale-temp-file-from-killed-run", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/.Dockerfile.optimized.tmp123456", "half-written")
		}), changed: append([]string{"app/.Dockerfile.optimized.tmp123456"}, migrated...)},

		// --- ignore files and secrets -----------------------------------------
		{name: "sibling-inline-build-reads-tests", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("compose.yaml", basicCompose+"  tests:\n    build:\n      context: ./app\n      dockerfile_inline: |\n        FROM python:3.12-slim\n        COPY . .\n        RUN python -m pytest tests\n")
			e.write("app/tests/test_app.py", "def test_ok():\n    assert True\n")
		}), changed: []string{"compose.yaml", "app/Dockerfile.optimized", "app/Dockerfile.optimized.dockerignore"}},
		{name: "private-key-beside-copy-all", args: []string{"apply"}, setup: withBasic(func(e *env) {
			e.write("app/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n")
		}), changed: migrated, check: func(e *env, _ string) []string {
			data, _ := os.ReadFile(e.path("app/.dockerignore"))
			if !strings.Contains(string(data), "id_rsa") {
				return []string{fmt.Sprintf("the ignore file does not leave id_rsa out:\n%s", data)}
			}
			return nil
		}},
		{name: "copy-names-private-key", setup: withBasic(func(e *env) {
			e.write("app/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n")
			e.write("app/Dockerfile", strings.Replace(basicDockerfile, "COPY . .", "COPY id_rsa /root/.ssh/id_rsa\nCOPY . .", 1))
		}), want: []string{"id_rsa", "needs a human"}},

		// --- git states for apply --branch ----------------------------------
		{name: "branch-dirty-target", args: []string{"apply", "--branch", "migrate"}, setup: withBasic(func(e *env) {
			e.gitRepo()
			e.write("compose.yaml", basicCompose+"# local edit\n")
		}), exit: 1, want: []string{"compose.yaml", "uncommitted"}},
		{name: "branch-detached-head", args: []string{"apply", "--branch", "migrate"}, setup: withBasic(func(e *env) {
			e.gitRepo()
			e.git("checkout", "-q", "--detach")
		}), changed: migrated},
		{name: "branch-no-commits", args: []string{"apply", "--branch", "migrate"}, setup: withBasic(func(e *env) {
			e.git("init", "-q", "-b", "main")
		}), exit: 1, want: []string{"commit"}},
		{name: "branch-exists", args: []string{"apply", "--branch", "main"}, setup: withBasic(func(e *env) { e.gitRepo() }),
			exit: 1, want: []string{"main", "exists"}},
		{name: "branch-failing-hook", args: []string{"apply", "--branch", "migrate"}, setup: withBasic(func(e *env) {
			e.gitRepo()
			e.write(".git/hooks/pre-commit", "#!/bin/sh\necho hook says no >&2\nexit 1\n")
			os.Chmod(e.path(".git/hooks/pre-commit"), 0o755)
		}), exit: 1, want: []string{"hook says no"}, changed: migrated},
		{name: "not-a-git-repo-branch", args: []string{"apply", "--branch", "migrate"}, setup: withBasic(func(e *env) {}),
			exit: 1, want: []string{"git"}},
	}
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("duplicate case %s", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runCase(t, c)
		})
	}
}

// yamlBomb is the "billion laughs" document: nine levels of aliases that
// expand to 10^9 nodes.
const yamlBomb = `services:
  x:
    image: alpine
x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
x-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
x-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
x-e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
x-f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
x-g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
x-h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
x-i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
`
