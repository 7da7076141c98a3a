package facts

import (
	"math/rand"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"V": "20", "EMPTY": "", "IMG": "node"}
	for _, c := range []struct{ in, want string }{
		{"node:$V", "node:20"},
		{"node:${V}-alpine", "node:20-alpine"},
		{"${IMG}:${V}", "node:20"},
		{"node:$UNKNOWN", "node:$UNKNOWN"}, // not known: kept, the caller sees '$'
		{"node:${UNKNOWN}", "node:${UNKNOWN}"},
		{"node:$EMPTY", "node:$EMPTY"},     // an ARG without a value is not known
		{"node:${UNKNOWN:-18}", "node:18"}, // BuildKit's default for an unset name
		{"node:${EMPTY:-18}", "node:18"},
		{"node:${V:-18}", "node:20"},
		{"${V%0}", "2"},              // BuildKit's pattern removal
		{`"$V"`, `"20"`},             // quotes stay as written
		{`\$V`, `\$V`},               // an escaped '$' is not a reference
		{"${unclosed", "${unclosed"}, // rejected by the lexer: as written
		{"plain", "plain"},
	} {
		if got := Expand(c.in, vars); got != c.want {
			t.Errorf("Expand(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for in, want := range map[string]string{`"8080"`: "8080", `'$V'`: "$V", `"$V"`: "20", `a\ b`: "a b"} {
		if got := expandValue(in, vars); got != want {
			t.Errorf("expandValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExpandPlainAgreesWithLexer: the words expandPlain takes are
// expanded as BuildKit's lexer expands them, with quotes removed or not,
// and it takes the plain references it should.
func TestExpandPlainAgreesWithLexer(t *testing.T) {
	vars := map[string]string{"V": "20", "EMPTY": "", "IMG": "node", "A_1": "x y", "_u": "$V", "B": "}{"}
	words := []string{
		"node:$V", "node:${V}-alpine", "${IMG}:${V}", "$IMG$V", "${IMG}${V}", "a$A_1.b", "$A_1_", "${_u}", "$_u$B", "$B$",
		"$", "$$", "${", "${}", "${V", "$1", "$-", "x$", "${V:-1}", "${V}}", "$V}", "{$V}", "$EMPTY", "${EMPTY}", "$UNKNOWN",
		"$V-$IMG", "$V.$V", "$V/$V", "a${A_1}b", "${V}${", "é$V", "$Vé", "${Vé}", "$V\t", "$V $IMG",
		`"/opt/venv/bin:$PATH"`, `"$V"IMG`, `"${V}"`, `a"b"c`, `"$UNKNOWN"$V`, `"`, `"$V`, `'$V'`, "`$V`", `"${V"}`,
	}
	taken := 0
	for _, w := range words {
		for _, quotes := range []bool{false, true} {
			got, ok := expandPlain(w, vars, quotes)
			if !ok {
				continue
			}
			taken++
			if want := expandLex(w, vars, quotes); got != want {
				t.Errorf("%q (quotes %v): expandPlain %q, lexer %q", w, quotes, got, want)
			}
		}
	}
	if taken < 40 {
		t.Errorf("expandPlain took only %d of the words", taken)
	}
	// And random words over the characters that matter.
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"$", "{", "}", "V", "IMG", "A_1", "_u", "B", "EMPTY", "1", "a", "-", ":", "é", " ", "%", "#", `"`, "`", "UNKNOWN", "PATH"}
	for range 20000 {
		var b strings.Builder
		for n := rng.Intn(8); n >= 0; n-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		w := b.String()
		for _, quotes := range []bool{false, true} {
			got, ok := expandPlain(w, vars, quotes)
			if !ok {
				continue
			}
			if want := expandLex(w, vars, quotes); got != want {
				t.Fatalf("%q (quotes %v): expandPlain %q, lexer %q", w, quotes, got, want)
			}
		}
	}
}
