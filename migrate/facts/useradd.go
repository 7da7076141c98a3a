package facts

import (
	"path"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// UserAdd is one useradd or adduser call (shadow, busybox or Debian's).
type UserAdd struct {
	// Tool is "useradd" or "adduser".
	Tool string
	// Name is the account created: the first operand ("" when none).
	Name string
	// Opts maps each option as written ("-u", "--uid") to its value, ""
	// for a switch; clustered short options (-SD, -u1001) are split.
	Opts map[string]string
}

// Opt returns the value of the first of the options present.
func (u UserAdd) Opt(names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := u.Opts[n]; ok {
			return v, true
		}
	}
	return "", false
}

// userAddValueOpts are the useradd/adduser options that take a value.
var userAddValueOpts = map[string]bool{
	"-b": true, "-c": true, "-d": true, "-e": true, "-f": true, "-g": true, "-G": true, "-k": true,
	"-K": true, "-p": true, "-R": true, "-P": true, "-s": true, "-u": true, "-Z": true, "-h": true,
	"--base-dir": true, "--comment": true, "--home-dir": true, "--expiredate": true, "--inactive": true,
	"--gid": true, "--groups": true, "--skel": true, "--key": true, "--password": true, "--root": true,
	"--prefix": true, "--shell": true, "--uid": true, "--selinux-user": true, "--home": true,
	"--ingroup": true, "--gecos": true, "--firstuid": true, "--lastuid": true, "--firstgid": true,
	"--lastgid": true, "--conf": true,
}

// ParseUserAdd reads a useradd or adduser command; ok is false for any
// other command.
func ParseUserAdd(c dockerfile.Command) (u UserAdd, ok bool) {
	tool := path.Base(c.Name())
	if tool != "useradd" && tool != "adduser" {
		return UserAdd{}, false
	}
	u = UserAdd{Tool: tool, Opts: map[string]string{}}
	words := c.Words[1:]
	value := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			u.Name = value(i + 1)
			return u, true
		case strings.HasPrefix(w, "--"):
			if k, v, ok := strings.Cut(w, "="); ok {
				u.Opts[k] = v
			} else if userAddValueOpts[w] {
				u.Opts[w] = value(i + 1)
				i++
			} else {
				u.Opts[w] = ""
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			if len(w) > 2 && userAddValueOpts[w[:2]] { // -u1001: the value is attached
				u.Opts[w[:2]] = w[2:]
				continue
			}
			// -S or a cluster such as -SD, whose last letter may take the
			// next word.
			for _, r := range w[1 : len(w)-1] {
				u.Opts["-"+string(r)] = ""
			}
			last := "-" + w[len(w)-1:]
			if userAddValueOpts[last] {
				u.Opts[last] = value(i + 1)
				i++
			} else {
				u.Opts[last] = ""
			}
		default:
			u.Name = w
			return u, true
		}
	}
	return u, true
}
