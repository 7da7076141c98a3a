package facts

import "testing"

func TestDevRuntimePackage(t *testing.T) {
	for _, c := range []struct {
		fam          Family
		release, pkg string
		want         string
		ok           bool
	}{
		{Alpine, "", "libffi-dev", "libffi", true},
		{Alpine, "", "postgresql-dev", "libpq", true},
		{Debian, "bookworm", "libffi-dev", "libffi8", true},
		{Debian, "bullseye", "libffi-dev", "libffi7", true},
		{Debian, "", "libpq-dev", "libpq5", true},
		{Debian, "bookworm", "libssl-dev", "libssl3", true},
		{Debian, "", "libssl-dev", "", false}, // release-dependent name
		{Debian, "jammy", "libpq-dev", "", false},
		{Alpine, "", "libfoo-dev", "", false},
		{Distroless, "", "libffi-dev", "", false},
	} {
		got, ok := DevRuntimePackage(c.fam, c.release, c.pkg)
		if got != c.want || ok != c.ok {
			t.Errorf("DevRuntimePackage(%s, %q, %s) = %q, %v; want %q, %v", c.fam, c.release, c.pkg, got, ok, c.want, c.ok)
		}
	}
	for tag, want := range map[string]string{"3.12-slim-bookworm": "bookworm", "1.22-alpine": "", "22.04-jammy": "jammy", "3.11": ""} {
		if got := DebianRelease(tag); got != want {
			t.Errorf("DebianRelease(%q) = %q, want %q", tag, got, want)
		}
	}
	if !IsBuildTool("build-base") || IsBuildTool("curl") || !IsDevPackage("openssl-devel") || IsDevPackage("libpq5") {
		t.Error("IsBuildTool/IsDevPackage misclassify")
	}
}

func TestImageShipsLibraryOf(t *testing.T) {
	for _, c := range []struct {
		ref, dev string
		want     bool
	}{
		{"python:3.11-slim-bookworm", "libffi-dev", true},
		{"python:3.12-alpine", "openssl-dev", true},
		{"docker.io/library/python:3.11", "libsqlite3-dev", true},
		{"python:3.11-slim", "libpq-dev", false},       // not a CPython build dependency
		{"myorg/python:3.11", "libffi-dev", false},     // not the official image
		{"node:20-bookworm-slim", "libffi-dev", false}, // ships no such promise
	} {
		if got := ImageShipsLibraryOf(ParseImage(c.ref), c.dev); got != c.want {
			t.Errorf("ImageShipsLibraryOf(%s, %s) = %v, want %v", c.ref, c.dev, got, c.want)
		}
	}
}
