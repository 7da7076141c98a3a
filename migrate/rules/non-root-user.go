package rules

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// NonRoot makes each runtime stage end with an unprivileged USER.
var NonRoot = &Rule{
	ID:    "non-root-user",
	Title: "Run the application as an unprivileged user",
	Rationale: "A process that runs as root inside the container holds root over everything " +
		"mounted into it and is one kernel or runtime bug away from root on the host, so an " +
		"exploited application should find itself without privileges. The rule reuses a user the " +
		"Dockerfile or base image already provides (node in the Node images), otherwise creates a " +
		"system account with a fixed id and no shell or home using the distribution's own tools " +
		"(a numeric id on distroless and scratch, which have no shell), gives it the application " +
		"files it copies in, and switches to it just before the start command, after every step " +
		"that still needs root. Stages that already end as another user, development targets, " +
		"services whose compose file sets `user:`, images that bind a port below 1024 or start as " +
		"root by design (nginx, databases, entrypoints that drop privileges with gosu or su-exec) " +
		"and bases whose tools are unknown are left as they are and reported.",
	Run: runNonRoot,
}

// nonrootName is the account the rule creates.
const nonrootName = "app"

// nonrootNumeric is the id used on distroless and scratch images, the
// "nonroot" user of the distroless images.
const nonrootNumeric = "65532:65532"

// nonrootAccount is the user a stage will end with.
type nonrootAccount struct {
	user   string // USER value
	chown  string // COPY --chown value
	create string // RUN body that creates it ("" when it exists)
	// from is the index (in the stage's instructions) from which the
	// account exists, so COPYs before it cannot be given to it.
	from int
	// after is the index of a RUN the account creation must follow (-1: none).
	after int
}

func runNonRoot(p *Pass) {
	for _, st := range p.Runtime() {
		nonrootStage(p, st)
	}
}

func nonrootStage(p *Pass, st *dockerfile.Stage) {
	line := st.From.Start
	label := nonrootLabel(st)
	svcs := nonrootServices(p, st)
	if devReason(p, st) != "" {
		p.Report(line, "%s is built for development; its user is left as is", label)
		return
	}
	for _, s := range svcs {
		if s.User != "" {
			p.Report(line, "compose service %s sets user: %s, which overrides the image's USER; %s is left as is", s.Name, s.User, label)
			return
		}
	}
	var args map[string]string
	if len(svcs) > 0 {
		args = svcs[0].Args
	}
	info := facts.Stage(p.File, st, args)
	chain := nonrootChain(st)
	if info.EndsNonRoot() {
		user := info.User
		if user == "" {
			user = info.ImageUser
		}
		p.Report(nonrootLastUserLine(chain, line), "%s runs as non-root user %s", label, nonrootDisplay(user))
		if info.Family == facts.Distroless && !strings.Contains(info.Image.Tag, "nonroot") {
			p.Report(line, "the :nonroot variant of %s runs as uid 65532 by default and would make the USER line unnecessary", info.Image.Name)
		}
		return
	}
	switch info.Family {
	case facts.Windows:
		p.NeedsHuman(line, "%s is a Windows image; the non-root rule only knows Linux user tools", label)
		return
	case facts.Unknown:
		p.NeedsHuman(line, "%s runs as root, but the OS of %s is unknown, so no user could be created safely; add a non-root USER by hand", label, info.Image.Ref)
		return
	}
	if port, ok := nonrootPrivilegedPort(p, chain, svcs, args); ok {
		p.NeedsHuman(nonrootPortLine(chain, port, line), "binds port %d as root; switch to an unprivileged port or add CAP_NET_BIND_SERVICE, then run %s as a non-root user", port, label)
		return
	}
	if why := nonrootRootByDesign(info.Image); why != "" {
		p.NeedsHuman(line, "%s starts as root by design (%s); its user is left as is", info.Image.Name, why)
		return
	}
	if in, tool := nonrootDropsPrivileges(p, chain); in != nil {
		p.NeedsHuman(in.Start, "%s starts as root and drops privileges itself (%s); its user is left as is", label, tool)
		return
	}
	if in := nonrootUsesRootHome(chain); in != nil {
		p.NeedsHuman(in.Start, "%s keeps files under /root (or installs with pip --user), which a non-root user cannot read; move them elsewhere before switching user", label)
		return
	}
	if child := nonrootChildRuns(p.File, st); child != nil {
		p.NeedsHuman(child.From.Start, "%s is the base of %s, whose RUN steps would stop running as root; add the non-root USER by hand", label, nonrootLabel(child))
		return
	}
	acct, ok := nonrootChooseAccount(p, st, chain, info)
	if !ok {
		return
	}
	nonrootEdit(p, st, chain, acct)
}

