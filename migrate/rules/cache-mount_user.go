package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/facts"
)

// cachemountWho resolves the user a RUN runs as.
func cachemountWho(e *cachemountEnv, user string, added func(name string) (facts.UserAdd, bool)) {
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
		// The image facts say the account's ids and whether its home exists.
		a, _ := e.info.Base.Account(e.info.ImageUser)
		e.uid, e.home, e.homeExists = a.UID, a.Home, a.Home != ""
		if e.home == "" {
			e.home = "/home/" + a.Name
		}
		if gid < 0 {
			gid = a.GID
		}
	default:
		u, ok := cachemountCreated(added, name)
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

// cachemountCreated finds the useradd/adduser that created a user with an
// explicit uid, and whether it created the home directory.
func cachemountCreated(added func(name string) (facts.UserAdd, bool), name string) (cachemountUser, bool) {
	ua, ok := added(name)
	if !ok {
		return cachemountUser{}, false
	}
	u := cachemountUser{home: "/home/" + name}
	uidText, _ := ua.Opt("-u", "--uid")
	uid, err := strconv.Atoi(uidText)
	if err != nil {
		return u, false
	}
	u.uid, u.gid = uid, uid
	if g, ok := ua.Opt("-g", "--gid"); ok && ua.Tool == "useradd" {
		if g, err := strconv.Atoi(g); err == nil {
			u.gid = g
		}
	}
	for _, k := range []string{"-d", "--home-dir", "--home", "-h"} {
		if v, ok := ua.Opts[k]; ok && (k != "-h" || ua.Tool == "adduser") {
			u.home = strings.TrimSuffix(v, "/")
		}
	}
	_, system := ua.Opt("--system", "-r")
	if ua.Tool == "useradd" {
		_, u.homeExists = ua.Opt("-m", "--create-home")
	} else {
		_, noHome := ua.Opt("-H", "--no-create-home")
		u.homeExists = !noHome && !system
	}
	if u.home == "/nonexistent" || u.home == "/dev/null" || u.home == "" {
		u.homeExists = false
	}
	return u, true
}
