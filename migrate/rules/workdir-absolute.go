package rules

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// The hygiene rules fix small things BuildKit's checks and the Dockerfile
// reference warn about. None of them changes what the image contains.

// MaintainerLabel replaces the deprecated MAINTAINER instruction.
var MaintainerLabel = &Rule{
	ID:    "maintainer-label",
	Title: "Replace MAINTAINER with the OCI authors label",
	Rationale: "MAINTAINER has been deprecated for years and BuildKit's checks flag it " +
		"(MaintainerDeprecated). The standard org.opencontainers.image.authors label carries the " +
		"same contact and is what registries and scanners read. When the stage already has that " +
		"label, the MAINTAINER line is simply dropped.",
	Run: runMaintainerLabel,
}

// InstructionCasing makes instruction keywords consistently upper or lower case.
var InstructionCasing = &Rule{
	ID:    "instruction-casing",
	Title: "Write instruction keywords in one case",
	Rationale: "Keywords are case-insensitive to the builder, but a file that mixes `RUN` and `run` " +
		"(or writes `Run`) is harder to scan and fails BuildKit's ConsistentInstructionCasing check. " +
		"The case used by most instructions wins, upper case on a tie, as in BuildKit's own check.",
	Run: runInstructionCasing,
}

// FromAsCasing matches the AS of `FROM image AS name` to the FROM keyword.
var FromAsCasing = &Rule{
	ID:    "from-as-casing",
	Title: "Write AS in the same case as FROM",
	Rationale: "`FROM image as name` under an upper-case FROM (or the reverse) fails BuildKit's " +
		"FromAsCasing check; the builder itself accepts both. Only the AS keyword changes, to the " +
		"case of its FROM.",
	Run: runFromAsCasing,
}

// WorkdirAbsolute resolves relative WORKDIR paths.
var WorkdirAbsolute = &Rule{
	ID:    "workdir-absolute",
	Title: "Use absolute WORKDIR paths",
	Rationale: "A relative WORKDIR is resolved against whatever directory the base image happens to " +
		"set, so the files of the build silently move when the base image changes; BuildKit flags " +
		"it (WorkdirRelativePath). The path is resolved against the stage's previous WORKDIR, or the " +
		"base image's when it is known (/ for the common OS and language images, /go for golang). " +
		"Otherwise, and for paths with variables, the relative WORKDIR is reported, not guessed.",
	Run: runWorkdirAbsolute,
}

// AddToCopy turns ADD of plain local files into COPY.
var AddToCopy = &Rule{
	ID:    "add-to-copy",
	Title: "Use COPY instead of ADD for local files",
	Rationale: "ADD also downloads URLs, clones git repositories and unpacks local tar archives, so a " +
		"reader has to check its sources to know what it does; COPY only copies. ADD stays where " +
		"that extra behaviour is used: remote sources, archives (by file name, and by content when the " +
		"file is in the build context), paths with variables, and flags COPY does not share.",
	Run: runAddToCopy,
}

// BaseImageTag reports base images that float with :latest.
var BaseImageTag = &Rule{
	ID:    "base-image-tag",
	Title: "Report base images without a version tag",
	Rationale: "An untagged base image means :latest, which moves whenever the publisher pushes, so " +
		"the same Dockerfile builds a different image from one day to the next and can break without " +
		"any change in the project. The right version cannot be chosen offline, so the rule only " +
		"reports these FROM lines; stage references and scratch are not images and are skipped.",
	Run: runBaseImageTag,
}

// hygieneKeyword returns the keyword written at the start of the
// instruction's first line, its offset, and the line without its ending.
func hygieneKeyword(f *dockerfile.File, in *dockerfile.Instruction) (kw string, at int, line string) {
	line = strings.TrimRight(f.Lines[in.Start-1], "\r\n")
	at = len(line) - len(strings.TrimLeft(line, " \t"))
	end := at
	for end < len(line) && (line[end] >= 'a' && line[end] <= 'z' || line[end] >= 'A' && line[end] <= 'Z') {
		end++
	}
	kw = line[at:end]
	if !strings.EqualFold(kw, in.Cmd) {
		return "", 0, line
	}
	return kw, at, line
}

// hygieneSetKeyword records an edit that writes the instruction's keyword as kw.
func hygieneSetKeyword(p *Pass, in *dockerfile.Instruction, kw string) {
	old, at, line := hygieneKeyword(p.File, in)
	if old == "" || old == kw {
		return
	}
	p.Edit(dockerfile.Edit{Start: in.Start, End: in.Start, Text: line[:at] + kw + line[at+len(old):] + "\n"})
}

