package rules

import (
	"path"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// WorkdirAbsolute resolves relative WORKDIR paths.
var WorkdirAbsolute = &Rule{
	ID:    "workdir-absolute",
	Title: "Use absolute WORKDIR paths",
	Doc: "A relative WORKDIR is resolved against whatever directory the base image happens to " +
		"set, so the files of the build silently move when the base image changes; BuildKit flags " +
		"it (WorkdirRelativePath). The path is resolved against the stage's previous WORKDIR, or the " +
		"base image's when it is known (/ for the common OS and language images, /go for golang). " +
		"Otherwise, and for paths with variables, the relative WORKDIR is reported, not guessed.",
	Run: runWorkdirAbsolute,
}

// workdirImageDefault are images known to set no WORKDIR (so it is /), or
// the one they set.
var workdirImageDefault = map[string]string{
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
			info := p.Stage(st).Info
			if info.Family == facts.Windows {
				final[st.Index] = state{}
				continue
			}
			if info.Family == facts.Scratch {
				cur = state{"/", true}
			} else if d, ok := workdirImageDefault[info.Image.Name]; ok && !strings.Contains(info.Image.Ref, "$") {
				cur = state{d, true}
			}
		}
		dev := p.Stage(st).DevelopmentReason() != ""
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
					p.Edit(dockerfile.Replace(in, workdirKeyword(p.File, in)+" "+abs+"\n"))
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

// workdirKeyword returns the instruction's keyword as written when it
// is upper or lower case, else in the file's casing.
func workdirKeyword(f *dockerfile.File, in *dockerfile.Instruction) string {
	kw, _, _ := f.WrittenKeyword(in)
	return f.CasedLike(kw, in.Cmd)
}
