package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// A vertex reported over several status lines (started, then completed) is
// one step; cached steps are counted, not listed; short ones are summed.
func TestReport(t *testing.T) {
	in := `{"vertexes":[{"digest":"sha256:a","name":"[1/3] FROM docker.io/library/node:18","started":"2026-12-02T10:00:00Z","completed":"2026-12-02T10:00:00.01Z","cached":true}]}
not json: buildx may print other lines
{"vertexes":[{"digest":"sha256:b","name":"[2/3] RUN npm ci","started":"2026-12-02T10:00:01Z"}]}
{"vertexes":[{"digest":"sha256:b","name":"[2/3] RUN npm ci","started":"2026-12-02T10:00:01Z","completed":"2026-12-02T10:00:03.5Z"}]}
{"vertexes":[{"digest":"sha256:c","name":"[3/3] COPY . .","started":"2026-12-02T10:00:03.5Z","completed":"2026-12-02T10:00:03.52Z"}]}
{"vertexes":[{"digest":"sha256:d","name":"exporting to image","started":"2026-12-02T10:00:03.6Z","completed":"2026-12-02T10:00:04Z"}]}
`
	steps, order, bad := read(bufio.NewScanner(strings.NewReader(in)))
	if len(steps) != 4 || bad != 1 {
		t.Fatalf("read %d steps and %d bad lines, want 4 and 1", len(steps), bad)
	}
	got := report(steps, order, 50*time.Millisecond)
	for _, want := range []string{
		"   2.50s  +  1.00s  [2/3] RUN npm ci\n",
		"   0.40s  +  3.60s  exporting to image\n",
		"   0.02s  (1 steps under 50ms)\n",
		"   4.00s  wall, first start to last completion; 3 steps ran, 1 cached\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "FROM docker.io") {
		t.Errorf("report lists a cached step:\n%s", got)
	}
}
