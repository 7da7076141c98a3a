package rules

import (
	"path"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"

	"github.com/composeopt/composeopt/migrate/safefs"
)

// nonrootRootByDesign names base images whose processes need root at
// start (privileged ports, entrypoints that step down to their own user).
func nonrootRootByDesign(im facts.Image) string {
	base := im.Base()
	switch base {
	case "nginx", "httpd", "caddy", "traefik", "haproxy", "apache2":
		return "it serves on ports 80/443 and manages its own worker user"
	case "postgres", "mysql", "mariadb", "mongo", "redis", "rabbitmq", "memcached", "cassandra", "couchdb", "elasticsearch":
		return "its entrypoint prepares data directories and then steps down to its own user"
	case "php", "wordpress", "drupal", "joomla":
		if base != "php" || strings.Contains(im.Tag, "apache") {
			return "Apache binds port 80 and manages its own worker user"
		}
	}
	return ""
}

// nonrootPrivDrop matches tools that start as root and switch user, or
// services that must stay root.
var nonrootPrivDrop = regexp.MustCompile(`(^|[^\w-])(gosu|su-exec|setpriv|chpst|runuser|supervisord|s6-svscan|s6-overlay|crond|cron)([^\w-]|$)`)

// nonrootDropsPrivileges finds a step or start script that needs root.
func nonrootDropsPrivileges(p *Pass, sf *facts.StageFacts) (*dockerfile.Instruction, string) {
	for _, in := range sf.Instructions("", nil) {
		if in.Cmd != "run" && in.Cmd != "cmd" && in.Cmd != "entrypoint" {
			continue
		}
		if m := nonrootPrivDrop.FindStringSubmatch(strings.Join(in.Args, " ")); m != nil {
			return in, m[2]
		}
		if in.Cmd == "entrypoint" && len(in.Args) > 0 && in.Args[0] == "/init" {
			return in, "s6-overlay /init"
		}
		if in.Cmd == "run" {
			continue
		}
		for _, w := range in.Args {
			for _, word := range strings.Fields(w) {
				if tool := nonrootScriptNeedsRoot(p, word); tool != "" {
					return in, tool + " in " + path.Base(word)
				}
			}
		}
	}
	return nil, ""
}

var nonrootScriptRoot = regexp.MustCompile(`(^|[^\w-])(gosu|su-exec|setpriv|chpst|runuser|supervisord|crond|cron|chown|sysctl|apk add|apt-get|useradd|adduser)([^\w-]|$)`)

// nonrootScriptNeedsRoot reads a start script from the build context and
// returns a root-only command it runs.
func nonrootScriptNeedsRoot(p *Pass, word string) string {
	if p.Facts == nil || p.Facts.Context == "" || !strings.HasSuffix(word, ".sh") && !strings.Contains(path.Base(word), "entrypoint") {
		return ""
	}
	base := path.Base(word)
	for rel := range p.Facts.Files {
		if path.Base(rel) != base {
			continue
		}
		data, err := safefs.ReadIn(safefs.Source, p.Facts.Context, rel)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			if m := nonrootScriptRoot.FindStringSubmatch(l); m != nil {
				return m[2]
			}
		}
	}
	return ""
}

var nonrootRootPath = regexp.MustCompile(`(^|[\s=:"'])(/root|~)(/|$|[\s:"'])`)

// nonrootUsesRootHome finds a step that leaves what the application needs
// under root's home directory.
func nonrootUsesRootHome(sf *facts.StageFacts) *dockerfile.Instruction {
	for _, in := range sf.Instructions("", nil) {
		switch in.Cmd {
		case "copy", "add":
			if len(in.Args) > 0 && nonrootRootPath.MatchString(in.Args[len(in.Args)-1]) {
				return in
			}
		case "env", "workdir", "cmd", "entrypoint":
			if nonrootRootPath.MatchString(strings.Join(in.Args, " ")) {
				return in
			}
		case "run":
			src := strings.Join(in.Args, " ")
			if nonrootPipInstall.MatchString(src) && nonrootPipUser.MatchString(src) {
				return in
			}
		}
	}
	return nil
}

// nonrootChildRuns returns a later stage built on st that runs commands
// before setting a user of its own.
func nonrootChildRuns(f *dockerfile.File, st *dockerfile.Stage) *dockerfile.Stage {
	for _, s := range f.Stages {
		if s.BaseStage != st {
			continue
		}
		for _, in := range s.Instructions {
			if in.Cmd == "user" {
				break
			}
			if in.Cmd == "run" {
				return s
			}
		}
	}
	return nil
}

var (
	nonrootPipInstall = regexp.MustCompile(`\bpip[0-9.]*\s+install\b`)
	nonrootPipUser    = regexp.MustCompile(`\s--user\b`)
)
