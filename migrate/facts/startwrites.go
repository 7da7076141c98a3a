package facts

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/composeopt/composeopt/migrate/safefs"
	"mvdan.cc/sh/v3/syntax"
)

// Start scripts: the shell scripts a container runs when it starts
// (docker-entrypoint.sh, start.sh...) often write inside the application
// before they exec the server: collectstatic, migrations on SQLite, a
// build, mkdir -p logs, a config file written with envsubst or sed -i. The
// image's build never runs them, so only reading them tells.

// Bounds of the start-script scan.
const (
	startScriptMax   = 256 << 10 // a larger "script" is not one
	startScriptDepth = 3         // nested scripts and sh -c: the start script, what it runs or sources, and theirs
	startScriptCount = 16        // scripts read per stage
)

// startScan is what a stage's start commands and the scripts they run
// write: literal paths (writes) and writes the facts cannot place (doubts).
type startScan struct {
	scripts []StartScript
	writes  []sourceWrite
	doubts  []WriteDoubt
	// system are writes outside the code to directories where only root
	// may create files (PathClass.RootOnly: /etc, /usr, /root, a file
	// directly in /var/log...), which no other account may make.
	system []WriteDoubt
}

// StartScript is a shell script of the build context that a container
// runs when it starts.
type StartScript struct {
	Path string // context-relative, slash-separated
	Text string
}

// StartScripts returns the shell scripts of the context the stage's
// container runs when it starts: those its start commands
// (StartCommandLines) run, and the scripts those run or source
// (startScriptDepth levels), in the order they are met. The slice is shared: read it, do not change it.
func (sf *StageFacts) StartScripts() []StartScript { return sf.startScan().scripts }

func (sf *StageFacts) startScan() *startScan {
	if sf.start != nil {
		return sf.start
	}
	s := &startScanner{sf: sf, b: sf.b, out: &startScan{}, seen: map[string]bool{}, vars: map[string]string{}, printer: syntax.NewPrinter()}
	s.prepare()
	for _, c := range sf.StartCommandLines() {
		ctx := &scriptCtx{where: c.Where, cwd: s.workdir, vars: maps.Clone(s.vars)}
		if c.JSON {
			s.argv(c.Args, ctx, 0)
		} else {
			s.inline(strings.Join(c.Args, " "), ctx, 0)
		}
	}
	sf.start = s.out
	return s.out
}

// startScanner reads one stage's start commands.
type startScanner struct {
	sf      *StageFacts
	b       *Build
	out     *startScan
	seen    map[string]bool
	workdir string
	// code are the directories the stage's code is copied into (WORKDIR
	// and the COPY/ADD destinations not RootOnly (ClassifyPath)), mounts
	// the compose volume targets (not the image's).
	code, mounts []string
	// vars are the run-time variables known before a script runs (ENV,
	// the compose environment).
	vars   map[string]string
	sqlite bool
	// printer prints a parameter expansion for Expand.
	printer *syntax.Printer
}

// scriptCtx is where a command runs: the script (or instruction) it is
// in, the working directory ("" when the script changed it to something
// unknown) and the variables set so far.
type scriptCtx struct {
	where string // "CMD", "compose service web command", "start.sh"
	rel   string // the script's context-relative path ("" for an instruction)
	lines []string
	cwd   string
	vars  map[string]string
}

func (s *startScanner) prepare() {
	sf := s.sf
	s.workdir = sf.Workdir(nil)
	if s.workdir != "/" {
		s.code = append(s.code, s.workdir)
	}
	for _, in := range sf.Instructions("", nil) {
		if (in.Cmd != "copy" && in.Cmd != "add") || len(in.Args) < 2 {
			continue
		}
		raw := in.Args[len(in.Args)-1]
		dest := JoinPath(sf.Workdir(in), raw)
		if !strings.HasSuffix(raw, "/") && len(in.Args) == 2 && !in.HasFlag("from") && !s.isContextDir(in.Args[0]) {
			dest = path.Dir(dest) // one file copied under its name
		}
		if !ClassifyPath(dest).RootOnly() && !slices.Contains(s.code, dest) {
			s.code = append(s.code, dest)
		}
	}
	vars := sf.Vars(nil)
	for k := range sf.Env(nil) {
		s.vars[k] = vars[k]
	}
	for _, svc := range sf.Services {
		for k, v := range svc.Environment {
			if _, ok := s.vars[k]; !ok {
				s.vars[k] = v
			}
		}
		for _, m := range svc.Mounts {
			if m.Target != "" {
				s.mounts = append(s.mounts, path.Clean(m.Target))
			}
		}
	}
	for _, v := range s.vars {
		if strings.Contains(strings.ToLower(v), "sqlite") {
			s.sqlite = true
		}
	}
	if s.b != nil && s.b.sqlite {
		s.sqlite = true
	}
}

