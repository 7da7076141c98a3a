//go:build !unix

package safefstest

import "testing"

// Mkfifo skips the test: this system has no named pipes in its file system.
func Mkfifo(t testing.TB, path string) {
	t.Helper()
	t.Skipf("%s: named pipes need a Unix system", path)
}
