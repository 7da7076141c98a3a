package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// Secrets reports credentials that would be baked into the image.
var Secrets = &Rule{
	ID:    "secrets",
	Title: "Report secrets passed through ARG, ENV or copied files",
	Doc: "ENV values are stored in the image configuration and build-arg values in its " +
		"history, where anyone who can pull the image can read them; a copied key or .env file " +
		"stays in its layer even if a later step deletes it. The rule reports ARG and ENV names " +
		"that look like credentials, literal values shaped like well-known tokens, and copied " +
		"credential files, naming only the variable or file, never the value. Nothing is changed: " +
		"the fix (a `RUN --mount=type=secret` for build steps, runtime secrets from the " +
		"orchestrator) needs the project's own secret plumbing.",
	After: []string{"multi-stage"},
	Run:   runSecrets,
}

// secretsValues match literal values shaped like well-known credentials.
// hints are literals one of which every match contains (the regexps are
// case-sensitive): a value holding none is not run through the regexp,
// which most RUN lines of a plan are not.
var secretsValues = []struct {
	kind  string
	hints []string
	re    *regexp.Regexp
}{
	{"an AWS access key", []string{"AKIA", "ASIA"}, regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", []string{"gh", "github_pat_"}, regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b`)},
	{"a GitLab token", []string{"glpat-"}, regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}\b`)},
	{"an npm token", []string{"npm_"}, regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"a Slack token", []string{"xox"}, regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}\b`)},
	{"a Stripe key", []string{"k_live_"}, regexp.MustCompile(`\b[sr]k_live_[A-Za-z0-9]{16,}\b`)},
	{"a Google API key", []string{"AIza"}, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"a private key", []string{"PRIVATE KEY-----"}, regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"a JSON web token", []string{"eyJ"}, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{"a URL with a password", []string{"://"}, regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'"]+:[^/\s@'"$]+@`)},
}

func runSecrets(p *Pass) {
	for _, in := range p.File.Instructions {
		switch in.Cmd {
		case "arg":
			for _, a := range in.Args {
				name, value, hasValue := strings.Cut(a, "=")
				if facts.SecretName(name) {
					p.NeedsHuman(in.Start, "ARG %s looks like a secret: build-arg values are kept in the image history; pass it with `RUN --mount=type=secret,id=%s` (docker build --secret / compose build secrets) and give the container its runtime value from the orchestrator", name, strings.ToLower(name))
				} else if hasValue {
					secretsValue(p, in, "ARG", name, value)
				}
			}
		case "env":
			for i := 0; i+1 < len(in.Args); i += 3 {
				name, value := in.Args[i], in.Args[i+1]
				if facts.SecretName(name) {
					p.NeedsHuman(in.Start, "ENV %s looks like a secret: ENV values are stored in the image configuration for anyone who can pull it; set it at run time from the orchestrator (compose `secrets:` or environment), and use `RUN --mount=type=secret,id=%s` if a build step needs it", name, strings.ToLower(name))
				} else {
					secretsValue(p, in, "ENV", name, value)
				}
			}
		case "run":
			if src, ok := in.ShellForm(); ok {
				secretsValue(p, in, "RUN", "", src)
			} else if in.JSON {
				secretsValue(p, in, "RUN", "", strings.Join(in.Args, " "))
			}
		case "copy", "add":
			if len(in.Flag("from")) > 0 || len(in.Args) < 2 || len(in.Heredocs) > 0 {
				continue
			}
			for _, src := range in.Args[:len(in.Args)-1] {
				if kind := secretsFile(p.Facts.Context, src); kind != "" {
					p.NeedsHuman(in.Start, "%s copies %s (%s) into a layer, where it stays even if deleted later; mount it for the step that needs it with `RUN --mount=type=secret,id=...` and provide runtime credentials from the orchestrator", strings.ToUpper(in.Cmd), src, kind)
				}
			}
		}
	}
}

// secretsValue reports a literal value shaped like a known credential,
// without printing it.
func secretsValue(p *Pass, in *dockerfile.Instruction, what, name, value string) {
	for _, v := range secretsValues {
		if !slices.ContainsFunc(v.hints, func(h string) bool { return strings.Contains(value, h) }) {
			continue
		}
		if v.re.MatchString(value) {
			where := what
			if name != "" {
				where += " " + name
			}
			p.NeedsHuman(in.Start, "%s contains what looks like %s: a literal credential is readable in the image; remove it, rotate it, and pass it with `RUN --mount=type=secret` at build time or from the orchestrator at run time", where, v.kind)
			return
		}
	}
}

// secretsFile names the kind of credential file a COPY/ADD source is ("" if
// none), as facts.CredentialKind decides it for the ignore file too: from
// the source's name and, when the context holds that file, its content (a
// .pem with no private key, an .npmrc whose token is an ${ENV} reference
// are no secrets).
func secretsFile(context, src string) string {
	rel := path.Clean("/" + strings.ReplaceAll(src, `\`, "/"))
	var read func() ([]byte, bool)
	if context != "" && !strings.ContainsAny(rel, "*?[") {
		read = func() ([]byte, bool) {
			data, err := safefs.ReadIn(safefs.Manifest, context, rel)
			return data, err == nil
		}
	}
	kind, _ := facts.CredentialKind(strings.TrimPrefix(rel, "/"), read)
	return kind
}
