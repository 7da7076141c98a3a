package facts

import (
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// Context scan limits: a bounded walk of the build context.
const (
	contextMaxDepth = 4
	contextMaxWalk  = 20000
	credMaxSize     = 256 << 10 // a credential file is small; a larger one is not read
)

// Credential is a file of the build context that holds a credential.
type Credential struct {
	Path string // context-relative, slash-separated
	Kind string // "an SSH private key", ...
	// Registry is true for package-manager configurations (.npmrc,
	// .yarnrc.yml) that a dependency install reads.
	Registry bool
}

// ContextScan is what a bounded walk of the whole context found.
type ContextScan struct {
	// Ecosystems are the ecosystems of every project in the context, at
	// any depth ("node" for a front end inside a Java context; "dotnet").
	Ecosystems []string
	// Credentials are the credential files found.
	Credentials []Credential
}

// ScanContext walks the context (bounded, no symbolic link followed, only
// regular files read) for manifests of every ecosystem and credential files.
func ScanContext(dir string) ContextScan {
	var sc ContextScan
	eco := map[string]bool{}
	walked := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		walked++
		if walked > contextMaxWalk {
			return filepath.SkipAll
		}
		rel := safefs.Rel(dir, p)
		if d.IsDir() {
			if p != dir && (skipDir(d.Name()) || d.Name() == ".git" || d.Name() == "obj" || strings.Count(rel, "/") >= contextMaxDepth) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if e := manifestEcosystem(d.Name()); e != "" {
			eco[e] = true
		}
		read := func() ([]byte, bool) {
			info, err := d.Info()
			if err != nil || info.Size() > credMaxSize {
				return nil, false
			}
			data, err := safefs.ReadRegular(safefs.Manifest, p)
			return data, err == nil
		}
		if kind, registry := CredentialKind(rel, read); kind != "" {
			sc.Credentials = append(sc.Credentials, Credential{Path: rel, Kind: kind, Registry: registry})
		}
		return nil
	})
	for _, e := range []string{"node", "python", "go", "java", "dotnet"} {
		if eco[e] {
			sc.Ecosystems = append(sc.Ecosystems, e)
		}
	}
	return sc
}

// manifestEcosystem names the ecosystem a manifest file belongs to.
func manifestEcosystem(name string) string {
	lower := strings.ToLower(name)
	switch {
	case lower == "package.json":
		return "node"
	case lower == "pyproject.toml" || lower == "setup.py" || lower == "pipfile" || strings.HasPrefix(lower, "requirements") && strings.HasSuffix(lower, ".txt"):
		return "python"
	case lower == "go.mod":
		return "go"
	case lower == "pom.xml" || lower == "build.gradle" || lower == "build.gradle.kts":
		return "java"
	case strings.HasSuffix(lower, ".csproj") || strings.HasSuffix(lower, ".fsproj") || strings.HasSuffix(lower, ".vbproj") || strings.HasSuffix(lower, ".sln"):
		return "dotnet"
	}
	return ""
}

var (
	credPrivateKey = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)
	// credNpmAuth matches a literal registry credential in .npmrc or
	// .yarnrc.yml (an ${ENV} reference is resolved when the tool runs).
	credNpmAuth      = regexp.MustCompile(`(?m)(_authToken|_auth|_password|npmAuthToken|npmAuthIdent)["']?\s*[=:]\s*["']?[^\s$"']`)
	credPassword     = regexp.MustCompile(`(?mi)^\s*password\s*[=:]\s*\S|\bpassword\s+\S`)
	credAWS          = regexp.MustCompile(`(?m)^\s*aws_secret_access_key\s*=\s*\S`)
	credDockerAuth   = regexp.MustCompile(`"auth"\s*:\s*"[^"]+"`)
	credServiceAcct  = regexp.MustCompile(`"(private_key|refresh_token|client_secret)"\s*:\s*"[^"]+"`)
	credEnvTemplates = []string{"example", "sample", "template", "dist", "defaults", "tmpl"}
)

// CredentialKind says whether a file holds a credential and which kind
// ("" when it does not), from its context-relative path and, when read
// returns it, its content. registry is true for a package-manager
// configuration that a dependency install reads (.npmrc, .yarnrc.yml).
// Without content, files whose name alone is not conclusive (.npmrc, a
// .pem that may be a public certificate) are decided by their name.
// This is the one decision used by the ignore file and the secrets rule.
func CredentialKind(rel string, read func() ([]byte, bool)) (kind string, registry bool) {
	rel = strings.ReplaceAll(rel, `\`, "/")
	base := path.Base(strings.TrimRight(rel, "/"))
	lower := strings.ToLower(base)
	content := func(re *regexp.Regexp, byName bool) bool {
		if read == nil {
			return byName
		}
		data, ok := read()
		if !ok {
			return byName
		}
		return re.Match(data)
	}
	dir := path.Dir(rel)
	switch {
	case lower == ".env" || strings.HasPrefix(lower, ".env.") && !envTemplate(lower) ||
		strings.HasSuffix(lower, ".env") && lower != ".env" && !envTemplate(lower):
		return "an environment file", false
	case lower == "id_rsa" || lower == "id_dsa" || lower == "id_ecdsa" || lower == "id_ed25519":
		return "an SSH private key", false
	case strings.HasSuffix(lower, ".pem") || strings.HasSuffix(lower, ".key"):
		if content(credPrivateKey, true) {
			return "a private key", false
		}
	case strings.HasSuffix(lower, ".p12") || strings.HasSuffix(lower, ".pfx"):
		return "a key and certificate bundle", false
	case lower == ".git-credentials":
		return "a credentials file", false
	case lower == ".netrc" || lower == ".pypirc":
		if content(credPassword, true) {
			return "a credentials file with a password", false
		}
	case lower == ".npmrc" || lower == ".yarnrc.yml":
		if content(credNpmAuth, read == nil) {
			return "a package registry configuration with a literal auth token", true
		}
	case lower == "credentials" && (path.Base(dir) == ".aws" || read != nil && content(credAWS, false)):
		return "cloud credentials", false
	case lower == "config.json" && path.Base(dir) == ".docker":
		if content(credDockerAuth, true) {
			return "a Docker registry login", false
		}
	case lower == "credentials.json" || lower == "application_default_credentials.json" ||
		strings.HasSuffix(lower, ".json") && (strings.Contains(lower, "service-account") || strings.Contains(lower, "service_account")):
		if content(credServiceAcct, true) {
			return "cloud credentials", false
		}
	}
	return "", false
}

func envTemplate(name string) bool {
	return slices.ContainsFunc(credEnvTemplates, func(t string) bool { return strings.Contains(name, t) })
}

// InstallReadsRegistryConfig reports whether a RUN command line installs
// Node dependencies, which reads .npmrc / .yarnrc.yml from the directory.
func InstallReadsRegistryConfig(run string) bool {
	for _, w := range []string{"npm ci", "npm install", "npm i ", "yarn", "pnpm install", "pnpm i", "bun install"} {
		if strings.Contains(run, w) {
			return true
		}
	}
	return false
}
