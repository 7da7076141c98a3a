package rules

import (
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// NonRoot makes each runtime stage end with an unprivileged USER.
var NonRoot = &Rule{
	ID:    "non-root-user",
	Title: "Run the application as an unprivileged user",
	Doc: "A process that runs as root inside the container holds root over everything " +
		"mounted into it and is one kernel or runtime bug away from root on the host, so an " +
		"exploited application should find itself without privileges. The rule reuses a user the " +
		"Dockerfile or base image already provides (node in the Node images, nginx, app in .NET 8+), " +
		"otherwise creates a system account with a fixed id and no shell or home using the " +
		"distribution's own tools (a numeric id on distroless and scratch, which have no shell), " +
		"and switches to it just before the start command, after every step that still needs root. " +
		"The application's code stays owned by root, which the user can read but not change; the " +
		"user owns only the directories the application writes (upload folders, SQLite files, cache " +
		"and data directories named in the sources, the start scripts, the environment or compose volumes), created " +
		"after whatever fills them. Where the application writes beside its code, or may (a framework " +
		"known to write caches there, a write to a path computed at run time, a start script that " +
		"collects static files, builds, or migrates a SQLite database), or where context files " +
		"or a COPY --chmod deny others read access, the copied files are given to the user instead, and the finding " +
		"says why. A port below 1024 is no obstacle on " +
		"compose's bridge network (Docker 20.10 and later let any user bind it there); the finding " +
		"says what Kubernetes needs. nginx and httpd static sites run as the image's own account " +
		"once the paths the server writes are theirs. Stages that already end as another user, " +
		"development targets, services whose compose file sets `user:`, a port below 1024 with " +
		"network_mode: host, a source bind mount over WORKDIR in which the application writes, " +
		"a start script that writes to a system directory (/etc, /usr, /root), " +
		"images that start as root by design (databases, entrypoints that drop privileges with gosu " +
		"or su-exec) and bases whose tools are unknown are left as they are and reported.",
	After:   []string{"multi-stage", "prod-deps", "pkg-cache", "cache-mount", "python-env", "node-env", "healthcheck"},
	Options: []string{"uid"},
	Run:     runNonRoot,
}

// nonrootName is the account the rule creates.
const nonrootName = "app"

// nonrootNumeric is the id used on distroless and scratch images, the
// "nonroot" user of the distroless images.
const nonrootNumeric = "65532:65532"

// nonrootAccount is the user a stage will end with.
type nonrootAccount struct {
	user   string               // USER value
	chown  string               // COPY --chown value
	create []dockerfile.Command // the RUN that creates it (nil when it exists)
	// from is the index (in the stage's instructions) from which the
	// account exists, so COPYs before it cannot be given to it.
	from int
	// after is the index of a RUN the account creation must follow (-1: none).
	after int
	// server: the account of an nginx or httpd image serving files, which
	// writes only the server's own paths (prepared with the account).
	server bool
}

func runNonRoot(p *Pass) {
	for _, st := range p.Runtime() {
		// The COPY/chown merge first; the account switch follows in the
		// next pass, on the merged text.
		if p.Stage(st).DevelopmentReason() == "" && nonrootCopyChown(p, st) {
			continue
		}
		nonrootStage(p, st)
	}
}

func nonrootStage(p *Pass, st *dockerfile.Stage) {
	line := st.From.Start
	label := nonrootLabel(st)
	svcs := p.Stage(st).Services
	if p.Stage(st).DevelopmentReason() != "" {
		p.Report(line, "%s is built for development; its user is left as is", label)
		return
	}
	for _, s := range svcs {
		if s.User != "" {
			p.Report(line, "compose service %s sets user: %s, which overrides the image's USER; %s is left as is", s.Name, s.User, label)
			return
		}
	}
	info := p.Stage(st).Info
	if info.EndsNonRoot() {
		user := info.User
		if user == "" {
			user = info.ImageUser
		}
		p.Report(nonrootLastUserLine(p.Stage(st), line), "%s runs as non-root user %s", label, nonrootDisplay(user))
		if info.Family == facts.Distroless && !strings.Contains(info.Image.Tag, "nonroot") {
			p.Report(line, "the :nonroot variant of %s runs as uid 65532 by default and would make the USER line unnecessary", info.Image.Name)
		}
		return
	}
	if tool, where := p.Stage(st).StartsBuildTool(); tool != "" {
		p.NeedsHuman(line, "%s keeps running as root: %s, which compiles into the working directory and reads the dependency caches the image build filled as root; an unprivileged user could do neither. Build the application in the image and start what it built, and the rule can switch the user", label, where)
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
	sf := p.Stage(st)
	priv := facts.PrivilegedPorts(sf.Ports())
	if len(priv) > 0 {
		for _, s := range svcs {
			if s.NetworkMode == "host" {
				p.NeedsHuman(nonrootPortLine(priv[0], line), "%s listens on port %d (%s) and compose service %s uses network_mode: host, where the host's net.ipv4.ip_unprivileged_port_start applies (1024 unless changed), so only root may bind it; %s keeps running as root. Listen on a port from 1024 up, or use a bridge network, and the rule will switch it to a non-root user",
					label, priv[0].Number, priv[0].Evidence, s.Name, label)
				return
			}
		}
	}
	web, isWeb := nonrootWebServer(p, st, info)
	if !isWeb {
		if why := nonrootRootByDesign(info.Image); why != "" {
			p.NeedsHuman(line, "%s starts as root by design (%s); its user is left as is", info.Image.Name, why)
			return
		}
	} else if web.why != "" {
		p.NeedsHuman(line, "%s runs %s as root: %s; its user is left as is", label, web.server, web.why)
		return
	}
	if bind, writes := nonrootBindOverWrites(sf); len(writes) > 0 {
		p.NeedsHuman(line, "compose service %s bind-mounts %s over %s, and the application writes there (%s); on Linux the mounted directory belongs to the host's user, whom an account created in the image cannot write as, so %s keeps running as root. To run it unprivileged, run the service as the directory's owner: add `user: \"${UID:-1000}:${GID:-1000}\"` to service %s in the compose file",
			bind.Service, nonrootShortPath(bind.Mount.Source, p.Facts.Context), bind.Mount.Target, nonrootEvidence(writes), label, bind.Service)
		return
	}
	if in, tool := nonrootDropsPrivileges(p, sf); in != nil {
		p.NeedsHuman(in.Start, "%s starts as root and drops privileges itself (%s); its user is left as is", label, tool)
		return
	}
	if sys := sf.StartSystemWrites(); len(sys) > 0 {
		p.NeedsHuman(line, "%s writes to a system directory when it starts (%s), which only root may do, so %s keeps running as root. Make that path writable by an unprivileged account in the image, or write elsewhere, and the rule can switch the user", label, sys[0].Evidence, label)
		return
	}
	if in := nonrootUsesRootHome(sf); in != nil {
		p.NeedsHuman(in.Start, "%s keeps files under /root (or installs with pip --user), which a non-root user cannot read; move them elsewhere before switching user", label)
		return
	}
	if child := nonrootChildRuns(p.File, st); child != nil {
		p.NeedsHuman(child.From.Start, "%s is the base of %s, whose RUN steps would stop running as root; add the non-root USER by hand", label, nonrootLabel(child))
		return
	}
	var acct nonrootAccount
	if isWeb {
		acct = web.acct
	} else {
		var ok bool
		if acct, ok = nonrootChooseAccount(p, st, info); !ok {
			return
		}
	}
	nonrootEdit(p, st, acct)
	if len(priv) > 0 {
		p.Report(nonrootPortLine(priv[0], line), "%s listens on port %d (%s) and now runs as %s: Docker Engine 20.10 and later set net.ipv4.ip_unprivileged_port_start=0 in each container's network namespace, so an unprivileged user may bind it on compose's bridge network. On Kubernetes, set the pod sysctl net.ipv4.ip_unprivileged_port_start=0 (securityContext.sysctls) or add the NET_BIND_SERVICE capability",
			label, priv[0].Number, priv[0].Evidence, acct.user)
	}
}

// nonrootPortLine returns the Dockerfile line of a port's evidence, or def.
func nonrootPortLine(port facts.Port, def int) int {
	if port.Line > 0 {
		return port.Line
	}
	return def
}

// nonrootBindOverWrites returns a compose bind mount over the stage's
// WORKDIR (or a parent) and the directories the application writes inside
// it.
func nonrootBindOverWrites(sf *facts.StageFacts) (facts.BindOver, []facts.WritePath) {
	for _, b := range facts.BindMountsOver(sf, sf.Workdir(nil)) {
		var in []facts.WritePath
		for _, w := range sf.Writes() {
			if facts.Under(w.Path, path.Clean(b.Mount.Target)) {
				in = append(in, w)
			}
		}
		if len(in) > 0 {
			return b, in
		}
	}
	return facts.BindOver{}, nil
}

// nonrootEvidence lists the evidence of write paths for a finding.
func nonrootEvidence(ws []facts.WritePath) string {
	var parts []string
	for i, w := range ws {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, w.Path+" from "+w.Evidence)
	}
	return strings.Join(parts, "; ")
}

// nonrootShortPath shows a host path relative to the build context's
// parent when it is inside it (never an absolute path of this machine in
// the plan when avoidable).
func nonrootShortPath(p, context string) string {
	if context == "" {
		return p
	}
	return safefs.Rel(filepath.Dir(context), p)
}

// nonrootEdit writes the account creation, the ownership of what the
// application writes (nonrootOwnership) and the USER.
func nonrootEdit(p *Pass, st *dockerfile.Stage, acct nonrootAccount) {
	f := p.File
	ins := st.Instructions
	upper := f.UpperCase()
	kw := func(cmd string) string {
		if upper {
			return strings.ToUpper(cmd)
		}
		return cmd
	}
	// Where the account is created: before the first instruction that is
	// not metadata, or after the RUN it needs (createPos is the index of
	// the instruction it follows).
	at, createPos, afterRun := len(ins), -1, false
	if len(acct.create) > 0 {
		for i := 1; i < len(ins); i++ {
			if !nonrootMetadata(ins[i].Cmd) {
				at = i
				break
			}
		}
		createPos = at - 1
		if acct.after >= 0 && acct.after >= at {
			createPos, afterRun = acct.after, true
			at = acct.after + 1
		}
		acct.from = at
	}
	copies := nonrootCodeCopies(p.Stage(st), st, acct.from)
	own := nonrootOwnership(p, st, acct, copies)
	ownCmds := own.commands(acct.chown)
	if len(acct.create) > 0 {
		cmds := acct.create
		if len(ownCmds) > 0 && own.after <= createPos {
			cmds = append(slices.Clip(cmds), ownCmds...)
			ownCmds = nil
		}
		text := kw("run") + " " + (&dockerfile.Script{Commands: cmds}).Render(f.Escape) + "\n"
		switch {
		case afterRun || createPos == len(ins)-1:
			p.Edit(dockerfile.InsertAfter(ins[createPos], text))
		default:
			p.Edit(nonrootInsertBefore(f, ins[at], text))
		}
	}
	// The directories it writes, after what fills them.
	ownAt := -1
	if len(ownCmds) > 0 {
		ownAt = max(own.after, acct.from-1, createPos)
		text := kw("run") + " " + (&dockerfile.Script{Commands: ownCmds}).Render(f.Escape) + "\n"
		first := len(ins)
		for i := 1; i < len(ins); i++ {
			if !nonrootMetadata(ins[i].Cmd) {
				first = i
				break
			}
		}
		switch {
		case ownAt < 0 && first < len(ins):
			p.Edit(nonrootInsertBefore(f, ins[first], text))
		case ownAt < 0:
			ownAt = len(ins) - 1
			p.Edit(dockerfile.InsertAfter(ins[ownAt], text))
		default:
			p.Edit(dockerfile.InsertAfter(ins[ownAt], text))
		}
	}
	// The application's files: the account's only when it writes among them.
	for _, c := range copies {
		if own.given[c.i] {
			if e, ok := nonrootAddChown(f, c.in, acct.chown); ok {
				p.Edit(e)
			}
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
		if ownAt <= last {
			p.Edit(dockerfile.Replace(ins[last], userLine))
			return
		}
		p.Edit(dockerfile.Replace(ins[last], "")) // the USER goes after the ownership RUN
	}
	last = max(last, ownAt)
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

// nonrootChooseAccount picks the user: one the stage already switched to,
// one the Dockerfile creates, the image's own, a numeric id on images
// without a shell, or a new system account.
func nonrootChooseAccount(p *Pass, st *dockerfile.Stage, info facts.StageInfo) (nonrootAccount, bool) {
	line := st.From.Start
	created, unresolved := p.Stage(st).CreatedAccounts()
	if unresolved != nil {
		p.NeedsHuman(unresolved.Start, "%s creates a user this rule cannot name; switch to it with USER by hand", nonrootLabel(st))
		return nonrootAccount{}, false
	}
	// A non-root USER used earlier in the chain, e.g. before a final USER root.
	users := p.Stage(st).Instructions("user", nil)
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
	id := strconv.Itoa(p.Options.UID)
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
			in, ok := nonrootShadowUtils(p.Stage(st))
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
	for _, c := range cmds {
		acct.create = append(acct.create, dockerfile.NewCommand(c...))
	}
	return acct, true
}

func nonrootIndex(st *dockerfile.Stage, in *dockerfile.Instruction) int {
	return slices.Index(st.Instructions, in)
}

func nonrootLastUserLine(sf *facts.StageFacts, def int) int {
	if us := sf.Instructions("user", nil); len(us) > 0 {
		return us[len(us)-1].Start
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