// hygieneCasedLike returns word in the case of model (upper, lower, or the
// file's majority when model mixes cases).
func hygieneCasedLike(f *dockerfile.File, model, word string) string {
	switch model {
	case strings.ToUpper(model):
		return strings.ToUpper(word)
	case strings.ToLower(model):
		return strings.ToLower(word)
	}
	return keyword(f, word)
}

func runMaintainerLabel(p *Pass) {
	for _, st := range p.File.Stages {
		if devReason(p, st) != "" {
			continue
		}
		hasLabel := false
		for _, in := range st.Find("label") {
			for i := 0; i < len(in.Args); i += 3 {
				if strings.Trim(in.Args[i], `"`) == "org.opencontainers.image.authors" {
					hasLabel = true
				}
			}
		}
		for _, in := range st.Find("maintainer") {
			if hasLabel {
				p.Edit(dockerfile.Replace(in, ""))
				continue
			}
			v := strings.TrimSpace(strings.Join(in.Args, " "))
			if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
				v = v[1 : len(v)-1]
			}
			esc := string(p.File.Escape)
			v = strings.NewReplacer(esc, esc+esc, `"`, esc+`"`, "$", esc+"$").Replace(v)
			kw, _, _ := hygieneKeyword(p.File, in)
			p.Edit(dockerfile.Replace(in, hygieneCasedLike(p.File, kw, "label")+` org.opencontainers.image.authors="`+v+`"`+"\n"))
		}
	}
}

// hygieneMajorityLower tells the casing most keywords use, counted as
// BuildKit does: only self-consistent keywords of the stages, upper case
// on a tie.
func hygieneMajorityLower(f *dockerfile.File) bool {
	upper, lower := 0, 0
	for _, in := range f.Instructions {
		kw, _, _ := hygieneKeyword(f, in)
		if in.Stage < 0 || kw == "" {
			continue
		}
		switch kw {
		case strings.ToLower(kw):
			lower++
		case strings.ToUpper(kw):
			upper++
		}
	}
	return lower > upper
}

func runInstructionCasing(p *Pass) {
	lower := hygieneMajorityLower(p.File)
	for _, in := range p.File.Instructions {
		kw, _, _ := hygieneKeyword(p.File, in)
		if kw == "" {
			continue
		}
		if lower {
			hygieneSetKeyword(p, in, strings.ToLower(kw))
		} else {
			hygieneSetKeyword(p, in, strings.ToUpper(kw))
		}
	}
}

func runFromAsCasing(p *Pass) {
	for _, st := range p.File.Stages {
		in := st.From
		if len(in.Args) != 3 || in.Start != in.End {
			continue
		}
		kw, _, line := hygieneKeyword(p.File, in)
		want := hygieneCasedLike(p.File, kw, "as")
		if kw == "" || kw != strings.ToUpper(kw) && kw != strings.ToLower(kw) || in.Args[1] == want {
			continue
		}
		re := regexp.MustCompile(`^(.*\s)(?i:as)(\s+` + regexp.QuoteMeta(in.Args[2]) + `\s*)$`)
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		p.Edit(dockerfile.Edit{Start: in.Start, End: in.Start, Text: m[1] + want + m[2] + "\n"})
	}
}

// hygieneImageWorkdir are images known to set no WORKDIR (so it is /), or
// the one they set.
var hygieneImageWorkdir = map[string]string{
	"alpine": "/", "debian": "/", "ubuntu": "/", "busybox": "/", "node": "/", "python": "/",
	"fedora": "/", "centos": "/", "rockylinux": "/", "almalinux": "/", "amazonlinux": "/",
	"golang": "/go",
}