// nonrootEdit writes the account creation, the --chown flags and the USER.
func nonrootEdit(p *Pass, st *dockerfile.Stage, chain []*dockerfile.Stage, acct nonrootAccount) {
	f := p.File
	ins := st.Instructions
	upper := upperCaseFile(f)
	kw := func(cmd string) string {
		if upper {
			return strings.ToUpper(cmd)
		}
		return cmd
	}
	// Account creation, first.
	if acct.create != "" {
		at := len(ins)
		for i := 1; i < len(ins); i++ {
			if !nonrootMetadata(ins[i].Cmd) {
				at = i
				break
			}
		}
		text := kw("run") + " " + acct.create + "\n"
		switch {
		case acct.after >= 0 && acct.after >= at:
			p.Edit(dockerfile.InsertAfter(ins[acct.after], text))
			at = acct.after + 1
		case at == len(ins):
			p.Edit(dockerfile.InsertAfter(ins[len(ins)-1], text))
		default:
			p.Edit(nonrootInsertBefore(f, ins[at], text))
		}
		acct.from = at
	}
	// --chown on the COPY/ADD of application files.
	workdir := nonrootWorkdirBefore(chain)
	for i, in := range ins {
		if in.Cmd == "workdir" && len(in.Args) > 0 {
			workdir = nonrootJoin(workdir, in.Args[0])
		}
		if i < acct.from || (in.Cmd != "copy" && in.Cmd != "add") || len(in.Args) < 2 {
			continue
		}
		if slices.ContainsFunc(in.Flags, func(fl string) bool { return strings.HasPrefix(fl, "--chown") }) {
			continue
		}
		if nonrootSystemPath(nonrootJoin(workdir, in.Args[len(in.Args)-1])) {
			continue
		}
		if e, ok := nonrootAddChown(f, in, acct.chown); ok {
			p.Edit(e)
		}
	}
	// USER after the last step that runs as root, before the start command.
	userLine := kw("user") + " " + acct.user + "\n"
	last := 0
	for i, in := range ins {
		if in.Cmd == "run" || in.Cmd == "user" {
			last = i
		}
	}
	if ins[last].Cmd == "user" {
		p.Edit(dockerfile.Replace(ins[last], userLine))
		return
	}
	for i := last + 1; i < len(ins); i++ {
		if ins[i].Cmd == "cmd" || ins[i].Cmd == "entrypoint" {
			p.Edit(nonrootInsertBefore(f, ins[i], userLine))
			return
		}
	}
	p.Edit(dockerfile.InsertAfter(ins[len(ins)-1], userLine))
}

// nonrootMetadata lists instructions the account creation may follow: they
// neither run commands nor copy files.
func nonrootMetadata(cmd string) bool {
	switch cmd {
	case "arg", "env", "workdir", "label", "expose", "maintainer", "stopsignal":
		return true
	}
	return false
}

