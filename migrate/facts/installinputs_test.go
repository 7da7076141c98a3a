package facts

import (
	"slices"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// TestInstallInputs: the files each installer reads, and why an install
// needs more than its manifests.
func TestInstallInputs(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		cmd    string
		files2 []string // want Files
		dirs   []string
		why    string // substring of Why ("" = none)
		notOK  bool   // not an install
	}{
		{name: "npm ci", files: map[string]string{"package.json": `{}`, "package-lock.json": `{}`, ".npmrc": "x=1\n"},
			cmd: "npm ci --omit=dev", files2: []string{"package.json", "package-lock.json", ".npmrc"}},
		{name: "npm install a package", files: map[string]string{"package.json": `{}`}, cmd: "npm install express", why: "installs named packages"},
		{name: "npm prepare script", files: map[string]string{"package.json": `{"scripts": {"prepare": "husky"}}`}, cmd: "npm ci", why: "prepare script"},
		{name: "npm workspaces", files: map[string]string{"package.json": `{"workspaces": ["a"]}`}, cmd: "npm ci", why: "workspaces"},
		{name: "npm link dep", files: map[string]string{"package.json": `{"dependencies": {"a": "link:../a"}}`}, cmd: "npm ci", why: "from the context"},
		{name: "npm run is no install", files: map[string]string{"package.json": `{}`}, cmd: "npm run build", notOK: true},
		{name: "yarn berry", files: map[string]string{"package.json": `{}`, ".yarnrc.yml": "nodeLinker: node-modules\n"}, cmd: "yarn install", why: "Yarn 2+"},
		{name: "pnpm", files: map[string]string{"package.json": `{}`, "pnpm-lock.yaml": ""}, cmd: "pnpm install --frozen-lockfile", files2: []string{"package.json", "pnpm-lock.yaml"}},
		{name: "pip -r", files: map[string]string{"requirements.txt": "flask\n./lib\n", "lib/pyproject.toml": "[project]\nname='lib'\n"},
			cmd: "python -m pip install --no-cache-dir -r requirements.txt", files2: []string{"requirements.txt"}, dirs: []string{"lib"}},
		{name: "pip -e .", files: map[string]string{"pyproject.toml": ""}, cmd: "pip install -e .", why: "pip installs more"},
		{name: "pip nested requirements", files: map[string]string{"requirements.txt": "-r base.txt\n"}, cmd: "pip install -r requirements.txt", why: "names something other"},
		{name: "pip local package reaching out", files: map[string]string{"requirements.txt": "./lib\n", "lib/setup.py": "open('../README')\n"}, cmd: "pip install -r requirements.txt", why: "names something other"},
		{name: "poetry no-root", files: map[string]string{"pyproject.toml": "", "poetry.lock": ""}, cmd: "poetry install --no-root --only main", files2: []string{"pyproject.toml", "poetry.lock"}},
		{name: "poetry root", files: map[string]string{"pyproject.toml": "", "poetry.lock": ""}, cmd: "poetry install", why: "installs the project itself"},
		{name: "go mod download", files: map[string]string{"go.mod": "module m\n", "go.sum": ""}, cmd: "go mod download", files2: []string{"go.mod", "go.sum"}},
		{name: "go local replace", files: map[string]string{"go.mod": "module m\nreplace x => ./x\n"}, cmd: "go mod download", why: "local directory"},
		{name: "go vendor", files: map[string]string{"go.mod": "module m\n", "vendor/modules.txt": ""}, cmd: "go mod download", why: "vendors"},
		{name: "go build is no install", files: map[string]string{"go.mod": "module m\n"}, cmd: "go build ./...", notOK: true},
		{name: "bundle", files: map[string]string{"Gemfile": "gem 'rails'\n", "Gemfile.lock": ""}, cmd: "bundle install --jobs 4", files2: []string{"Gemfile", "Gemfile.lock"}},
		{name: "bundle gemspec", files: map[string]string{"Gemfile": "source 'x'\ngemspec\n"}, cmd: "bundle install", why: "gemspec or path"},
		{name: "composer scripts off", files: map[string]string{"composer.json": `{"scripts": {"post-install-cmd": ["x"]}}`, "composer.lock": "{}"},
			cmd: "composer install --no-scripts --no-dev", files2: []string{"composer.json", "composer.lock"}},
		{name: "composer classmap", files: map[string]string{"composer.json": `{"autoload": {"classmap": ["src/"]}}`}, cmd: "composer install", why: "classmap"},
		{name: "composer path repository", files: map[string]string{"composer.json": `{"repositories": [{"type": "path", "url": "pkg/*"}]}`}, cmd: "composer install --no-scripts", why: "path repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Gather(writeFiles(t, c.files), nil)
			if err != nil {
				t.Fatal(err)
			}
			sc, ok := dockerfile.ParseScript(c.cmd)
			if !ok || len(sc.Commands) != 1 {
				t.Fatalf("cannot parse %q", c.cmd)
			}
			in, ok := InstallInputs(b, sc.Commands[0])
			if ok == c.notOK {
				t.Fatalf("ok = %v, want %v (%+v)", ok, !c.notOK, in)
			}
			if c.notOK {
				return
			}
			if c.why == "" && in.Why != "" || !strings.Contains(in.Why, c.why) {
				t.Errorf("Why = %q, want %q", in.Why, c.why)
			}
			if c.why == "" && (!slices.Equal(in.Files, c.files2) || !slices.Equal(in.Dirs, c.dirs)) {
				t.Errorf("Files, Dirs = %q, %q; want %q, %q", in.Files, in.Dirs, c.files2, c.dirs)
			}
		})
	}
}

// TestReadsNoContext: distribution package installs and cache removals
// read nothing of the context; a local package file or a path does.
func TestReadsNoContext(t *testing.T) {
	for src, want := range map[string]bool{
		"apt-get install -y --no-install-recommends gcc": true,
		"apk add --no-cache libpq":                       true,
		"rm -rf /var/lib/apt/lists/*":                    true,
		"apt-get install -y ./tool.deb":                  false,
		"dnf install -y $PKGS":                           false,
		"rm -rf /app/build":                              false,
		"rm -rf /var/cache/../../app":                    false,
		"pip install -r requirements.txt":                false,
	} {
		sc, ok := dockerfile.ParseScript(src)
		if !ok || len(sc.Commands) != 1 {
			t.Fatalf("cannot parse %q", src)
		}
		if got := ReadsNoContext(sc.Commands[0]); got != want {
			t.Errorf("ReadsNoContext(%q) = %v, want %v", src, got, want)
		}
	}
}
