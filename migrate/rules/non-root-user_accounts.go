package rules

import (
	"path"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// nonrootImageUser returns the non-root account the base image ships for
// applications (the image facts table: node, app in .NET 8+, nonroot...).
func nonrootImageUser(info facts.StageInfo) string {
	return info.ImageUser
}

// nonrootShadowUtils reports whether useradd is known to exist in a
// RHEL-like stage: the base image ships it (image facts), or a RUN installs
// shadow-utils (returned so the account is created after it).
func nonrootShadowUtils(info facts.StageInfo, chain []*dockerfile.Stage) (*dockerfile.Instruction, bool) {
	for _, st := range chain {
		for _, in := range st.Find("run") {
			if strings.Contains(strings.Join(in.Args, " "), "shadow-utils") {
				return in, true
			}
		}
	}
	return nil, info.Base.UserTools == "useradd"
}

// nonrootCreatedAccounts returns the accounts that useradd/adduser
// commands of the chain create, by name, with the RUN creating each; and a
// RUN that calls them in a way the rule cannot read.
func nonrootCreatedAccounts(st *dockerfile.Stage, chain []*dockerfile.Stage) (map[string]*dockerfile.Instruction, *dockerfile.Instruction) {
	out := map[string]*dockerfile.Instruction{}
	for _, s := range chain {
		for _, in := range s.Find("run") {
			src := strings.Join(in.Args, " ")
			if !nonrootUserTool.MatchString(src) {
				continue
			}
			script, ok := in.ShellForm()
			var sc *dockerfile.Script
			if ok {
				sc, ok = dockerfile.ParseScript(script)
			}
			if !ok {
				return nil, in
			}
			for _, c := range sc.Commands {
				switch path.Base(c.Name()) {
				case "useradd", "adduser":
				default:
					if nonrootUserTool.MatchString(c.Src) {
						return nil, in
					}
					continue
				}
				name := nonrootAccountName(c.Words[1:])
				if name == "" || !c.Literal {
					return nil, in
				}
				out[name] = in
			}
		}
	}
	return out, nil
}

var nonrootUserTool = regexp.MustCompile(`\b(useradd|adduser)\b`)

// nonrootArgOptions are the useradd / adduser (shadow, busybox and
// Debian's) options that take a value.
var nonrootArgOptions = map[string]bool{
	"-b": true, "-c": true, "-d": true, "-e": true, "-f": true, "-g": true, "-G": true, "-k": true,
	"-K": true, "-p": true, "-R": true, "-P": true, "-s": true, "-u": true, "-Z": true, "-h": true,
	"--base-dir": true, "--comment": true, "--home-dir": true, "--expiredate": true, "--inactive": true,
	"--gid": true, "--groups": true, "--skel": true, "--key": true, "--password": true, "--root": true,
	"--prefix": true, "--shell": true, "--uid": true, "--selinux-user": true, "--home": true,
	"--ingroup": true, "--gecos": true, "--firstuid": true, "--lastuid": true, "--firstgid": true,
	"--lastgid": true, "--conf": true,
}

// nonrootAccountName returns the first operand of a useradd/adduser call.
func nonrootAccountName(words []string) string {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			if i+1 < len(words) {
				return words[i+1]
			}
			return ""
		case strings.HasPrefix(w, "--"):
			if !strings.Contains(w, "=") && nonrootArgOptions[w] {
				i++
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			// -u1001 carries its value; -SD is a cluster whose last
			// letter may take the next word.
			if len(w) == 2 || !nonrootArgOptions[w[:2]] {
				if nonrootArgOptions["-"+w[len(w)-1:]] {
					i++
				}
			}
		default:
			return w
		}
	}
	return ""
}
