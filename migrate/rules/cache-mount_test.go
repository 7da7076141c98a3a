package rules

import (
	"strings"
	"testing"
)

// TestCachemountToolWords: each tool's prefilter word is one its detect
// pattern spells out, so skipping RUNs without it skips no install.
func TestCachemountToolWords(t *testing.T) {
	for _, tool := range cachemountTools {
		if tool.word == "" || !strings.Contains(tool.detect.String(), tool.word) {
			t.Errorf("%s: word %q is not spelled out in %s", tool.name, tool.word, tool.detect)
		}
	}
}
