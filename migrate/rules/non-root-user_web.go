package rules

import (
	"path"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// nonrootWeb is what the rule does with an nginx or httpd stage: run it as
// the image's own unprivileged account, the way the unprivileged nginx
// images do, after giving that account the few paths the server writes.
type nonrootWeb struct {
	server string // "nginx" or "httpd"
	// why, when set, says why the stage keeps running as root.
	why  string
	acct nonrootAccount
}

// nginxWrites are the directives of nginx.conf whose paths the server
// writes at run time.
var (
	nginxPid      = regexp.MustCompile(`(?m)^\s*pid\s+([^;\s]+)\s*;`)
	nginxTempPath = regexp.MustCompile(`(?m)^\s*\w+_temp_path\s+([^;\s]+)`)
)

// nonrootWebServer recognises a stage built on the official nginx or httpd
// image that starts the server the image's way, and prepares the account
// switch; ok is false for other stages.
func nonrootWebServer(p *Pass, st *dockerfile.Stage, info facts.StageInfo) (nonrootWeb, bool) {
	var w nonrootWeb
	switch info.Image.Name {
	case "nginx", "nginxinc/nginx":
		w.server = "nginx"
	case "httpd":
		w.server = "httpd"
	default:
		return w, false
	}
	if !info.Family.HasShell() {
		w.why = "its base has no shell to prepare the paths the server writes"
		return w, true
	}
	sf := p.Stage(st)
	for _, cmd := range []string{"entrypoint", "cmd"} {
		ins := sf.Instructions(cmd, nil)
		if len(ins) == 0 || len(ins[len(ins)-1].Args) == 0 {
			continue
		}
		first := path.Base(strings.Fields(ins[len(ins)-1].Args[0] + " x")[0])
		if cmd == "entrypoint" && first != "docker-entrypoint.sh" || cmd == "cmd" && first != "nginx" && first != "httpd-foreground" && first != "httpd" {
			w.why = "its " + strings.ToUpper(cmd) + " starts something other than the server the image runs"
			return w, true
		}
	}
	var cmds [][]string
	switch w.server {
	case "nginx":
		if _, ok := info.Base.Account("nginx"); !ok {
			w.why = "the image has no nginx account"
			return w, true
		}
		pid := "/var/run/nginx.pid"
		dirs := []string{"/var/cache/nginx", "/etc/nginx/conf.d"}
		if conf, ok := nonrootNginxConf(p, sf); ok {
			if m := nginxPid.FindStringSubmatch(conf); m != nil {
				pid = m[1]
			}
			for _, m := range nginxTempPath.FindAllStringSubmatch(conf, -1) {
				dirs = append(dirs, m[1])
			}
		}
		for _, d := range append([]string{pid}, dirs...) {
			if !path.IsAbs(d) || strings.ContainsAny(d, "$*") {
				w.why = "its nginx.conf writes " + d + ", a path the rule cannot resolve"
				return w, true
			}
		}
		cmds = [][]string{
			append([]string{"chown", "-R", "nginx:nginx"}, dirs...),
			{"touch", pid},
			{"chown", "nginx:nginx", pid},
		}
		w.acct = nonrootAccount{user: "nginx", chown: "nginx:nginx", after: -1, server: true}
	case "httpd":
		if _, ok := info.Base.Account("www-data"); !ok {
			w.why = "the image has no www-data account"
			return w, true
		}
		cmds = [][]string{{"chown", "-R", "www-data:www-data", "/usr/local/apache2/logs"}}
		w.acct = nonrootAccount{user: "www-data", chown: "www-data:www-data", after: -1, server: true}
	}
	for _, c := range cmds {
		w.acct.create = append(w.acct.create, dockerfile.NewCommand(c...))
	}
	return w, true
}

// nonrootNginxConf returns the nginx.conf the stage copies from the
// context over the image's, when it does.
func nonrootNginxConf(p *Pass, sf *facts.StageFacts) (string, bool) {
	for _, cmd := range []string{"copy", "add"} {
		for _, in := range sf.Instructions(cmd, nil) {
			if len(in.Args) != 2 || in.HasFlag("from") {
				continue
			}
			src, dst := in.Args[0], in.Args[1]
			if dst != "/etc/nginx/nginx.conf" && !(strings.HasSuffix(dst, "/") && path.Clean(dst) == "/etc/nginx" && path.Base(src) == "nginx.conf") {
				continue
			}
			data, err := p.Facts.ReadFile(path.Clean(strings.TrimPrefix(src, "./")))
			if err != nil {
				return "", false
			}
			return string(data), true
		}
	}
	return "", false
}