// isContextDir reports whether a COPY source names a directory of the
// context (not followed through links).
func (s *startScanner) isContextDir(src string) bool {
	src = path.Clean("/" + src)
	if src == "/" {
		return true
	}
	if s.b == nil || s.b.Context == "" {
		return false
	}
	p := filepath.Join(s.b.Context, filepath.FromSlash(src))
	if _, ok := safefs.Within(s.b.Context, p); !ok {
		return false
	}
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// word is one shell word: its value when every part of it is known
// (literal, or a variable the scan knows), otherwise the literal text
// before the first unknown part and the name of that part's variable.
type word struct {
	val    string
	ok     bool
	prefix string
	first  string
}

// argv reads a command given as words (an exec-form instruction, a compose
// command): no shell expands them.
func (s *startScanner) argv(args []string, ctx *scriptCtx, depth int) {
	ws := make([]word, len(args))
	for i, a := range args {
		ws[i] = word{val: a, ok: true}
	}
	s.command(ws, strings.Join(args, " "), 0, ctx, depth)
}

// inline reads shell text run by an instruction or sh -c.
func (s *startScanner) inline(src string, ctx *scriptCtx, depth int) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		s.doubt(ctx, 0, src, "a shell command the scan cannot read")
		return
	}
	c := *ctx
	c.lines = nil
	s.walk(f, src, &c, depth)
}

// script reads a start script of the context.
func (s *startScanner) script(rel string, data []byte, parent *scriptCtx, sourced bool, depth int) {
	s.out.scripts = append(s.out.scripts, StartScript{Path: rel, Text: string(data)})
	if bytes.HasPrefix(data, []byte("#!")) && !shellShebang.Match(data) {
		return // a Python or Node program named start.sh is not a shell script
	}
	ctx := &scriptCtx{where: rel, rel: rel, lines: strings.Split(string(data), "\n"), cwd: parent.cwd, vars: parent.vars}
	if !sourced {
		ctx.vars = maps.Clone(parent.vars)
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(data), rel)
	if err != nil {
		s.doubt(ctx, 0, "", "a start script the scan cannot read ("+err.Error()+")")
		return
	}
	s.walk(f, string(data), ctx, depth)
	if sourced {
		parent.cwd = ctx.cwd
	}
}

// walk visits a parsed script's commands in order.
func (s *startScanner) walk(f *syntax.File, src string, ctx *scriptCtx, depth int) {
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Stmt:
			for _, r := range n.Redirs {
				switch r.Op {
				case syntax.RdrOut, syntax.AppOut, syntax.RdrClob, syntax.RdrAll, syntax.AppAll:
					s.target(s.word(r.Word, ctx), true, ctx, int(n.Pos().Line()), span(src, n))
				}
			}
		case *syntax.DeclClause:
			for _, a := range n.Args {
				s.assign(a, ctx)
			}
		case *syntax.CallExpr:
			if len(n.Args) == 0 {
				for _, a := range n.Assigns {
					s.assign(a, ctx)
				}
				return true
			}
			ws := make([]word, len(n.Args))
			for i, a := range n.Args {
				ws[i] = s.word(a, ctx)
			}
			s.command(ws, span(src, n), int(n.Pos().Line()), ctx, depth)
		}
		return true
	})
}

func span(src string, n syntax.Node) string {
	a, b := int(n.Pos().Offset()), int(n.End().Offset())
	if a < 0 || b > len(src) || a > b {
		return ""
	}
	return src[a:b]
}

