package facts

import (
	"strings"
	"unicode"
)

// secretWords are name parts that denote a credential by themselves.
var secretWords = []string{"PASSWORD", "PASSWD", "PWORD", "PASS", "PWD", "SECRET", "SECRETS", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "AUTH", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY"}

// secretKeyKinds are the words that make a following KEY a credential.
var secretKeyKinds = []string{"API", "PRIVATE", "ACCESS", "SECRET", "SSH", "SIGNING", "ENCRYPTION", "MASTER", "LICENSE", "CLIENT", "APP", "SERVICE", "ACCOUNT", "DEPLOY"}

// secretHarmless are name parts that make the variable a reference to a
// credential or a setting about it, not the credential itself.
var secretHarmless = []string{"FILE", "PATH", "DIR", "URL", "URI", "HOST", "PORT", "USER", "USERNAME", "NAME", "ID", "LENGTH", "LEN", "MIN", "MAX", "TTL", "EXPIRY", "EXPIRES", "TIMEOUT", "ENABLED", "DISABLED", "TYPE", "ALGORITHM", "HEADER", "PUBLIC", "VERSION", "MODE", "METHOD", "PROVIDER", "ENDPOINT", "ISSUER", "AUDIENCE", "REQUIRED", "LOCATION"}

// SecretName reports whether a variable name denotes a credential: the
// one answer the secrets report and the multi-stage split share.
func SecretName(name string) bool {
	parts := secretSplit(name)
	if len(parts) == 0 || len(parts) == 1 && (parts[0] == "PWD" || parts[0] == "PASS") {
		return false // $PWD is the working directory
	}
	for _, w := range parts {
		for _, h := range secretHarmless {
			if w == h {
				return false
			}
		}
	}
	for i, w := range parts {
		for _, s := range secretWords {
			if w == s || len(w) > len(s)+2 && strings.HasSuffix(w, s) && s != "PASS" && s != "PWD" && s != "AUTH" {
				return true
			}
		}
		if w == "KEY" && i > 0 {
			for _, k := range secretKeyKinds {
				if parts[i-1] == k {
					return true
				}
			}
		}
	}
	return false
}

// secretSplit splits a name into upper-case words at _, -, . and
// lower-to-upper case changes ("npmAuthToken" → NPM AUTH TOKEN).
func secretSplit(name string) []string {
	var parts []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.':
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(rs[i-1]):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	return parts
}

// SecretVar returns the first ARG or ENV of the chain whose name denotes a
// credential ("ARG NAME" or "ENV NAME"), with its line; "" when none does.
func (sf *StageFacts) SecretVar() (string, int) {
	for _, in := range sf.Instructions("", nil) {
		switch in.Cmd {
		case "arg":
			for _, a := range in.Args {
				if name, _, _ := strings.Cut(a, "="); SecretName(name) {
					return "ARG " + name, in.Start
				}
			}
		case "env":
			for i := 0; i+1 < len(in.Args); i += 3 {
				if SecretName(in.Args[i]) {
					return "ENV " + in.Args[i], in.Start
				}
			}
		}
	}
	return "", 0
}
