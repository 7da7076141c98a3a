package facts

import "testing"

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