func (s *startScanner) assign(a *syntax.Assign, ctx *scriptCtx) {
	if a.Name == nil {
		return
	}
	if a.Value == nil {
		if a.Naked {
			return // export NAME: the value is unchanged
		}
		ctx.vars[a.Name.Value] = ""
		return
	}
	if w := s.word(a.Value, ctx); w.ok {
		ctx.vars[a.Name.Value] = w.val
	} else {
		delete(ctx.vars, a.Name.Value)
	}
}

// word evaluates a shell word with the variables known: its quoted and
// literal parts as written, each parameter expansion ($NAME, ${NAME:-x},
// ${NAME#x}...) by Expand, BuildKit's lexer, which the Dockerfile's words
// also go through ($PWD is the working directory when known).
func (s *startScanner) word(w *syntax.Word, ctx *scriptCtx) word {
	var b strings.Builder
	out := word{ok: true}
	var parts func([]syntax.WordPart) bool
	parts = func(ps []syntax.WordPart) bool {
		for _, p := range ps {
			switch p := p.(type) {
			case *syntax.Lit:
				b.WriteString(p.Value)
			case *syntax.SglQuoted:
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				if !parts(p.Parts) {
					return false
				}
			case *syntax.ParamExp:
				v, ok := s.param(p, ctx)
				if !ok {
					if p.Param != nil {
						out.first = p.Param.Value
					}
					return false
				}
				b.WriteString(v)
			default:
				return false
			}
		}
		return true
	}
	if w == nil || !parts(w.Parts) {
		out.ok = false
		out.prefix = b.String()
		return out
	}
	out.val = b.String()
	return out
}

// param expands one parameter expansion with Expand (quotes removed, as
// the shell does); ok is false when its value depends on a variable
// the scan does not know. A variable the script set empty is empty (Expand
// takes an empty value for an unset one, as for an ARG without default).
func (s *startScanner) param(p *syntax.ParamExp, ctx *scriptCtx) (string, bool) {
	vars := ctx.vars
	if p.Param == nil {
		return "", false
	}
	name := p.Param.Value
	if name == "PWD" && ctx.cwd != "" {
		vars = maps.Clone(vars)
		vars["PWD"] = ctx.cwd
	}
	if v, known := vars[name]; known && v == "" && p.Exp == nil && p.Index == nil && p.Slice == nil && p.Repl == nil && !p.Length && !p.Excl {
		return "", true
	}
	var text strings.Builder
	if err := s.printer.Print(&text, p); err != nil {
		return "", false
	}
	v := expandValue(text.String(), vars)
	return v, !strings.Contains(v, "$")
}

// startWrappers run the command after them (or after "--").
var startWrappers = map[string]bool{"exec": true, "nohup": true, "command": true, "time": true, "tini": true, "dumb-init": true, "env": true, "nice": true}

