package compose

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// DockerfileVar says how to point a build whose `dockerfile:` is a variable
// at the optimized Dockerfile.
type DockerfileVar struct {
	// Name is the variable.
	Name string
	// EnvFile is the absolute path of the env file whose line sets the
	// variable; the edit appends ".optimized" to that value. When empty, the
	// variable is not set anywhere and the edit appends ".optimized" to the
	// default written in the compose file (${VAR:-default}).
	EnvFile string
}

// varRefRe matches a value that is exactly one variable reference:
// $VAR, ${VAR}, ${VAR:-default} or ${VAR-default}.
var varRefRe = regexp.MustCompile(`^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^${}]*))?\})$`)

// parseVarRef splits a whole-value variable reference.
func parseVarRef(v string) (name, def string, hasDefault, ok bool) {
	m := varRefRe.FindStringSubmatch(v)
	if m == nil {
		return "", "", false, false
	}
	if m[1] != "" {
		return m[1], "", false, true
	}
	return m[2], m[4], m[3] != "", true
}

// varEnv is what the load knows about where variables come from.
type varEnv struct {
	// envFiles are the env files compose-go read, in order (later wins).
	envFiles []string
	// texts are the compose files the project reads.
	texts map[string][]byte
}

// classifyDockerfileVar decides, for a `dockerfile:` value written with a
// variable, whether composeopt can point it at the optimized file, and how.
// It returns the edit to make, or the reason a human must do it.
func classifyDockerfileVar(raw string, env *varEnv) (*DockerfileVar, string) {
	handEdit := "; point it at the optimized file by hand"
	name, _, hasDefault, ok := parseVarRef(raw)
	if !ok || env == nil {
		return nil, fmt.Sprintf("dockerfile: is set from %s%s", raw, handEdit)
	}
	if _, set := os.LookupEnv(name); set {
		return nil, fmt.Sprintf("dockerfile: is set from %s, which comes from the shell environment%s", raw, handEdit)
	}
	file := ""
	for _, f := range env.envFiles {
		data, err := safefs.ReadRegular(safefs.EnvFile, f)
		if err != nil {
			continue
		}
		if vars, err := dotenv.UnmarshalBytesWithLookup(data, func(string) (string, bool) { return "", false }); err == nil {
			if _, set := vars[name]; set {
				file = f
			}
		}
	}
	if file == "" && !hasDefault {
		return nil, fmt.Sprintf("dockerfile: is set from %s, which is not set%s", raw, handEdit)
	}
	if file != "" {
		// The value is edited where it is defined: nothing else may read it.
		uses := 0
		var where []string
		for path, text := range env.texts {
			if n := countVarUses(text, name); n > 0 {
				uses += n
				where = append(where, filepath.Base(path))
			}
		}
		for _, f := range env.envFiles {
			if data, err := safefs.ReadRegular(safefs.EnvFile, f); err == nil && countVarUses(data, name) > 0 {
				uses++
				where = append(where, filepath.Base(f))
			}
		}
		if uses > 1 {
			return nil, fmt.Sprintf("dockerfile: is set from %s, which is also used elsewhere (%s)%s", raw, strings.Join(where, ", "), handEdit)
		}
	}
	return &DockerfileVar{Name: name, EnvFile: file}, ""
}

// countVarUses counts the references to variable name in text.
func countVarUses(text []byte, name string) int {
	re := regexp.MustCompile(`\$(?:\{` + regexp.QuoteMeta(name) + `[}:?+-]|` + regexp.QuoteMeta(name) + `(?:[^A-Za-z0-9_]|$))`)
	n := 0
	for _, loc := range re.FindAllIndex(text, -1) {
		if loc[0] > 0 && text[loc[0]-1] == '$' {
			continue // $$ escapes a dollar in compose files
		}
		n++
	}
	return n
}

var envLineRe = regexp.MustCompile(`^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*`)

// appendToEnvValue returns src with suffix appended to the value of the
// last line that sets name, keeping quotes, comments and line endings.
// The result is checked with compose-go's own env file parser: only name
// changes, to its old value followed by suffix.
func appendToEnvValue(path string, src []byte, name, suffix string) ([]byte, error) {
	at := -1
	for off := 0; off < len(src); {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += off
		}
		line := src[off:end]
		if m := envLineRe.FindSubmatchIndex(line); m != nil && string(line[m[2]:m[3]]) == name {
			if pos, ok := envValueEnd(line[m[1]:]); ok {
				at = off + m[1] + pos
			} else {
				at = -2
			}
		}
		off = end + 1
	}
	switch at {
	case -1:
		return nil, fmt.Errorf("%s: no line sets %s", path, name)
	case -2:
		return nil, fmt.Errorf("%s: the value of %s spans lines or is not closed; edit it by hand", path, name)
	}
	out := append(append(append([]byte(nil), src[:at]...), suffix...), src[at:]...)
	lookup := func(string) (string, bool) { return "", false }
	before, err := dotenv.UnmarshalBytesWithLookup(src, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	after, err := dotenv.UnmarshalBytesWithLookup(out, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: the edited file does not parse: %w", path, err)
	}
	if len(before) != len(after) || after[name] != before[name]+suffix {
		return nil, fmt.Errorf("%s: appending %s to %s does not change only its value", path, suffix, name)
	}
	for k, v := range before {
		if k != name && after[k] != v {
			return nil, fmt.Errorf("%s: appending %s to %s changes %s", path, suffix, name, k)
		}
	}
	return out, nil
}

// envValueEnd returns where the value at the start of rest ends (before a
// closing quote, a comment or trailing blanks).
func envValueEnd(rest []byte) (int, bool) {
	rest = bytes.TrimSuffix(rest, []byte("\r"))
	if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
		q := rest[0]
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\\' && q == '"' {
				i++
				continue
			}
			if rest[i] == q {
				return i, true
			}
		}
		return 0, false
	}
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		if rest[i] == '#' && (i == 0 || rest[i-1] == ' ' || rest[i-1] == '\t') {
			end = i
			break
		}
	}
	for end > 0 && (rest[end-1] == ' ' || rest[end-1] == '\t') {
		end--
	}
	if end == 0 {
		return 0, false
	}
	return end, true
}

// appendToDefault returns the raw compose value ${VAR:-default} with suffix
// appended to its default.
func appendToDefault(raw, suffix string) (string, error) {
	name, def, hasDefault, ok := parseVarRef(raw)
	if !ok || !hasDefault {
		return "", errors.New("not a ${VAR:-default} value")
	}
	op := ":-"
	if !strings.Contains(raw, ":-") {
		op = "-"
	}
	return "${" + name + op + def + suffix + "}", nil
}