func runWorkdirAbsolute(p *Pass) {
	type state struct {
		dir   string
		known bool
	}
	final := map[int]state{}
	for _, st := range p.File.Stages {
		var cur state
		switch {
		case st.BaseStage != nil:
			cur = final[st.BaseStage.Index]
		default:
			info := facts.Stage(p.File, st, pythonenvArgs(p, st))
			if info.Family == facts.Windows {
				final[st.Index] = state{}
				continue
			}
			if info.Family == facts.Scratch {
				cur = state{"/", true}
			} else if d, ok := hygieneImageWorkdir[info.Image.Name]; ok && !strings.Contains(info.Image.Ref, "$") {
				cur = state{d, true}
			}
		}
		dev := devReason(p, st) != ""
		reported := false
		for _, in := range st.Find("workdir") {
			if len(in.Args) != 1 {
				cur = state{}
				continue
			}
			v := in.Args[0]
			plain := !strings.ContainsAny(v, "$\"'` \t\\")
			switch {
			case strings.HasPrefix(v, "/"):
				cur = state{path.Clean(v), plain}
			case !plain:
				cur = state{}
			case cur.known:
				abs := path.Join(cur.dir, v)
				if !dev {
					p.Edit(dockerfile.Replace(in, hygieneKeywordOf(p.File, in)+" "+abs+"\n"))
				}
				cur = state{abs, true}
			default:
				if !dev && !reported {
					p.NeedsHuman(in.Start, "WORKDIR %s is relative and the base image's working directory is not known offline; write the absolute path", v)
					reported = true
				}
			}
		}
		final[st.Index] = cur
	}
}

// hygieneKeywordOf returns the instruction's keyword as written when it
// is upper or lower case, else in the file's casing.
func hygieneKeywordOf(f *dockerfile.File, in *dockerfile.Instruction) string {
	kw, _, _ := hygieneKeyword(f, in)
	return hygieneCasedLike(f, kw, in.Cmd)
}

// hygieneArchiveExt matches names ADD would unpack (tar archives, possibly
// compressed) or may unpack (compressed files, which ADD inspects).
var hygieneArchiveExt = regexp.MustCompile(`(?i)\.(tar|tgz|taz|tbz2?|tb2|txz|tzst|tlz|tar\.[a-z0-9]+|gz|bz2|xz|zst|lz|lz4|lzma|z)$`)

func runAddToCopy(p *Pass) {
	for _, st := range p.File.Stages {
		if devReason(p, st) != "" {
			continue
		}
		for _, in := range st.Find("add") {
			if len(in.Heredocs) > 0 || len(in.Args) < 2 || !hygieneCopyFlags(in.Flags) {
				continue
			}
			local := true
			for _, src := range in.Args[:len(in.Args)-1] {
				if !hygienePlainLocal(p.Facts.Context, src) {
					local = false
					break
				}
			}
			if !local {
				continue
			}
			kw, _, _ := hygieneKeyword(p.File, in)
			if kw == "" {
				continue
			}
			hygieneSetKeyword(p, in, hygieneCasedLike(p.File, kw, "copy"))
		}
	}
}

// hygieneCopyFlags reports whether every flag means the same to COPY.
func hygieneCopyFlags(flags []string) bool {
	for _, f := range flags {
		name, _, _ := strings.Cut(f, "=")
		if name != "--chown" && name != "--link" {
			return false
		}
	}
	return true
}

// hygienePlainLocal reports whether an ADD source is a local path that ADD
// copies exactly as COPY would: no URL or git reference, no variable, and
// no archive by name or (when the context is known) by content.
func hygienePlainLocal(context, src string) bool {
	if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") || strings.HasPrefix(src, "github.com/") || strings.Contains(src, ".git#") || strings.HasSuffix(src, ".git") ||
		strings.Contains(src, "$") || hygieneArchiveExt.MatchString(strings.TrimRight(src, "/")) {
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
		if hygieneIsArchive(m) {
			return false
		}
	}
	return true
}

// hygieneIsArchive sniffs a file for the formats ADD unpacks.
func hygieneIsArchive(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return true // cannot tell: keep ADD
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	head = head[:n]
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0x00}, {0x28, 0xb5, 0x2f, 0xfd}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}

func runBaseImageTag(p *Pass) {
	for _, st := range p.File.Stages {
		if st.BaseStage != nil || strings.EqualFold(st.Base, "scratch") {
			continue
		}
		ref := facts.ExpandArgs(st.Base, facts.GlobalArgs(p.File, pythonenvArgs(p, st)))
		if ref == "" || strings.Contains(ref, "$") || strings.EqualFold(ref, "scratch") {
			continue
		}
		im := facts.ParseImage(ref)
		switch {
		case im.Digest != "":
		case im.Tag == "":
			p.NeedsHuman(st.From.Start, "base image %s has no tag, so it means :latest and changes whenever it is republished; pin a version tag (or a digest)", ref)
		case strings.EqualFold(im.Tag, "latest"):
			p.NeedsHuman(st.From.Start, "base image %s uses :latest, which changes whenever it is republished; pin a version tag (or a digest)", ref)
		}
	}
}
