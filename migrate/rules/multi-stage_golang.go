package rules

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// splitGoCaches are the module and build caches of the go command.
var splitGoCaches = []string{"/go/pkg/mod", "/root/.cache/go-build"}

// splitGoDistroless is the runtime for a static binary that needs nothing else.
const splitGoDistroless = "gcr.io/distroless/static-debian12:nonroot"

// splitGoDataDirs are context directories Go services conventionally read
// at run time; the runtime stage gets them when the original copied the
// whole context.
var splitGoDataDirs = []string{"templates", "static", "public", "assets", "web", "views", "migrations", "locales", "i18n", "config", "configs", "conf"}

// splitGoSourceNames are COPY sources that only the compiler reads.
var splitGoSourceNames = map[string]bool{".": true, "go.mod": true, "go.sum": true, "go.work": true, "go.work.sum": true, "cmd": true, "internal": true, "pkg": true, "vendor": true}

func splitGoClassify(c dockerfile.Command) splitKind {
	switch c.Name() {
	case "go":
		if len(c.Words) < 2 {
			return splitOther
		}
		switch c.Words[1] {
		case "mod", "get", "download", "work":
			return splitDeps
		case "build", "install", "generate", "test", "vet", "run":
			return splitBuild
		case "env", "version", "clean":
			return splitNeutral
		}
	case "make", "mage", "task", "goreleaser", "templ", "swag", "sqlc", "buf", "protoc":
		return splitBuild
	}
	return splitNeutralOr(c, splitOther)
}

