package report

import (
	"regexp"
	"strings"
)

// Mask replaces a redacted value.
const Mask = "[REDACTED]"

// credentialShapes match literal values shaped like well-known credentials.
var credentialShapes = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`),                                   // AWS access key
	regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`),   // GitHub
	regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`),                                      // GitLab
	regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`),                                         // npm
	regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`),                                 // Slack
	regexp.MustCompile(`\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}`),                          // Stripe
	regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}`),                                         // Google API key
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), // JWT
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`),
}

// urlPassword matches the password of a URL's user information.
var urlPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'"]+:)([^/\s@'"]+)(@)`)

// secretAssignment matches NAME=value where NAME denotes a credential; the
// value (a quoted string, or up to white space) is masked.
var secretAssignment = regexp.MustCompile(`(?i)\b([A-Z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)[A-Z0-9_.-]*)(\s*=\s*)("[^"]*"|'[^']*'|[^\s"',;]+)`)

// Redact masks anything in s shaped like a credential: well-known token
// formats, the password of a URL, and the value assigned to a variable
// whose name denotes a credential. Variable names are kept, so a message
// can still say which variable needs attention.
func Redact(s string) string {
	if s == "" {
		return s
	}
	for _, re := range credentialShapes {
		s = re.ReplaceAllString(s, Mask)
	}
	s = urlPassword.ReplaceAllString(s, "${1}"+Mask+"${3}")
	s = secretAssignment.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretAssignment.FindStringSubmatch(m)
		value := sub[3]
		// A reference to another variable or a placeholder is not a value.
		if strings.HasPrefix(value, "$") || value == Mask || strings.Trim(value, `"'`) == "" {
			return m
		}
		return sub[1] + sub[2] + Mask
	})
	return s
}
