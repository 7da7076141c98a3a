package hostile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// checkOptimizedParses parses app/Dockerfile.optimized with BuildKit's
// parser and requires the parser directives of the original (syntax and
// escape character) to still be recognised in it.
func checkOptimizedParses(e *env, _ string) []string {
	orig, err := os.ReadFile(e.path("app/Dockerfile"))
	if err != nil {
		return []string{err.Error()}
	}
	opt, err := os.ReadFile(e.path("app/Dockerfile.optimized"))
	if err != nil {
		return []string{err.Error()}
	}
	ro, err := parser.Parse(bytes.NewReader(orig))
	if err != nil {
		return []string{"the original does not parse: " + err.Error()}
	}
	rn, err := parser.Parse(bytes.NewReader(opt))
	if err != nil {
		return []string{fmt.Sprintf("the optimized Dockerfile does not parse: %v\n%s", err, opt)}
	}
	var problems []string
	if ro.EscapeToken != rn.EscapeToken {
		problems = append(problems, fmt.Sprintf("escape character %q became %q in the optimized file:\n%s", ro.EscapeToken, rn.EscapeToken, opt))
	}
	so, _, _, _ := parser.DetectSyntax(orig)
	sn, _, _, _ := parser.DetectSyntax(opt)
	if so != sn {
		problems = append(problems, fmt.Sprintf("syntax directive %q became %q in the optimized file:\n%s", so, sn, opt))
	}
	return problems
}

// makeImmutable makes a project directory unwritable, even for root (with
// chattr +i), and undoes it when the test ends.
func makeImmutable(e *env, p string) {
	e.t.Helper()
	full := e.path(p)
	if os.Geteuid() != 0 {
		if err := os.Chmod(full, 0o555); err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { os.Chmod(full, 0o755) })
		return
	}
	if out, err := exec.Command("chattr", "+i", full).CombinedOutput(); err != nil {
		e.t.Skipf("cannot make %s read-only as root on this file system (chattr +i: %v %s)", p, err, out)
	}
	e.t.Cleanup(func() { exec.Command("chattr", "-i", full).Run() })
}