func splitGo(c *splitCtx) *splitOut {
	p := c.p
	line := c.st.From.Start
	if c.info.Image.Base() != "golang" {
		p.Report(line, "no split: only official golang images are split")
		return nil
	}
	firstB, lastB := c.span(func(it *splitItem) bool { return it.kind == splitDeps || it.kind == splitBuild })
	if firstB < 0 {
		return nil
	}
	if it := c.otherBetween(firstB, lastB); it != nil {
		p.NeedsHuman(it.in.Start, "no split: this RUN sits between the Go build steps; it cannot be placed in the builder or the runtime safely")
		return nil
	}
	bin, ok := splitGoBinary(c)
	if !ok {
		p.NeedsHuman(line, "no split: the program the container starts is not an output of a `go build -o` or `go install` the split can follow")
		return nil
	}
	cgo, why := splitGoCgo(c)
	prebuiltStd := splitGoPrebuiltStd(c.info.Image.Tag)
	keepCgo := false
	if !cgo && prebuiltStd && !splitGoCgoSet(c) {
		// Measured with the Go 1.19 image: a small HTTP service builds cold
		// in 5 s as the original does, in 39 s with CGO_ENABLED=0 and in
		// 185 s with -trimpath, because both recompile the standard library
		// the image ships prebuilt.
		cgo, keepCgo = true, true
		why = "cgo is kept on as the original builds: this Go release's image ships the standard library prebuilt with cgo, and CGO_ENABLED=0 would recompile much of it on every cold build"
	}
	builder := c.stageName("builder")

	// What the runtime needs besides the binary decides the image.
	needsShell := false
	for i, it := range c.items {
		outside := i < firstB || i > lastB
		switch {
		case it.kind == splitOther && outside, it.kind == splitTool:
			needsShell = true
		case it.in.Cmd == "user", it.in.Cmd == "volume", it.in.Cmd == "shell", it.in.Cmd == "onbuild":
			needsShell = true
		case (it.in.Cmd == "cmd" || it.in.Cmd == "entrypoint") && !it.in.JSON:
			needsShell = true
		case it.in.Cmd == "healthcheck" && !it.in.JSON && !strings.EqualFold(strings.Join(it.in.Args, " "), "NONE"):
			needsShell = true
		case it.kind == splitPkgs || len(it.install) > 0:
			for _, spec := range it.install {
				n := splitPkgName(spec)
				if !facts.IsBuildTool(n) && !facts.IsDevPackage(n) && n != "ca-certificates" && n != "tzdata" {
					needsShell = true
				}
			}
		}
	}
	image, choice := "", ""
	switch {
	case !cgo && !needsShell:
		image, c.rtFamily, c.rtRelease = splitGoDistroless, facts.Distroless, ""
		choice = "distroless static (static binary, nothing else needed at run time; it includes CA certificates and tzdata and runs as nonroot)"
	case c.info.Family == facts.Alpine:
		v := "3.20"
		if m := regexp.MustCompile(`alpine(\d+\.\d+)`).FindStringSubmatch(c.info.Image.Tag); m != nil {
			v = m[1]
		}
		image, c.rtFamily, c.rtRelease = "alpine:"+v, facts.Alpine, ""
		choice = image + " (same family as the builder"
	default:
		rel := c.release
		if rel == "" || facts.DebianRelease(rel) == "" || rel == "jammy" || rel == "noble" || rel == "focal" {
			rel = "bookworm"
		}
		image, c.rtFamily, c.rtRelease = "debian:"+rel+"-slim", facts.Debian, rel
		choice = image + " (same family as the builder"
	}
	if strings.HasSuffix(choice, "builder") {
		if keepCgo {
			choice += "; " + why + ")"
		} else if cgo {
			choice += "; the binary uses cgo: " + why + ")"
		} else {
			choice += "; the runtime runs commands or installs packages)"
		}
	}

	var b stageText
	b.add(c.fromLine(c.st.Base, builder))
	if !cgo && !splitGoCgoSet(c) {
		b.add(c.kw("ENV") + " CGO_ENABLED=0\n")
	}
	var r stageText
	r.add(c.fromLine(image, c.st.Name))
	modCopy := splitGoModCopy(c, firstB)
	for i, it := range c.items[:lastB+1] {
		switch {
		case i == modCopy.at:
			b.add(modCopy.text)
			b.add(it.text)
		case it.kind == splitMeta:
			if splitBuilderMeta(it.in.Cmd) {
				b.add(it.text)
			}
		case it.kind == splitDeps || it.kind == splitBuild:
			text := c.withMounts(it, splitGoCaches...)
			if !prebuiltStd && it.kind == splitBuild {
				text = splitGoTrimpath(it, text)
			}
			b.item(it, text, true)
		case it.kind == splitOther:
			if i < firstB {
				b.add(it.text)
			}
		default:
			b.add(it.text)
		}
	}
	var dropped []string
	for i, it := range c.items {
		switch it.kind {
		case splitMeta, splitCopyFrom, splitOther, splitTool:
			r.item(it, it.text, true)
		case splitPkgs:
			if c.rtFamily != facts.Distroless {
				r.item(it, c.runtimePkgs(it), true)
			}
		case splitCopy:
			text, drop := c.goRuntimeCopy(it)
			dropped = append(dropped, drop...)
			r.item(it, text, true)
		case splitDeps, splitBuild:
			text := ""
			if c.rtFamily != facts.Distroless {
				text = c.runtimePkgs(it)
			}
			if i == lastB {
				if c.rtFamily == facts.Debian && !c.installs("ca-certificates") {
					text += c.kw("COPY") + " --from=" + builder + " /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n"
				}
				text += c.kw("COPY") + " --from=" + builder + " " + bin + " " + bin + "\n"
			}
			r.add(text)
		}
	}
	summary := fmt.Sprintf("split into %s (Go toolchain with module and build caches", builder)
	if modCopy.at >= 0 {
		summary += ", modules downloaded from go.mod before the sources are copied"
	}
	if !cgo {
		summary += ", CGO_ENABLED=0"
	}
	if !prebuiltStd {
		summary += ", -trimpath"
	}
	summary += fmt.Sprintf(") and a runtime on %s with only %s", choice, bin)
	if len(dropped) > 0 {
		summary += "; Go sources are not copied (" + strings.Join(dropped, ", ") + ")"
	}
	if c.info.Image.Digest != "" {
		p.NeedsHuman(line, "the new runtime image %s is not pinned by digest like the original; pin it", image)
	}
	return &splitOut{builders: []string{b.String()}, runtime: r.String(), summary: summary}
}