// shells are the shells a script is run with.
var shells = map[string]bool{"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true}

// command reads one simple command of a start script or start command.
func (s *startScanner) command(ws []word, text string, line int, ctx *scriptCtx, depth int) {
	for len(ws) > 0 {
		if !ws[0].ok {
			return // "$@" and other computed commands: what runs is the CMD, read on its own
		}
		name := path.Base(ws[0].val)
		if i := slices.IndexFunc(ws, func(w word) bool { return w.ok && w.val == "--" }); i > 0 && (strings.HasPrefix(name, "wait-for") || name == "dockerize" || name == "tini" || name == "dumb-init") {
			// wait-for-it.sh db:5432 -- ./start.sh: the wrapper (read if it
			// is a script of the context), then the command it runs.
			if strings.HasSuffix(name, ".sh") {
				s.follow(ws[0], ctx, depth, runCommand)
			}
			ws = ws[i+1:]
			continue
		}
		if !startWrappers[name] {
			break
		}
		ws = ws[1:]
		for len(ws) > 0 && ws[0].ok && (strings.HasPrefix(ws[0].val, "-") || name == "env" && strings.Contains(ws[0].val, "=")) {
			ws = ws[1:]
		}
	}
	if len(ws) == 0 {
		return
	}
	name := path.Base(ws[0].val)
	args := ws[1:]
	switch {
	case name == "cd":
		switch {
		case len(args) == 0 || !args[0].ok || ctx.cwd == "":
			ctx.cwd = ""
		default:
			ctx.cwd = JoinPath(ctx.cwd, args[0].val)
		}
		return
	case name == "." || name == "source":
		if len(args) > 0 {
			s.follow(args[0], ctx, depth, runSourced)
		}
		return
	case shells[name]:
		for i := 0; i < len(args); i++ {
			if args[i].ok && args[i].val == "-c" {
				switch {
				case i+1 >= len(args):
				case !args[i+1].ok && args[i+1].prefix == "" && (args[i+1].first == "@" || args[i+1].first == "*"):
					// sh -c "$@": the CMD, read on its own
				case !args[i+1].ok || depth >= startScriptDepth:
					s.doubt(ctx, line, text, "")
				default:
					s.inline(args[i+1].val, ctx, depth+1)
				}
				return
			}
			if !args[i].ok || !strings.HasPrefix(args[i].val, "-") {
				s.follow(args[i], ctx, depth, runArg)
				return
			}
		}
		return
	}
	if s.follow(ws[0], ctx, depth, runCommand) {
		return
	}
	s.known(ws, text, line, ctx)
}

// startTool are commands known to write inside the application's tree
// when they run at start; sqlite: only when the application uses SQLite
// (a migration otherwise writes to a database server).
var startTool = []struct {
	re     *regexp.Regexp
	sqlite bool
}{
	{regexp.MustCompile(`manage\.py\s+(?:collectstatic|compilemessages|compress)\b`), false},
	{regexp.MustCompile(`manage\.py\s+(?:migrate|syncdb|createcachetable|loaddata|flush)\b`), true},
	{regexp.MustCompile(`\balembic\b.*\bupgrade\b`), true},
	{regexp.MustCompile(`\bflask\s+db\s+(?:upgrade|migrate|init)\b`), true},
	{regexp.MustCompile(`\b(?:rails|rake)\s+db:\S+`), true},
	{regexp.MustCompile(`\b(?:rails|rake)\s+assets:precompile\b`), false},
	{regexp.MustCompile(`\bartisan\s+migrate\b`), true},
	{regexp.MustCompile(`\bartisan\s+(?:config:cache|route:cache|view:cache|event:cache|optimize|storage:link|key:generate)\b`), false},
	{regexp.MustCompile(`\bcomposer(?:\.phar)?\s+(?:install|update|require|dump-autoload|dumpautoload)\b`), false},
	{regexp.MustCompile(`^(?:npm|pnpm|yarn|bun)\s+(?:install|ci|i|add)\b`), false},
	{regexp.MustCompile(`^(?:npm|pnpm|yarn|bun)\s+(?:run\s+|run-script\s+)?(?:build|compile|generate|export)\S*`), false},
	{regexp.MustCompile(`\b(?:next|nuxt|nuxi|vite|ng|gatsby|astro|remix|parcel)\s+(?:build|generate|export)\b`), false},
	{regexp.MustCompile(`^(?:npx\s+)?(?:tsc|webpack)\b`), false},
	{regexp.MustCompile(`\bprisma\s+(?:migrate|db\s+push)\b`), true},
	{regexp.MustCompile(`\b(?:sequelize(?:-cli)?\s+db:migrate|knex\s+migrate|typeorm\s+migration:run)`), true},
	{regexp.MustCompile(`^bundle\s+install\b`), false},
	{regexp.MustCompile(`\bpip3?\s+install\s+(?:-e|--editable)\b`), false},
}

// known reads a command that is not a script: a tool known to write inside
// the application, or a command writing the files it names.
func (s *startScanner) known(ws []word, text string, line int, ctx *scriptCtx) {
	vals := make([]string, len(ws))
	for i, w := range ws {
		vals[i] = w.val
		if !w.ok {
			vals[i] = "$" + w.first
		}
	}
	vals[0] = path.Base(vals[0])
	joined := strings.Join(vals, " ")
	for _, t := range startTool {
		if t.re.MatchString(joined) && (!t.sqlite || s.sqlite) {
			s.doubt(ctx, line, text, "")
			return
		}
	}
	args := ws[1:]
	operands := func(skipValue string) []word {
		var out []word
		for i := 0; i < len(args); i++ {
			if args[i].ok && strings.HasPrefix(args[i].val, "-") && args[i].val != "-" {
				if strings.ContainsAny(args[i].val, skipValue) && len(args[i].val) == 2 {
					i++ // the flag's value
				}
				continue
			}
			out = append(out, args[i])
		}
		return out
	}
	switch vals[0] {
	case "mkdir":
		for _, w := range operands("m") {
			s.target(w, false, ctx, line, text)
		}
	case "touch", "truncate":
		for _, w := range operands("dtrs") {
			s.target(w, true, ctx, line, text)
		}
	case "tee", "rm", "rmdir":
		for _, w := range operands("") {
			s.target(w, true, ctx, line, text)
		}
	case "cp", "mv", "ln", "install", "rsync":
		if ops := operands("Sgmo"); len(ops) >= 2 {
			s.target(ops[len(ops)-1], true, ctx, line, text)
		}
	case "chmod", "chgrp":
		if ops := operands(""); len(ops) >= 2 {
			for _, w := range ops[1:] {
				s.target(w, true, ctx, line, text)
			}
		}
	case "sed", "perl":
		inPlace, script := false, false
		for _, a := range args {
			if a.ok && (strings.HasPrefix(a.val, "-i") || strings.HasPrefix(a.val, "--in-place") || vals[0] == "perl" && strings.HasPrefix(a.val, "-") && strings.Contains(a.val, "i")) {
				inPlace = true
			}
			if a.ok && (a.val == "-e" || a.val == "-f" || strings.HasPrefix(a.val, "--expression") || vals[0] == "perl" && strings.HasPrefix(a.val, "-") && strings.Contains(a.val, "e")) {
				script = true
			}
		}
		if !inPlace {
			return
		}
		ops := operands("ef")
		if !script && len(ops) > 0 {
			ops = ops[1:]
		}
		for _, w := range ops {
			s.target(w, true, ctx, line, text)
		}
	case "curl", "wget":
		for i, a := range args {
			if a.ok && (a.val == "-o" || a.val == "-O" && vals[0] == "wget" || a.val == "--output" || a.val == "--output-document") && i+1 < len(args) {
				s.target(args[i+1], true, ctx, line, text)
			}
		}
	}
}

// target places a path a start command writes: a literal path inside the
// code, or in a directory of its own (/data), is a write; a path computed
// from variables the scan does not know, or a relative one where the
// working directory is unknown, is a doubt. A path known up to a variable
// part ("logs/$(date).log", "uploads/*") writes in the directory known.
// Scratch directories (/tmp, /dev: PathScratch) and the compose volumes
// are neither; a write outside the code where only root may create files
// (PathClass.RootOnly) is a system write.
func (s *startScanner) target(w word, file bool, ctx *scriptCtx, line int, text string) {
	p := w.val
	if !w.ok {
		if w.prefix == "" || strings.HasPrefix(w.prefix, "~") {
			switch {
			case strings.HasPrefix(w.prefix, "~"), w.first == "HOME", w.first == "TMPDIR", w.first == "TMP", w.first == "TEMP", strings.HasPrefix(w.first, "XDG_"):
				return
			}
			s.doubt(ctx, line, text, "")
			return
		}
		p = w.prefix
	}
	if p == "" || strings.HasPrefix(p, "~") || p == "-" {
		return
	}
	if strings.HasSuffix(p, "/") {
		file = false // cp x dir/: into the directory
	}
	if i := strings.IndexAny(p, "*?["); i >= 0 || !w.ok {
		if i < 0 {
			i = len(p)
		}
		p = p[:strings.LastIndex(p[:i], "/")+1]
		file = false
		if p == "" {
			p = "."
		}
	}
	if !path.IsAbs(p) {
		if ctx.cwd == "" {
			s.doubt(ctx, line, text, "")
			return
		}
		p = JoinPath(ctx.cwd, p)
	}
	p = path.Clean(p)
	if s.outside(p) {
		return
	}
	if p == "/" && !file {
		s.doubt(ctx, line, text, "") // "/$APP_DIR/...": anywhere
		return
	}
	dir := p
	if file {
		dir = path.Dir(p)
	}
	if !s.inCode(p) && ClassifyPath(dir).RootOnly() {
		s.out.system = append(s.out.system, WriteDoubt{Evidence: s.evidence(ctx, line, text)})
		return
	}
	s.out.writes = append(s.out.writes, sourceWrite{Path: p, file: file, Evidence: s.evidence(ctx, line, text)})
}

// StartSystemWrites returns the writes a stage's start commands make
// outside the code where only root may create files (PathClass.RootOnly:
// /etc, /usr, /root, a file directly in /var/log, /run or /), each with its script
// and line: a container that makes them cannot start as an unprivileged
// user. Empty when there are none.
func (sf *StageFacts) StartSystemWrites() []WriteDoubt { return sf.startScan().system }

// outside reports whether a write to p is no concern of the code's owner:
// a scratch directory or a compose volume.
func (s *startScanner) outside(p string) bool {
	if ClassifyPath(p) == PathScratch {
		return true
	}
	for _, m := range s.mounts {
		if Under(p, m) {
			return true
		}
	}
	return false
}

func (s *startScanner) inCode(p string) bool {
	for _, c := range s.code {
		if Under(p, c) {
			return true
		}
	}
	return false
}

func (s *startScanner) evidence(ctx *scriptCtx, line int, text string) string {
	if ctx.lines != nil && line > 0 && line <= len(ctx.lines) {
		text = ctx.lines[line-1]
	}
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > 100 {
		text = text[:97] + "..."
	}
	if ctx.rel != "" && line > 0 {
		return fmt.Sprintf("%s:%d, run at start: %s", ctx.rel, line, text)
	}
	return fmt.Sprintf("%s, run at start: %s", ctx.where, text)
}

func (s *startScanner) doubt(ctx *scriptCtx, line int, text, what string) {
	ev := s.evidence(ctx, line, text)
	if what != "" {
		ev = fmt.Sprintf("%s: %s", ctx.where, what)
	}
	for _, d := range s.out.doubts {
		if d.Evidence == ev {
			return
		}
	}
	s.out.doubts = append(s.out.doubts, WriteDoubt{Evidence: ev})
}

// shellShebang matches the first line of a shell script.
var shellShebang = regexp.MustCompile(`^#!\s*\S*/(?:env\s+)?(?:ba|da|a|z)?sh\b`)

// How a script is run: as a command (found on PATH or by its path; a
// file without .sh must start with a shell's #! line), as a shell's
// argument (sh start), or sourced (. ./env.sh: its variables and cd stay).
const (
	runCommand = iota
	runArg
	runSourced
)

// follow reads the script a start command runs or sources, when it is a
// file of the context; it reports whether the word named one. A script
// past the scan's depth is a doubt.
func (s *startScanner) follow(w word, ctx *scriptCtx, depth, how int) bool {
	if !w.ok || w.val == "" || s.b == nil || s.b.Context == "" {
		return false
	}
	p := w.val
	base := path.Base(p)
	scriptLike := strings.HasSuffix(base, ".sh") || strings.HasSuffix(base, ".bash") || strings.Contains(base, "entrypoint")
	if !scriptLike && !strings.Contains(p, "/") && how == runCommand {
		return false // a program on PATH
	}
	rel := s.resolve(p, ctx)
	if rel == "" {
		return false
	}
	if s.seen[rel] {
		return true
	}
	data, ok := s.b.readScript(rel)
	if !ok || !scriptLike && how == runCommand && !shellShebang.Match(data) {
		return false
	}
	if depth >= startScriptDepth || len(s.seen) >= startScriptCount {
		s.doubt(ctx, 0, "", rel+", a start script past the scan's depth")
		return true
	}
	s.seen[rel] = true
	s.script(rel, data, ctx, how == runSourced, depth+1)
	return true
}

// resolve finds the context file a container path names: through the
// chain's COPY/ADD instructions from the context, then as a path of the
// context itself (relative to the script naming it, or as written), then,
// for a bare name, a file of that name directly in the context or one
// level below.
func (s *startScanner) resolve(p string, ctx *scriptCtx) string {
	var abs string
	switch {
	case path.IsAbs(p):
		abs = path.Clean(p)
	case ctx.cwd != "" && (strings.Contains(p, "/") || ctx.rel != ""):
		abs = JoinPath(ctx.cwd, p)
	}
	if abs != "" {
		if rel := s.fromCopies(abs); rel != "" {
			return rel
		}
	}
	if !strings.Contains(p, "/") {
		if rel := s.fromCopies("/*/" + p); rel != "" {
			return rel
		}
	}
	var cands []string
	if ctx.rel != "" && !path.IsAbs(p) {
		cands = append(cands, path.Join(path.Dir(ctx.rel), p))
	}
	if !path.IsAbs(p) {
		cands = append(cands, path.Clean(p))
	}
	for _, c := range cands {
		if c != "." && !strings.HasPrefix(c, "../") && s.b.isFile(c) {
			return c
		}
	}
	if !strings.Contains(p, "/") {
		for _, rel := range slices.Sorted(maps.Keys(s.b.Files)) {
			if path.Base(rel) == p && s.b.isFile(rel) {
				return rel
			}
		}
	}
	return ""
}

// fromCopies maps a container path to the context file the chain copies
// there (the last COPY wins); "/*/name" is a bare command name, found on
// PATH: any single file copied under that name.
func (s *startScanner) fromCopies(abs string) string {
	ins := s.sf.Instructions("", nil)
	for i := len(ins) - 1; i >= 0; i-- {
		in := ins[i]
		if (in.Cmd != "copy" && in.Cmd != "add") || len(in.Args) < 2 || in.HasFlag("from") {
			continue
		}
		rawDest := in.Args[len(in.Args)-1]
		dest := JoinPath(s.sf.Workdir(in), rawDest)
		srcs := in.Args[:len(in.Args)-1]
		destDir := strings.HasSuffix(rawDest, "/") || len(srcs) > 1
		for _, src := range srcs {
			if strings.Contains(src, "://") {
				continue
			}
			clean := strings.TrimPrefix(path.Clean("/"+src), "/")
			var rel string
			switch {
			case s.isContextDir(src):
				if bare, ok := strings.CutPrefix(abs, "/*/"); ok {
					rel = path.Join(clean, bare)
				} else if Under(abs, dest) {
					rel = path.Join(clean, strings.TrimPrefix(strings.TrimPrefix(abs, dest), "/"))
				}
			case strings.HasPrefix(abs, "/*/"):
				if path.Base(clean) == abs[3:] && destDir || path.Base(dest) == abs[3:] {
					rel = clean
				}
			case destDir && abs == path.Join(dest, path.Base(clean)), !destDir && abs == dest:
				rel = clean
			}
			if rel != "" && rel != "." && s.b.isFile(rel) {
				return rel
			}
		}
	}
	return ""
}

// isFile reports whether rel is a regular file of the context (no link
// followed out of it).
func (b *Build) isFile(rel string) bool {
	if b == nil || b.Context == "" {
		return false
	}
	p := filepath.Join(b.Context, filepath.FromSlash(rel))
	if _, ok := safefs.Within(b.Context, p); !ok {
		return false
	}
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

// readScript reads a start script of the context through the confined
// root: a regular file of at most startScriptMax bytes.
func (b *Build) readScript(rel string) ([]byte, bool) {
	if b.root == nil {
		root, err := safefs.New(b.Context)
		if err != nil {
			return nil, false
		}
		b.root = root
	}
	p := filepath.Join(b.Context, filepath.FromSlash(rel))
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() || fi.Size() > startScriptMax {
		return nil, false
	}
	data, err := b.root.ReadFile(safefs.Source, p)
	if err != nil || len(data) > startScriptMax {
		return nil, false
	}
	return data, true
}

// namesSQLite reports whether a file names SQLite.
func namesSQLite(data []byte) bool {
	return bytes.Contains(data, []byte("sqlite")) || bytes.Contains(data, []byte("SQLite")) || bytes.Contains(data, []byte("SQLITE"))
}
