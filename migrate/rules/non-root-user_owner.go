package rules

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// nonrootCopy is a COPY/ADD of application files into a stage, after the
// account exists, that sets no owner of its own.
type nonrootCopy struct {
	i    int // index in the stage's instructions
	in   *dockerfile.Instruction
	dest string // absolute destination
	// context: the sources come from the build context (no --from).
	context bool
	// early: the COPY comes before the account exists, so it cannot give
	// the account its files (it still may fill a directory the account
	// must own).
	early bool
}

// nonrootOwn is who owns what once the stage runs as the account.
type nonrootOwn struct {
	// given are the COPYs (by instruction index) that give their files to
	// the account with --chown: the application writes among them, or may.
	given map[int]bool
	// dirs are the directories the application writes, created and given
	// to the account; deep those whose content the build puts there as
	// root (chowned recursively).
	dirs, deep []string
	// after is the index of the last instruction that puts files into one
	// of dirs as root (-1: none), which the ownership RUN must follow.
	after int
}

// nonrootCodeCopies returns the COPY/ADD instructions of application files
// (system paths stay root's and are left out), those before index from
// marked early.
func nonrootCodeCopies(sf *facts.StageFacts, st *dockerfile.Stage, from int) []nonrootCopy {
	var out []nonrootCopy
	for i, in := range st.Instructions {
		if (in.Cmd != "copy" && in.Cmd != "add") || len(in.Args) < 2 || in.HasFlag("chown") {
			continue
		}
		dest := facts.JoinPath(sf.Workdir(in), in.Args[len(in.Args)-1])
		if facts.ClassifyPath(dest) == facts.PathSystem {
			continue
		}
		out = append(out, nonrootCopy{i: i, in: in, dest: dest, context: !in.HasFlag("from"), early: i < from})
	}
	return out
}

// nonrootOwnership decides what the account owns. The application's code
// stays root's (the account reads it, since COPY keeps the context's
// modes, and cannot change it), and the account owns only the directories
// the application writes (facts.AppWrites). The code is given to the
// account instead, with a finding, when the application writes in the
// directory its code is copied into, when the sources show writes the
// facts cannot place (facts WriteDoubts: a person decides), or when
// context files or a COPY --chmod deny other users read access.
func nonrootOwnership(p *Pass, st *dockerfile.Stage, acct nonrootAccount, copies []nonrootCopy) nonrootOwn {
	var code []nonrootCopy
	for _, c := range copies {
		if !c.early {
			code = append(code, c)
		}
	}
	sf := p.Stage(st)
	label := nonrootLabel(st)
	own := nonrootOwn{after: -1, given: map[int]bool{}}
	var writes []facts.WritePath
	for _, w := range sf.Writes() {
		if len(facts.BindMountsOver(sf, w.Path)) > 0 {
			continue // the host's directory, which the image cannot change
		}
		if facts.ClassifyPath(w.Path) == facts.PathSystem {
			p.Report(st.From.Start, "the application writes %s (%s), a system directory that stays root's; %s cannot write there", w.Path, w.Evidence, acct.user)
			continue
		}
		writes = append(writes, w)
	}
	// The code is given to the account where the application writes in the
	// directory it is copied into,
	covered := map[string]bool{} // writes the reports below already name
	for _, w := range writes {
		for _, c := range code {
			if facts.Under(c.dest, w.Path) && !own.given[c.i] {
				covered[w.Path] = true
				own.given[c.i] = true
				p.Report(c.in.Start, "the application writes in %s (%s), where this %s puts its code, so these files are given to %s. Give the writes a directory of their own and the code can stay root's",
					w.Path, nonrootCloseCall(w.Evidence), strings.ToUpper(c.in.Cmd), acct.user)
			}
		}
	}
	// everywhere when it may write where the sources name no path,
	var extra []string
	if doubts := sf.WriteDoubts(); len(doubts) > 0 && len(code) > len(own.given) && !acct.server {
		var ev []string
		for i, d := range doubts {
			if i == 3 {
				ev = append(ev, "...")
				break
			}
			ev = append(ev, d.Evidence)
		}
		// The directories a framework is known to write, which a build
		// step may create as root: given to the account after every step.
		for _, d := range doubts {
			for _, dir := range d.Dirs {
				abs := path.Join(sf.Workdir(nil), dir)
				if !slices.Contains(own.deep, abs) {
					own.deep = append(own.deep, abs)
					extra = append(extra, abs)
				}
				for i, in := range st.Instructions {
					if in.Cmd == "run" || in.Cmd == "copy" || in.Cmd == "add" {
						own.after = max(own.after, i)
					}
				}
			}
		}
		for _, c := range code {
			own.given[c.i] = true
			// WORKDIR exists before the COPYs, which leave its owner as it
			// is: a file the application creates there needs it too.
			if wd := sf.Workdir(nil); facts.Under(c.dest, wd) && wd != "/" && !slices.Contains(extra, wd) {
				extra = append(extra, wd)
			}
		}
		p.NeedsHuman(code[0].in.Start, "%s may write inside its code where the sources name no fixed path (%s), so its files are given to %s as before. If it writes only in known directories, drop --chown from the COPYs and give %s those directories (mkdir -p and chown in a RUN before USER)",
			label, strings.Join(ev, "; "), acct.user, acct.user)
	}
	// and where a --chmod takes the read bit from others,
	for _, c := range code {
		if mode, hides := nonrootChmodHides(c.in); hides && !own.given[c.i] {
			own.given[c.i] = true
			p.Report(c.in.Start, "--chmod=%s leaves other users no read access, so these files are given to %s", mode, acct.user)
		}
	}
	// and where the context has files only their owner may read.
	var unreadable []nonrootCopy
	for _, c := range code {
		if c.context && !own.given[c.i] {
			unreadable = append(unreadable, c)
		}
	}
	var bad []string
	if len(unreadable) > 0 { // (the context is walked only when copied as root)
		bad = p.Facts.NotReadableByOthers()
	}
	if len(bad) > 0 {
		for _, c := range unreadable {
			own.given[c.i] = true
		}
		p.Report(unreadable[0].in.Start, "context files are not readable by other users (%s) and COPY keeps their modes, so the copied files are given to %s; make them readable (chmod o+r, o+rx for directories) and the code can stay root's",
			strings.Join(bad, ", "), acct.user)
	}
	// The directories it writes: created, given to the account after the
	// last instruction that fills them as root.
	for _, w := range writes {
		deep := false
		for _, c := range copies {
			if own.given[c.i] {
				continue
			}
			if facts.Under(c.dest, w.Path) || facts.Under(w.Path, c.dest) && nonrootPopulates(p, c, w.Path) {
				deep = true
				own.after = max(own.after, c.i)
			}
		}
		for i, in := range st.Instructions {
			if in.Cmd == "run" && strings.Contains(strings.Join(in.Args, " "), w.Path) {
				own.after = max(own.after, i)
			}
		}
		own.dirs = append(own.dirs, w.Path)
		if deep {
			own.deep = append(own.deep, w.Path)
		}
	}
	for _, d := range extra {
		if !slices.Contains(own.dirs, d) {
			own.dirs = append(own.dirs, d)
		}
	}
	var ev []string
	for _, w := range writes {
		if !covered[w.Path] {
			ev = append(ev, w.Path+" ("+nonrootCloseCall(w.Evidence)+")")
		}
	}
	if len(ev) > 0 {
		if len(own.given) == 0 {
			p.Report(st.From.Start, "%s: %s owns only the directories the application writes, %s; its code stays root's, readable but not writable by %s", label, acct.user, strings.Join(ev, ", "), acct.user)
		} else {
			p.Report(st.From.Start, "%s: %s owns the directories the application writes, %s", label, acct.user, strings.Join(ev, ", "))
		}
	}
	return own
}