// splitGoPrebuiltStd reports whether a golang image tag names a release
// (1.19 and older) whose image ships the standard library compiled: a build
// with other settings (CGO_ENABLED=0, -trimpath) recompiles it. Go 1.20
// dropped the prebuilt archives; unknown tags count as newer.
func splitGoPrebuiltStd(tag string) bool {
	m := regexp.MustCompile(`^1\.(\d+)(?:[.-]|$)`).FindStringSubmatch(tag)
	if m == nil {
		return false
	}
	minor, err := strconv.Atoi(m[1])
	return err == nil && minor < 20
}

// splitGoModCopyAt is where the builder downloads the modules before
// copying the sources: at is the index of the COPY of the whole context
// (-1 for none) and text what goes before it.
type splitGoModCopyAt struct {
	at   int
	text string
}

// splitGoModCopy places `go mod download` in a layer of its own, fed by
// go.mod and go.sum only, so a change to the sources reuses it. It does so
// when the builder copies the whole context (COPY . DIR) before the first
// Go step, go.mod is at the context root with no local replace, there is no
// vendor directory or go.work, and the stage does not download already.
func splitGoModCopy(c *splitCtx, firstB int) splitGoModCopyAt {
	none := splitGoModCopyAt{at: -1}
	files, why := facts.GoModInputs(c.p.Facts)
	if why != "" {
		return none
	}
	at := -1
	for i, it := range c.items[:firstB+1] {
		if it.kind == splitDeps {
			return none // the original downloads on its own
		}
		if it.kind == splitCopy && len(it.srcs) == 1 && path.Clean(it.srcs[0]) == "." && len(it.in.Flags) == 0 && it.dest != "" {
			at = i
			break
		}
	}
	if at < 0 {
		return none
	}
	args := c.items[at].in.Args
	dest := dockerfile.DirDest(args[len(args)-1])
	text := c.kw("COPY") + " " + strings.Join(files, " ") + " " + dest + "\n" +
		c.run(c.mountFlags(splitGoCaches[0]), "go", "mod", "download")
	return splitGoModCopyAt{at: at, text: text}
}

// mountFlags are cache-mount flags for targets, none when the stage runs
// as a non-root user (the mounts would belong to root).
func (c *splitCtx) mountFlags(targets ...string) []string {
	if c.nonRoot {
		return nil
	}
	var out []string
	for _, t := range targets {
		out = append(out, "--mount=type=cache,target="+t)
	}
	return out
}

// splitGoTrimpath adds -trimpath to the go build and go install commands of
// a RUN's text: the binary then holds no builder paths, and its build does
// not depend on where the sources were copied.
func splitGoTrimpath(it *splitItem, text string) string {
	if strings.Contains(text, "-trimpath") {
		return text
	}
	has := false
	for _, cmd := range it.cmds {
		if cmd.Name() == "go" && len(cmd.Words) > 1 && (cmd.Words[1] == "build" || cmd.Words[1] == "install") {
			has = true
		}
	}
	if !has {
		return text
	}
	return regexp.MustCompile(`\bgo (build|install)\b`).ReplaceAllString(text, "go $1 -trimpath")
}

// installs reports whether the stage installs an OS package.
func (c *splitCtx) installs(name string) bool {
	for _, it := range c.items {
		for _, spec := range it.install {
			if splitPkgName(spec) == name {
				return true
			}
		}
	}
	return false
}

// goRuntimeCopy returns what a context COPY becomes in a Go runtime stage:
// Go sources are dropped, the whole context becomes its data directories.
func (c *splitCtx) goRuntimeCopy(it *splitItem) (string, []string) {
	var keep, dropped []string
	whole := false
	for _, src := range it.srcs {
		clean := path.Clean(src)
		switch {
		case clean == ".":
			whole = true
			dropped = append(dropped, src)
		case splitGoSourceNames[path.Base(clean)] || strings.HasSuffix(clean, ".go"):
			dropped = append(dropped, src)
		default:
			keep = append(keep, src)
		}
	}
	if len(dropped) == 0 {
		return it.text, nil
	}
	var out strings.Builder
	dest := it.in.Args[len(it.in.Args)-1]
	if len(keep) > 0 {
		out.WriteString(c.kw(it.in.Cmd) + " " + splitFlags(it.in) + strings.Join(keep, " ") + " " + dest + "\n")
	}
	if whole {
		for _, d := range splitGoDataDirs {
			if !c.p.Facts.Has(d) || splitHasGoFiles(c.p.Facts, d) || c.copied(d) {
				continue
			}
			to := strings.TrimSuffix(dest, "/") + "/" + d
			if dest == "." || dest == "./" {
				to = "./" + d
			}
			out.WriteString(c.kw("COPY") + " " + splitFlags(it.in) + d + " " + to + "\n")
		}
	}
	return out.String(), dropped
}

