package rules

import (
	"path"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// nonrootCopyChown turns `COPY src DIR` followed by `RUN chown -R U DIR`
// into `COPY --chown=U src DIR`: the RUN copies every file of DIR into a
// second layer only to change its owner, which doubles what the image
// stores and ships. It applies only when the COPY is the first thing put
// into DIR (no earlier COPY/ADD into it, no earlier RUN working there), so
// that the chown covered nothing else. It returns whether it edited.
func nonrootCopyChown(p *Pass, st *dockerfile.Stage) bool {
	ins := st.Instructions
	edited := false
	sf := p.Stage(st)
	for i := 1; i < len(ins); i++ {
		run, cp := ins[i], ins[i-1]
		if run.Cmd != "run" || (cp.Cmd != "copy" && cp.Cmd != "add") || len(cp.Args) < 2 || len(run.Flags) > 0 {
			continue
		}
		if cp.HasFlag("chown") {
			continue
		}
		owner, target, ok := nonrootChownR(run)
		if !ok || strings.Contains(owner, "$") {
			continue
		}
		dest := facts.JoinPath(sf.Workdir(cp), cp.Args[len(cp.Args)-1])
		if facts.JoinPath(sf.Workdir(run), target) != dest || dest == "/" || facts.ClassifyPath(dest) == facts.PathSystem {
			continue
		}
		// Nothing before the COPY may have put files into dest.
		clean := true
		for j := 0; j < i-1 && clean; j++ {
			switch o := ins[j]; o.Cmd {
			case "copy", "add":
				if len(o.Args) >= 2 && facts.Under(facts.JoinPath(sf.Workdir(o), o.Args[len(o.Args)-1]), dest) {
					clean = false
				}
			case "run":
				if facts.Under(sf.Workdir(o), dest) || strings.Contains(strings.Join(o.Args, " "), dest) {
					clean = false
				}
			}
		}
		if !clean {
			continue
		}
		e, ok := nonrootAddChown(p.File, cp, owner)
		if !ok {
			continue
		}
		p.Edit(e)
		p.Edit(dockerfile.Replace(run, ""))
		p.Report(cp.Start, "COPY --chown=%s replaces RUN chown -R %s %s, which stored every copied file a second time only to change its owner", owner, owner, target)
		edited = true
	}
	return edited
}

// nonrootChownR reads a RUN that is exactly `chown -R OWNER DIR` (one
// command, literal words) and returns OWNER and DIR.
func nonrootChownR(run *dockerfile.Instruction) (owner, dir string, ok bool) {
	sc, ok := run.Script()
	if !ok || len(sc.Commands) != 1 || !sc.Commands[0].Literal {
		return "", "", false
	}
	w := sc.Commands[0].Words
	if len(w) != 4 || w[0] != "chown" || (w[1] != "-R" && w[1] != "--recursive") {
		return "", "", false
	}
	if strings.HasPrefix(w[2], "-") || strings.HasPrefix(w[3], "-") {
		return "", "", false
	}
	return w[2], path.Clean(w[3]), true
}

// nonrootAddChown adds --chown right after the COPY/ADD keyword.
func nonrootAddChown(f *dockerfile.File, in *dockerfile.Instruction, chown string) (dockerfile.Edit, bool) {
	first := strings.TrimRight(f.Lines[in.Start-1], "\r\n")
	trimmed := strings.TrimLeft(first, " \t")
	indent := first[:len(first)-len(trimmed)]
	if len(trimmed) < len(in.Cmd) || !strings.EqualFold(trimmed[:len(in.Cmd)], in.Cmd) {
		return dockerfile.Edit{}, false
	}
	kw, rest := trimmed[:len(in.Cmd)], trimmed[len(in.Cmd):]
	text := indent + kw + " --chown=" + chown + rest + "\n"
	return dockerfile.Edit{Start: in.Start, End: in.Start, Text: text}, true
}
