package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// cachemountWho resolves the user a RUN runs as.
func cachemountWho(e *cachemountEnv, user string, seen []*dockerfile.Instruction) {
	name, group, _ := strings.Cut(user, ":")
	if facts.IsRoot(user) {
		if user == "" && (strings.Contains(e.info.Image.Tag, "nonroot") || strings.Contains(e.info.Image.Name, "unprivileged")) {
			e.unknown = "the base image's default user is not root"
			return
		}
		e.root = true
		e.home = "/root"
		if v, ok := e.env("HOME"); ok {
			if strings.Contains(v, "$") || !strings.HasPrefix(v, "/") {
				e.unknown = "HOME cannot be resolved"
				return
			}
			e.home = strings.TrimSuffix(v, "/")
		}
		return
	}
	if strings.Contains(user, "$") {
		e.unknown = fmt.Sprintf("USER %s is set from a variable", user)
		return
	}
	if _, ok := e.env("HOME"); ok {
		e.unknown = "HOME is changed for user " + name
		return
	}
	gid := -1
	if group != "" {
		g, err := strconv.Atoi(group)
		if err != nil {
			e.unknown = fmt.Sprintf("the gid of group %s is unknown", group)
			return
		}
		gid = g
	}
	switch {
	case e.info.ImageUser != "" && (name == e.info.ImageUser || name == strconv.Itoa(e.info.ImageUID)):
		e.uid, e.home, e.homeExists = e.info.ImageUID, "/home/"+e.info.ImageUser, e.info.ImageUser == "node"
		if gid < 0 {
			gid = e.info.ImageUID
		}
	default:
		u, ok := cachemountCreated(seen, name)
		if !ok {
			e.unknown = fmt.Sprintf("the uid or home of user %s is unknown", name)
			return
		}
		e.uid, e.home, e.homeExists = u.uid, u.home, u.homeExists
		if gid < 0 {
			gid = u.gid
		}
	}
	e.gid = gid
}

type cachemountUser struct {
	uid, gid   int
	home       string
	homeExists bool
}

// cachemountValueOpts are the useradd/adduser options that take a value.
var cachemountValueOpts = map[string]bool{
	"-u": true, "--uid": true, "-g": true, "--gid": true, "-G": true, "--groups": true, "--ingroup": true,
	"-d": true, "--home-dir": true, "--home": true, "-h": true, "-s": true, "--shell": true,
	"-c": true, "--comment": true, "--gecos": true, "-k": true, "--skel": true, "-K": true, "--key": true,
	"-e": true, "--expiredate": true, "-f": true, "--inactive": true, "-p": true, "--password": true,
	"-b": true, "--base-dir": true, "--firstuid": true, "--lastuid": true,
}

// cachemountCreated finds the useradd/adduser that created a user with an
// explicit uid, and whether it created the home directory.
func cachemountCreated(runs []*dockerfile.Instruction, name string) (cachemountUser, bool) {
	for _, in := range runs {
		src, ok := in.ShellForm()
		if !ok {
			continue
		}
		sc, ok := dockerfile.ParseScript(src)
		if !ok {
			continue
		}
		for _, c := range sc.Commands {
			if c.Name() != "useradd" && c.Name() != "adduser" {
				continue
			}
			opts := map[string]string{}
			var pos []string
			for i := 1; i < len(c.Words); i++ {
				w := c.Words[i]
				if k, v, ok := strings.Cut(w, "="); ok && strings.HasPrefix(k, "--") {
					opts[k] = v
					continue
				}
				if cachemountValueOpts[w] && i+1 < len(c.Words) {
					opts[w] = c.Words[i+1]
					i++
					continue
				}
				if strings.HasPrefix(w, "-") {
					opts[w] = ""
					continue
				}
				pos = append(pos, w)
			}
			if len(pos) == 0 || pos[0] != name {
				continue
			}
			u := cachemountUser{home: "/home/" + name}
			uidText := opts["-u"] + opts["--uid"]
			uid, err := strconv.Atoi(uidText)
			if err != nil {
				return u, false
			}
			u.uid, u.gid = uid, uid
			if g, err := strconv.Atoi(opts["-g"] + opts["--gid"]); err == nil && c.Name() == "useradd" {
				u.gid = g
			}
			for _, k := range []string{"-d", "--home-dir", "--home", "-h"} {
				if v, ok := opts[k]; ok && (k != "-h" || c.Name() == "adduser") {
					u.home = strings.TrimSuffix(v, "/")
				}
			}
			_, system := opts["--system"]
			_, sysShort := opts["-r"]
			if c.Name() == "useradd" {
				_, m := opts["-m"]
				_, cm := opts["--create-home"]
				u.homeExists = m || cm
			} else {
				_, noHome := opts["-H"]
				_, noCreate := opts["--no-create-home"]
				u.homeExists = !noHome && !noCreate && !system && !sysShort
			}
			if u.home == "/nonexistent" || u.home == "/dev/null" || u.home == "" {
				u.homeExists = false
			}
			return u, true
		}
	}
	return cachemountUser{}, false
}
