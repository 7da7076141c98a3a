package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

// BenchmarkApplyLong runs every rule to its fixed point on one long stage
// where every fourth line installs packages, after a USER whose account a
// RUN may or may not create: the shapes that made rules ask the whole
// chain again at every RUN (prod-deps' later RUNs and earlier COPYs,
// cache-mount's useradd search). ns/op should grow linearly with lines;
// compare lines=4000 with lines=16000.
func BenchmarkApplyLong(b *testing.B) {
	heads := []struct{ name, head string }{
		{"created", "FROM node:20-alpine\nRUN adduser -D -u 1000 app\nUSER app\n"},
		{"not-created", "FROM node:20-alpine\nUSER app\n"},
	}
	fb := &facts.Build{Files: map[string]bool{"package.json": true, "package-lock.json": true}, Services: []facts.Service{{Name: "app"}}}
	for _, h := range heads {
		for _, lines := range []int{4000, 16000} {
			var sb strings.Builder
			sb.WriteString(h.head + "WORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n")
			for i := 0; i < lines/4; i++ {
				fmt.Fprintf(&sb, "ENV STEP_%d=%d\nRUN echo %d > /tmp/step-%d\nCOPY step-%d.js ./\nRUN npm install left-pad-%d && pip install pkg-%d\n", i, i, i, i, i, i, i)
			}
			sb.WriteString("CMD [\"node\", \"server.js\"]\n")
			src := []byte(sb.String())
			b.Run(fmt.Sprintf("%s/lines=%d", h.name, lines), func(b *testing.B) {
				for b.Loop() {
					if _, err := Apply(src, fb, All(), DefaultOptions()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