// nonrootPopulates reports whether a COPY whose destination holds dir may
// put files into dir. For a copy from the context it does when a source
// is named like dir's first component below the destination, or is a
// directory of the context holding an entry of that name; a copy from a
// stage or an image might.
func nonrootPopulates(p *Pass, c nonrootCopy, dir string) bool {
	if !c.context {
		return true
	}
	rel := strings.TrimPrefix(dir, strings.TrimSuffix(c.dest, "/")+"/")
	first, _, _ := strings.Cut(rel, "/")
	for _, src := range c.in.Args[:len(c.in.Args)-1] {
		src = path.Clean(strings.TrimPrefix(src, "/"))
		switch {
		case strings.ContainsAny(src, "*?[") || strings.Count(src, "/") > 0:
			return true // a pattern, or deeper than the facts list files
		case src == ".":
			if p.Facts.Has(first) {
				return true
			}
		case src == first || p.Facts.Has(src+"/"+first):
			return true
		}
	}
	return false
}

// commands returns the commands that create the directories and give them
// to owner.
func (o nonrootOwn) commands(owner string) []dockerfile.Command {
	if len(o.dirs) == 0 {
		return nil
	}
	out := []dockerfile.Command{dockerfile.NewCommand(append([]string{"mkdir", "-p"}, o.dirs...)...)}
	var flat []string
	for _, d := range o.dirs {
		if !slices.Contains(o.deep, d) {
			flat = append(flat, d)
		}
	}
	if len(flat) > 0 {
		out = append(out, dockerfile.NewCommand(append([]string{"chown", owner}, flat...)...))
	}
	if len(o.deep) > 0 {
		out = append(out, dockerfile.NewCommand(append([]string{"chown", "-R", owner}, o.deep...)...))
	}
	return out
}

// nonrootCloseCall closes the call a piece of evidence quotes up to its
// first argument ("sqlite3.connect('app.db'"), so that it reads well in
// parentheses.
func nonrootCloseCall(ev string) string {
	if n := strings.Count(ev, "(") - strings.Count(ev, ")"); n > 0 {
		return ev + strings.Repeat(")", n)
	}
	return ev
}

// nonrootChmodHides reports a COPY --chmod whose mode gives other users no
// read access (an octal mode without o+r; a symbolic one counts as such,
// since the rule does not evaluate it).
func nonrootChmodHides(in *dockerfile.Instruction) (string, bool) {
	for _, v := range in.Flag("chmod") {
		m, err := strconv.ParseUint(v, 8, 32)
		if err != nil || m&0o004 == 0 {
			return v, true
		}
	}
	return "", false
}
