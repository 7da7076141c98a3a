//go:build unix

package safefstest

import (
	"syscall"
	"testing"
)

// Mkfifo makes a named pipe at path, failing the test when it cannot.
func Mkfifo(t testing.TB, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