// copied reports whether a COPY of the stage names src explicitly.
func (c *splitCtx) copied(src string) bool {
	for _, it := range c.items {
		if it.kind == splitCopy {
			for _, s := range it.srcs {
				if path.Clean(s) == src {
					return true
				}
			}
		}
	}
	return false
}

// splitFlags returns an instruction's flags followed by a space ("" when none).
func splitFlags(in *dockerfile.Instruction) string {
	if len(in.Flags) == 0 {
		return ""
	}
	return strings.Join(in.Flags, " ") + " "
}

// splitHasGoFiles reports whether a context directory holds Go sources.
func splitHasGoFiles(b *facts.Build, dir string) bool {
	for f := range b.Files {
		if strings.HasPrefix(f, dir+"/") && strings.HasSuffix(f, ".go") {
			return true
		}
	}
	return false
}

// splitGoCgoSet reports whether the stage already sets CGO_ENABLED.
func splitGoCgoSet(c *splitCtx) bool {
	for _, it := range c.items {
		if strings.Contains(it.text, "CGO_ENABLED=") {
			return true
		}
	}
	return false
}

// splitGoCgo reports whether the binary needs cgo, and why.
func splitGoCgo(c *splitCtx) (bool, string) {
	for _, it := range c.items {
		switch {
		case strings.Contains(it.text, "CGO_ENABLED=0"):
			return false, ""
		case strings.Contains(it.text, "CGO_ENABLED=1"):
			return true, "CGO_ENABLED=1 is set"
		case strings.Contains(it.text, "-linkmode external") || strings.Contains(it.text, "-linkmode=external"):
			return true, "it links externally"
		}
	}
	if c.p.Facts.Context == "" {
		return true, "the build context could not be scanned"
	}
	return c.p.Facts.GoCgo != "", c.p.Facts.GoCgo
}

// splitGoBinary returns the absolute path of the program the container
// starts, when a build step of the stage produces it.
func splitGoBinary(c *splitCtx) (string, bool) {
	entries, ok := c.entryWords()
	if !ok || len(entries) == 0 || len(entries[0]) == 0 {
		return "", false
	}
	prog := entries[0][0]
	wd := "/"
	for _, it := range c.items {
		if it.in.Cmd == "cmd" || it.in.Cmd == "entrypoint" {
			wd = it.workdir
		}
	}
	var outputs, dirs []string
	for _, it := range c.items {
		if it.kind != splitBuild {
			continue
		}
		for _, cmd := range it.cmds {
			if cmd.Name() != "go" || len(cmd.Words) < 2 {
				continue
			}
			switch cmd.Words[1] {
			case "install":
				dirs = append(dirs, "/go/bin")
			case "build":
				out := ""
				for i, w := range cmd.Words {
					if w == "-o" && i+1 < len(cmd.Words) {
						out = cmd.Words[i+1]
					} else if v, ok := strings.CutPrefix(w, "-o="); ok {
						out = v
					}
				}
				switch {
				case out == "":
					dirs = append(dirs, it.workdir)
				case strings.HasSuffix(out, "/"):
					dirs = append(dirs, facts.JoinPath(it.workdir, out))
				default:
					outputs = append(outputs, facts.JoinPath(it.workdir, out))
				}
			}
		}
	}
	var bin string
	switch {
	case strings.Contains(prog, "/"):
		bin = facts.JoinPath(wd, prog)
	default:
		for _, o := range outputs {
			if path.Base(o) == prog {
				return o, true
			}
		}
		for _, d := range dirs {
			if d == "/go/bin" {
				return d + "/" + prog, true
			}
		}
		return "", false
	}
	for _, o := range outputs {
		if o == bin {
			return bin, true
		}
	}
	for _, d := range dirs {
		if path.Dir(bin) == d {
			return bin, true
		}
	}
	return "", false
}