// nonrootInsertBefore inserts text before an instruction and the comment
// lines directly above it, so a comment stays with its instruction.
func nonrootInsertBefore(f *dockerfile.File, in *dockerfile.Instruction, text string) dockerfile.Edit {
	prevEnd := 0
	for _, o := range f.Instructions {
		if o.End < in.Start && o.End > prevEnd {
			prevEnd = o.End
		}
	}
	start := in.Start
	for start-1 > prevEnd && strings.HasPrefix(strings.TrimSpace(f.Lines[start-2]), "#") {
		start--
	}
	return dockerfile.Edit{Start: start, End: start - 1, Text: text}
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

// nonrootChooseAccount picks the user: one the stage already switched to,
// one the Dockerfile creates, the image's own, a numeric id on images
// without a shell, or a new system account.
func nonrootChooseAccount(p *Pass, st *dockerfile.Stage, chain []*dockerfile.Stage, info facts.StageInfo) (nonrootAccount, bool) {
	line := st.From.Start
	created, unresolved := nonrootCreatedAccounts(st, chain)
	if unresolved != nil {
		p.NeedsHuman(unresolved.Start, "%s creates a user this rule cannot name; switch to it with USER by hand", nonrootLabel(st))
		return nonrootAccount{}, false
	}
	// A non-root USER used earlier in the chain, e.g. before a final USER root.
	for i := len(chain) - 1; i >= 0; i-- {
		users := chain[i].Find("user")
		for j := len(users) - 1; j >= 0; j-- {
			u := users[j]
			if len(u.Args) == 0 || facts.IsRoot(u.Args[0]) {
				continue
			}
			name, _, _ := strings.Cut(u.Args[0], ":")
			from := 0
			if c, ok := created[name]; ok && c.Stage == st.Index {
				from = nonrootIndex(st, c) + 1
			}
			return nonrootAccount{user: u.Args[0], chown: u.Args[0], from: from, after: -1}, true
		}
	}
	// An account the Dockerfile creates but never switches to.
	var names []string
	for n := range created {
		names = append(names, n)
	}
	if len(names) > 1 {
		slices.Sort(names)
		p.NeedsHuman(line, "%s creates several users (%s); switch to the right one with USER by hand", nonrootLabel(st), strings.Join(names, ", "))
		return nonrootAccount{}, false
	}
	if len(names) == 1 {
		c := created[names[0]]
		from := 0
		if c.Stage == st.Index {
			from = nonrootIndex(st, c) + 1
		}
		return nonrootAccount{user: names[0], chown: names[0], from: from, after: -1}, true
	}
	if user := nonrootImageUser(info); user != "" {
		return nonrootAccount{user: user, chown: user + ":" + user, after: -1}, true
	}
	uid := p.Options.UID
	if uid <= 0 {
		uid = DefaultOptions().UID
	}
	id := strconv.Itoa(uid)
	acct := nonrootAccount{user: nonrootName, chown: nonrootName + ":" + nonrootName, after: -1}
	var cmds [][]string
	switch info.Family {
	case facts.Distroless, facts.Scratch:
		return nonrootAccount{user: nonrootNumeric, chown: nonrootNumeric, after: -1}, true
	case facts.Alpine:
		cmds = [][]string{
			{"addgroup", "-S", "-g", id, nonrootName},
			{"adduser", "-S", "-D", "-H", "-u", id, "-G", nonrootName, "-s", "/sbin/nologin", nonrootName},
		}
	case facts.Debian, facts.RHEL:
		shell := "/usr/sbin/nologin"
		if info.Family == facts.RHEL {
			in, ok := nonrootShadowUtils(info, chain)
			if !ok {
				p.NeedsHuman(line, "%s runs as root, and %s may lack useradd (shadow-utils); create a non-root user by hand", nonrootLabel(st), info.Image.Ref)
				return nonrootAccount{}, false
			}
			if in != nil && in.Stage == st.Index {
				acct.after = nonrootIndex(st, in)
			}
			shell = "/sbin/nologin"
		}
		cmds = [][]string{
			{"groupadd", "--system", "--gid", id, nonrootName},
			{"useradd", "--system", "--no-log-init", "--uid", id, "--gid", nonrootName, "-M", "-s", shell, nonrootName},
		}
	default:
		return nonrootAccount{}, false
	}
	sc := &dockerfile.Script{}
	for _, c := range cmds {
		sc.Commands = append(sc.Commands, dockerfile.NewCommand(c...))
	}
	acct.create = sc.Render(p.File.Escape)
	return acct, true
}

// nonrootImageUser returns a non-root account the base image ships.
func nonrootImageUser(info facts.StageInfo) string {
	if info.ImageUser != "" {
		return info.ImageUser
	}
	// .NET 8 and later images ship an "app" user (uid 1654); creating
	// another "app" would fail.
	if strings.HasPrefix(info.Image.Name, "dotnet/") {
		major, _, _ := strings.Cut(info.Image.Tag, ".")
		if n, err := strconv.Atoi(major); err == nil && n >= 8 {
			return "app"
		}
	}
	return ""
}

// nonrootShadowUtils reports whether useradd is known to exist in a
// RHEL-like stage: images that ship shadow-utils, or a RUN that installs
// it (returned so the account is created after it).
func nonrootShadowUtils(info facts.StageInfo, chain []*dockerfile.Stage) (*dockerfile.Instruction, bool) {
	for _, st := range chain {
		for _, in := range st.Find("run") {
			if strings.Contains(strings.Join(in.Args, " "), "shadow-utils") {
				return in, true
			}
		}
	}
	name, tag := info.Image.Name, strings.ToLower(info.Image.Tag)
	if strings.Contains(name, "minimal") || strings.Contains(name, "micro") || strings.Contains(tag, "minimal") || strings.Contains(tag, "micro") {
		return nil, false
	}
	switch name {
	case "ubi8/ubi", "ubi9/ubi", "ubi10/ubi", "ubi8", "ubi9", "redhat/ubi8", "redhat/ubi9",
		"centos", "rockylinux", "rockylinux/rockylinux", "almalinux", "fedora":
		return nil, true
	}
	return nil, false
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

// nonrootPrivilegedPort finds a port below 1024 the stage serves on: its
// EXPOSE lines, a PORT variable, or the compose services' ports.
func nonrootPrivilegedPort(p *Pass, chain []*dockerfile.Stage, svcs []facts.Service, buildArgs map[string]string) (int, bool) {
	vars := facts.GlobalArgs(p.File, buildArgs)
	check := func(v string) (int, bool) {
		v = facts.ExpandArgs(v, vars)
		v, _, _ = strings.Cut(v, "/")
		v, _, _ = strings.Cut(v, "-")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil && n > 0 && n < 1024
	}
	for _, st := range chain {
		for _, in := range st.Instructions {
			switch in.Cmd {
			case "arg":
				for _, a := range in.Args {
					k, v, ok := strings.Cut(a, "=")
					if _, set := buildArgs[k]; ok && !set {
						vars[k] = strings.Trim(v, `"'`)
					}
				}
			case "env":
				for i := 0; i+1 < len(in.Args); i += 3 {
					vars[in.Args[i]] = facts.ExpandArgs(in.Args[i+1], vars)
					if in.Args[i] == "PORT" {
						if n, ok := check(in.Args[i+1]); ok {
							return n, true
						}
					}
				}
			case "expose":
				for _, a := range in.Args {
					if n, ok := check(a); ok {
						return n, true
					}
				}
			}
		}
	}
	for _, s := range svcs {
		for _, port := range s.Ports {
			if port > 0 && port < 1024 {
				return port, true
			}
		}
		if n, ok := check(s.Environment["PORT"]); ok {
			return n, true
		}
	}
	return 0, false
}

// nonrootPortLine returns the line that exposes the port, or def.
func nonrootPortLine(chain []*dockerfile.Stage, port, def int) int {
	want := strconv.Itoa(port)
	for _, st := range chain {
		for _, in := range st.Instructions {
			if in.Cmd == "expose" || in.Cmd == "env" {
				for _, a := range in.Args {
					if a == want || strings.HasPrefix(a, want+"/") {
						return in.Start
					}
				}
			}
		}
	}
	return def
}

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
func nonrootDropsPrivileges(p *Pass, chain []*dockerfile.Stage) (*dockerfile.Instruction, string) {
	for _, st := range chain {
		for _, in := range st.Instructions {
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
		full := filepath.Join(p.Facts.Context, filepath.FromSlash(rel))
		fi, err := os.Stat(full)
		if err != nil || fi.IsDir() || fi.Size() > 256<<10 {
			continue
		}
		data, err := os.ReadFile(full)
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

var (
	nonrootPipInstall = regexp.MustCompile(`\bpip[0-9.]*\s+install\b`)
	nonrootPipUser    = regexp.MustCompile(`\s--user\b`)
)

var nonrootRootPath = regexp.MustCompile(`(^|[\s=:"'])(/root|~)(/|$|[\s:"'])`)

// nonrootUsesRootHome finds a step that leaves what the application needs
// under root's home directory.
func nonrootUsesRootHome(chain []*dockerfile.Stage) *dockerfile.Instruction {
	for _, st := range chain {
		for _, in := range st.Instructions {
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

// nonrootServices returns the compose services that build the stage.
func nonrootServices(p *Pass, st *dockerfile.Stage) []facts.Service {
	var out []facts.Service
	for _, s := range p.Facts.Services {
		if t := p.File.Target(s.Target); t != nil && t.Index == st.Index {
			out = append(out, s)
		}
	}
	return out
}

// nonrootChain returns the stages from the one built on an image down to st.
func nonrootChain(st *dockerfile.Stage) []*dockerfile.Stage {
	var chain []*dockerfile.Stage
	for s := st; s != nil && len(chain) < 64; s = s.BaseStage {
		chain = append([]*dockerfile.Stage{s}, chain...)
	}
	return chain
}

// nonrootWorkdirBefore returns the working directory the base stages leave.
func nonrootWorkdirBefore(chain []*dockerfile.Stage) string {
	wd := "/"
	for _, st := range chain[:len(chain)-1] {
		for _, in := range st.Find("workdir") {
			if len(in.Args) > 0 {
				wd = nonrootJoin(wd, in.Args[0])
			}
		}
	}
	return wd
}

func nonrootJoin(dir, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// nonrootSystemPath reports destinations that belong to the system and
// stay root-owned, so the application cannot rewrite its own libraries.
func nonrootSystemPath(p string) bool {
	if strings.Contains(p, "$") {
		return false
	}
	for _, dir := range []string{"/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
		"/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/share", "/usr/include",
		"/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/usr/local/share", "/usr/local/include"} {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

func nonrootIndex(st *dockerfile.Stage, in *dockerfile.Instruction) int {
	return slices.Index(st.Instructions, in)
}

func nonrootLastUserLine(chain []*dockerfile.Stage, def int) int {
	for i := len(chain) - 1; i >= 0; i-- {
		if us := chain[i].Find("user"); len(us) > 0 {
			return us[len(us)-1].Start
		}
	}
	return def
}

func nonrootLabel(st *dockerfile.Stage) string {
	if st.Name != "" {
		return "stage " + st.Name
	}
	return "stage " + strconv.Itoa(st.Index) + " (" + st.Base + ")"
}

func nonrootDisplay(user string) string {
	if user == "" {
		return "(image default)"
	}
	return user
}
