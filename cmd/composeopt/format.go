package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/changeset"
	"github.com/composeopt/composeopt/migrate/report"
	"github.com/composeopt/composeopt/migrate/verify"
)

// Output formats of plan.
const (
	formatDiff     = "diff"
	formatMarkdown = "markdown"
	formatJSON     = "json"
	formatText     = "text"
	formatSARIF    = "sarif"
)

// checkFormat validates a --format value against the allowed ones.
func checkFormat(value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	list := ""
	for i, a := range allowed {
		switch {
		case i == 0:
		case i == len(allowed)-1:
			list += " or "
		default:
			list += ", "
		}
		list += a
	}
	return fmt.Errorf("--format: invalid value %q (want %s)", value, list)
}

// readVerify reads --verify-json results ("" = none, "-" = standard input).
func readVerify(path string, stdin io.Reader) ([]verify.Result, error) {
	if path == "" {
		return nil, nil
	}
	res, err := report.ReadVerifyFile(path, stdin)
	if err != nil {
		return nil, fmt.Errorf("--verify-json: %w", err)
	}
	return res, nil
}

// writePlanFormat writes the plan as Markdown or JSON.
func writePlanFormat(w io.Writer, plan *migrate.Plan, format string, measured []verify.Result) error {
	doc := report.New(plan)
	var out []byte
	switch format {
	case formatMarkdown:
		out = doc.Markdown(report.MarkdownOptions{Verify: measured})
	case formatJSON:
		var err error
		if out, err = doc.JSON(); err != nil {
			return fmt.Errorf("encoding the plan as JSON: %w", err)
		}
	default:
		return fmt.Errorf("unknown format %q", format)
	}
	_, err := w.Write(out)
	return err
}

// checkWritableDir fails early when path's directory does not exist, so
// that a typo in an output file is reported before anything is changed.
func checkWritableDir(flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s %s: %s is not a directory", flag, path, dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s %s: is a directory", flag, path)
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so a reader never sees a half-written file.
func writeFileAtomic(path string, data []byte) error {
	return changeset.WriteFile(path, data, 0o644)
}

// versionString is what `composeopt --version` prints: the module version
// from the build info ("(devel)" for a build from a source tree), with the
// VCS revision and a "modified" mark when the build info records them.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (" + rev
		if modified == "true" {
			v += ", modified"
		}
		v += ")"
	}
	return v + ", " + bi.GoVersion
}

// version is composeopt's module version, "" when unknown.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return ""
}
