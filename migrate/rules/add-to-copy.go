package rules

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// AddToCopy turns ADD of plain local files into COPY.
var AddToCopy = &Rule{
	ID:    "add-to-copy",
	Title: "Use COPY instead of ADD for local files",
	Doc: "ADD also downloads URLs, clones git repositories and unpacks local tar archives, so a " +
		"reader has to check its sources to know what it does; COPY only copies. ADD stays where " +
		"that extra behaviour is used: remote sources, archives (by file name, and by content when the " +
		"file is in the build context), paths with variables, and flags COPY does not share.",
	Run: runAddToCopy,
}

// addToCopyArchiveExt matches names ADD would unpack (tar archives, possibly
// compressed) or may unpack (compressed files, which ADD inspects).
var addToCopyArchiveExt = regexp.MustCompile(`(?i)\.(tar|tgz|taz|tbz2?|tb2|txz|tzst|tlz|tar\.[a-z0-9]+|gz|bz2|xz|zst|lz|lz4|lzma|z)$`)

func runAddToCopy(p *Pass) {
	for _, st := range p.File.Stages {
		if p.Stage(st).DevelopmentReason() != "" {
			continue
		}
		for _, in := range st.Find("add") {
			if len(in.Heredocs) > 0 || len(in.Args) < 2 || !addToCopyCopyFlags(in.Flags) {
				continue
			}
			local := true
			for _, src := range in.Args[:len(in.Args)-1] {
				if !addToCopyPlainLocal(p.Facts.Context, src) {
					local = false
					break
				}
			}
			if !local {
				continue
			}
			kw, _, _ := p.File.WrittenKeyword(in)
			if kw == "" {
				continue
			}
			if e, ok := p.File.SetKeyword(in, p.File.CasedLike(kw, "copy")); ok {
				p.Edit(e)
			}
		}
	}
}

// addToCopyCopyFlags reports whether every flag means the same to COPY.
func addToCopyCopyFlags(flags []string) bool {
	for _, f := range flags {
		name, _, _ := strings.Cut(f, "=")
		if name != "--chown" && name != "--link" {
			return false
		}
	}
	return true
}

// addToCopyPlainLocal reports whether an ADD source is a local path that ADD
// copies exactly as COPY would: no URL or git reference, no variable, and
// no archive by name or (when the context is known) by content.
func addToCopyPlainLocal(context, src string) bool {
	if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") || strings.HasPrefix(src, "github.com/") || strings.Contains(src, ".git#") || strings.HasSuffix(src, ".git") ||
		strings.Contains(src, "$") || addToCopyArchiveExt.MatchString(strings.TrimRight(src, "/")) {
		return false
	}
	if context == "" {
		return true
	}
	rel := path.Clean("/" + filepath.ToSlash(src))
	full := filepath.Join(context, filepath.FromSlash(rel))
	matches := []string{full}
	if strings.ContainsAny(src, "*?[") {
		var err error
		if matches, err = filepath.Glob(full); err != nil {
			return false
		}
	}
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil || fi.IsDir() {
			continue // a missing source fails the build either way
		}
		if addToCopyIsArchive(context, m) {
			return false
		}
	}
	return true
}

// addToCopyIsArchive sniffs a file for the formats ADD unpacks.
func addToCopyIsArchive(context, name string) bool {
	head, err := safefs.ReadHeadIn(context, name, 512)
	if err != nil {
		return true // cannot tell (or a link out, a FIFO, a device): keep ADD
	}
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0x00}, {0x28, 0xb5, 0x2f, 0xfd}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}
