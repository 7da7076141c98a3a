package safefs

import (
	"errors"
	"github.com/composeopt/composeopt/migrate/safefs/safefstest"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func setup(t *testing.T) (root *Root, dir, outside string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "project")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{dir, outside, filepath.Join(dir, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(outside, "secret"), "CANARY")
	write(t, filepath.Join(dir, "sub", "ok"), "inside")
	root, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return root, dir, outside
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// escapes links dir's abs, rel and dirlink out of it to outside (an
// absolute link, a relative one, a linked directory), and sub/inner to a
// file inside it.
func escapes(t *testing.T, dir, outside string) {
	t.Helper()
	link(t, filepath.Join(outside, "secret"), filepath.Join(dir, "abs"))
	link(t, "../outside/secret", filepath.Join(dir, "rel"))
	link(t, outside, filepath.Join(dir, "dirlink"))
	link(t, "ok", filepath.Join(dir, "sub", "inner"))
}

func TestReadFileConfined(t *testing.T) {
	root, dir, outside := setup(t)
	escapes(t, dir, outside)
	for _, p := range []string{"abs", "rel", "dirlink/secret", "../outside/secret", "sub/../../outside/secret"} {
		data, err := root.ReadFile(Manifest, filepath.Join(dir, p))
		var oe *OutsideError
		if !errors.As(err, &oe) || !errors.Is(err, ErrOutside) || data != nil {
			t.Errorf("%s: got %q, %v; want an OutsideError", p, data, err)
			continue
		}
		if !strings.Contains(err.Error(), "outside/secret") || !strings.Contains(err.Error(), "--allow-outside "+outside) {
			t.Errorf("%s: message does not name the path and the way out: %v", p, err)
		}
	}
	if data, err := root.ReadFile(Manifest, filepath.Join(dir, "sub", "inner")); err != nil || string(data) != "inside" {
		t.Errorf("a link inside the project: %q, %v", data, err)
	}
	allowed, err := New(dir, outside)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := allowed.ReadFile(Manifest, filepath.Join(dir, "abs")); err != nil || string(data) != "CANARY" {
		t.Errorf("--allow-outside: %q, %v", data, err)
	}
}

func TestReadFileSpecial(t *testing.T) {
	root, dir, _ := setup(t)
	fifo := filepath.Join(dir, "fifo")
	safefstest.Mkfifo(t, fifo)
	done := make(chan error, 1)
	go func() {
		_, err := root.ReadFile(Ignore, fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO hangs")
	}
	if _, err := root.ReadFile(Ignore, dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("directory: %v", err)
	}
	// /dev/zero through an allowed directory: refused as a device, not read.
	dev, err := New(dir, "/dev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.ReadFile(Manifest, "/dev/zero"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := root.ReadFile(Manifest, filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if data, err := root.ReadOptional(Manifest, filepath.Join(dir, "missing")); data != nil || err != nil {
		t.Errorf("ReadOptional of a missing file: %q, %v", data, err)
	}
}

func TestReadFileLimit(t *testing.T) {
	root, dir, _ := setup(t)
	big := filepath.Join(dir, "Dockerfile")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(Limits[Dockerfile] + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := root.ReadFile(Dockerfile, big); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized Dockerfile: %v", err)
	}
	if err := os.Truncate(big, Limits[Dockerfile]); err != nil {
		t.Fatal(err)
	}
	if data, err := root.ReadFile(Dockerfile, big); err != nil || int64(len(data)) != Limits[Dockerfile] {
		t.Errorf("Dockerfile at the limit: %d bytes, %v", len(data), err)
	}
}

func TestCheckOutput(t *testing.T) {
	root, dir, outside := setup(t)
	link(t, filepath.Join(outside, "secret"), filepath.Join(dir, "Dockerfile.optimized"))
	link(t, "sub/ok", filepath.Join(dir, "inner.optimized"))
	link(t, filepath.Join(outside, "missing"), filepath.Join(dir, "dangling.optimized"))
	link(t, outside, filepath.Join(dir, "out"))
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Dockerfile.optimized", "inner.optimized", "dangling.optimized", "adir", "out/new", "../outside/new"} {
		if err := root.CheckOutput(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s: output accepted", p)
		}
		if data, err := root.ReadOutput(Dockerfile, filepath.Join(dir, p)); err == nil || strings.Contains(string(data), "CANARY") {
			t.Errorf("%s: read %q, %v", p, data, err)
		}
	}
	for _, p := range []string{"sub/ok", "new", "newdir/new"} {
		if err := root.CheckOutput(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// ReadOutput reads a regular output inside the project, and a missing
	// one (or one in a missing directory) is nil, no error.
	if data, err := root.ReadOutput(Dockerfile, filepath.Join(dir, "sub", "ok")); err != nil || string(data) != "inside" {
		t.Errorf("sub/ok: read %q, %v", data, err)
	}
	for _, p := range []string{"new", "newdir/new"} {
		if data, err := root.ReadOutput(Dockerfile, filepath.Join(dir, p)); err != nil || data != nil {
			t.Errorf("%s: read %q, %v", p, data, err)
		}
	}
	safefstest.Mkfifo(t, filepath.Join(dir, "fifo.optimized"))
	if _, err := root.ReadOutput(Dockerfile, filepath.Join(dir, "fifo.optimized")); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a FIFO output: %v", err)
	}
}

func TestResolveDanglingLink(t *testing.T) {
	_, dir, outside := setup(t)
	link(t, filepath.Join(outside, "nothing-yet"), filepath.Join(dir, "d"))
	got, err := Resolve(filepath.Join(dir, "d", "x"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(outside)
	if !strings.HasPrefix(got, want) {
		t.Errorf("Resolve through a dangling link = %s, want under %s", got, want)
	}
}

// TestReadWalked: a file read through an os.Root of the project is
// confined as ReadFile's are (links out of it, "..", a linked directory),
// and a FIFO, a directory and an oversized file are refused the same way.
func TestReadWalked(t *testing.T) {
	_, dir, outside := setup(t)
	escapes(t, dir, outside)
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, p := range []string{"abs", "rel", "dirlink/secret", "../outside/secret", "sub/../../outside/secret"} {
		if data, err := ReadWalked(Manifest, r, filepath.FromSlash(p)); err == nil || data != nil {
			t.Errorf("%s: got %q, %v; want it refused", p, data, err)
		}
	}
	for _, p := range []string{"sub/ok", "sub/inner"} {
		if data, err := ReadWalked(Manifest, r, filepath.FromSlash(p)); err != nil || string(data) != "inside" {
			t.Errorf("%s: %q, %v", p, data, err)
		}
	}
	safefstest.Mkfifo(t, filepath.Join(dir, "fifo"))
	done := make(chan error, 1)
	go func() {
		_, err := ReadWalked(Ignore, r, "fifo")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO hangs")
	}
	if _, err := ReadWalked(Ignore, r, "sub"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("directory: %v", err)
	}
	big := filepath.Join(dir, "big")
	write(t, big, "")
	if err := os.Truncate(big, Limits[Source]+1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadWalked(Source, r, "big"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized source: %v", err)
	}
}

// TestRootResolveMatchesResolve: resolving from the project directory's
// known real path gives Resolve's answer (and error) for links inside and
// out, dangling links, missing directories, a file used as a directory,
// paths outside the project, and a project directory reached through a
// link of its own.
func TestRootResolveMatchesResolve(t *testing.T) {
	_, dir, outside := setup(t)
	escapes(t, dir, outside)
	link(t, filepath.Join(outside, "nothing-yet"), filepath.Join(dir, "dangling"))
	link(t, "sub", filepath.Join(dir, "sublink"))
	via := filepath.Join(filepath.Dir(dir), "via")
	link(t, dir, via)
	paths := []string{
		".", "sub", "sub/ok", "sub/inner", "sub/missing", "missing/a/b",
		"abs", "rel", "dirlink", "dirlink/secret", "dirlink/missing/x",
		"dangling", "dangling/x", "sublink/ok", "sublink/inner",
		"sub/ok/extra", "sub/ok/extra/more", "../outside/secret", "..",
	}
	for _, base := range []string{dir, via} {
		root, err := New(base)
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range paths {
			p := filepath.Join(base, filepath.FromSlash(rel))
			want, werr := Resolve(p)
			got, gerr := root.Resolve(p)
			if got != want || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Errorf("%s: Root.Resolve = %q, %v; Resolve = %q, %v", p, got, gerr, want, werr)
			}
		}
	}
}
