package facts

import (
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// StageFacts is what is known of one stage of one parse of a Dockerfile.
// Rules read it instead of walking stages themselves; Stages computes it
// once per stage and parse.
type StageFacts struct {
	Stage *dockerfile.Stage
	// Chain is the stage and the stages it builds on, root first (at most
	// 64 stages, the nearest ones).
	Chain []*dockerfile.Stage
	// Services are the compose services whose target is this stage.
	Services []Service
	// BuildArgs are the compose build args in effect: those of the
	// services that build the stage (the first service to set one wins),
	// or, for a stage no service targets, those of every service.
	BuildArgs map[string]string
	// Info is the base image, family and user of the stage.
	Info StageInfo
	// Derived are the later stages built on this one (FROM it, directly
	// or through other stages).
	Derived []*dockerfile.Stage

	env map[*dockerfile.Instruction]map[string]string
	idx *chainIndex
	// b and f are the build and parse, for the answers computed on demand
	// (Ports, Writes); ports and writes cache them.
	b      *Build
	f      *dockerfile.File
	ports  *[]Port
	writes *[]WritePath
	start  *startScan
	// development caches DevelopmentReason.
	development *string
}

// chainIndex places the instructions of a chain in order, so that what is
// in effect before one instruction (an ENV value, the USER, the earlier
// RUNs) is found without walking the chain again: rules ask at every RUN,
// and a walk each time made long Dockerfiles quadratic.
type chainIndex struct {
	pos   map[*dockerfile.Instruction]int
	n     int
	env   map[string][]setAt
	users []setAt
	// vars are the values of build args and ENV variables, expanded;
	// workdirs the working directory each WORKDIR leaves.
	vars     map[string][]setAt
	workdirs []setAt
	byCmd    map[string][]*dockerfile.Instruction
	cmdAt    map[string][]int
	// accounts is what the useradd/adduser commands of the chain's RUNs
	// create (nil until asked: it parses every RUN).
	accounts *accountScan
}

// accountScan is one reading of the useradd/adduser commands of a chain.
type accountScan struct {
	// first maps each account to the first call that creates it, last to
	// the last RUN that does.
	first map[string]userAddAt
	last  map[string]*dockerfile.Instruction
	// unreadable is the first RUN that calls useradd or adduser in a way
	// that cannot be read (a script the parser does not take apart, a
	// name from a variable).
	unreadable *dockerfile.Instruction
}

// userTool matches the account-creating commands.
var userTool = regexp.MustCompile(`\b(useradd|adduser)\b`)

func (sf *StageFacts) scanAccounts() *accountScan {
	x := sf.index()
	if x.accounts != nil {
		return x.accounts
	}
	a := &accountScan{first: map[string]userAddAt{}, last: map[string]*dockerfile.Instruction{}}
	for i, in := range x.byCmd["run"] {
		tool := userTool.MatchString(strings.Join(in.Args, " "))
		sc, ok := in.Script()
		if !ok {
			if tool && a.unreadable == nil {
				a.unreadable = in
			}
			continue
		}
		for _, c := range sc.Commands {
			ua, ok := ParseUserAdd(c)
			if _, seen := a.first[ua.Name]; ok && !seen {
				a.first[ua.Name] = userAddAt{x.cmdAt["run"][i], ua}
			}
			if !tool {
				continue
			}
			switch {
			case !ok && userTool.MatchString(c.Src), ok && (ua.Name == "" || !c.Literal):
				if a.unreadable == nil {
					a.unreadable = in
				}
			case ok:
				a.last[ua.Name] = in
			}
		}
	}
	x.accounts = a
	return a
}

// CreatedAccounts returns the accounts the chain's useradd/adduser
// commands create, by name, with the last RUN creating each. When a RUN
// calls them in a way that cannot be read, the accounts are not known: it
// returns that RUN (the first such) and no map. The map is shared by every
// caller: read it, do not change it.
func (sf *StageFacts) CreatedAccounts() (map[string]*dockerfile.Instruction, *dockerfile.Instruction) {
	a := sf.scanAccounts()
	if a.unreadable != nil {
		return nil, a.unreadable
	}
	return a.last, nil
}

// userAddAt is a useradd/adduser call of the RUN at position at.
type userAddAt struct {
	at int
	ua UserAdd
}

// setAt is a value set by the instruction at position at.
type setAt struct {
	at    int
	value string
}

func (sf *StageFacts) index() *chainIndex {
	if sf.idx != nil {
		return sf.idx
	}
	x := &chainIndex{pos: map[*dockerfile.Instruction]int{}, env: map[string][]setAt{}, byCmd: map[string][]*dockerfile.Instruction{}, cmdAt: map[string][]int{}, vars: map[string][]setAt{}}
	// Build-time values: the global ARG defaults and compose build args,
	// then each ARG's default (a compose build arg wins) and ENV value of
	// the chain, in order, expanded against the values before it.
	vars := GlobalArgs(sf.f, sf.BuildArgs)
	for k, v := range vars {
		x.vars[k] = []setAt{{-1, v}}
	}
	set := func(at int, k, v string) {
		vars[k] = v
		x.vars[k] = append(x.vars[k], setAt{at, v})
	}
	wd := "/"
	for _, s := range sf.Chain {
		for _, in := range s.Instructions {
			at := x.n
			x.n++
			if _, dup := x.pos[in]; !dup {
				x.pos[in] = at
			}
			switch {
			case in.Cmd == "env":
				for i := 0; i+1 < len(in.Args); i += 3 {
					x.env[in.Args[i]] = append(x.env[in.Args[i]], setAt{at, strings.Trim(in.Args[i+1], `"'`)})
					set(at, in.Args[i], expandValue(in.Args[i+1], vars))
				}
			case in.Cmd == "arg":
				for _, a := range in.Args {
					k, v, hasDefault := strings.Cut(a, "=")
					if cv, ok := sf.BuildArgs[k]; ok {
						set(at, k, cv)
					} else if hasDefault {
						set(at, k, expandValue(v, vars))
					}
				}
			case in.Cmd == "workdir" && len(in.Args) > 0:
				wd = JoinPath(wd, in.Args[0])
				x.workdirs = append(x.workdirs, setAt{at, wd})
			case in.Cmd == "user" && len(in.Args) > 0:
				x.users = append(x.users, setAt{at, in.Args[0]})
			}
			x.byCmd[in.Cmd] = append(x.byCmd[in.Cmd], in)
			x.cmdAt[in.Cmd] = append(x.cmdAt[in.Cmd], at)
			x.byCmd[""] = append(x.byCmd[""], in)
			x.cmdAt[""] = append(x.cmdAt[""], at)
		}
	}
	sf.idx = x
	return x
}

// before returns the position of the instruction in the chain, or the
// chain's length when it is nil or not in the chain.
func (x *chainIndex) before(in *dockerfile.Instruction) int {
	if at, ok := x.pos[in]; ok && in != nil {
		return at
	}
	return x.n
}

// last returns the value of the last set before position at.
func last(sets []setAt, at int) (string, bool) {
	i := sort.Search(len(sets), func(i int) bool { return sets[i].at >= at })
	if i == 0 {
		return "", false
	}
	return sets[i-1].value, true
}

// EnvValue returns the value ENV gives key in the chain before the
// instruction (in the whole chain when before is nil), as Env does, without
// building the whole environment.
func (sf *StageFacts) EnvValue(before *dockerfile.Instruction, key string) (string, bool) {
	x := sf.index()
	return last(x.env[key], x.before(before))
}

// Vars returns the build-time values in effect before the instruction (at
// the end of the chain when before is nil): the global ARG defaults and
// compose build args, then the ARG defaults (a compose build arg wins) and
// ENV values of the chain, each expanded with BuildKit's lexer against the
// values before it, quotes removed, as BuildKit computes them.
func (sf *StageFacts) Vars(before *dockerfile.Instruction) map[string]string {
	x := sf.index()
	at := x.before(before)
	vars := map[string]string{}
	for k, sets := range x.vars {
		if v, ok := last(sets, at); ok {
			vars[k] = v
		}
	}
	return vars
}

// Expand expands the build args and variables in effect before the
// instruction (Vars) in the word as written (Expand).
func (sf *StageFacts) Expand(word string, before *dockerfile.Instruction) string {
	return Expand(word, sf.Vars(before))
}

// DerivedRuns returns the RUN instructions of the stages built on this one
// (Derived), in file order.
func (sf *StageFacts) DerivedRuns() []*dockerfile.Instruction {
	var out []*dockerfile.Instruction
	for _, d := range sf.Derived {
		out = append(out, d.Find("run")...)
	}
	return out
}

// Workdir returns the working directory in effect before the instruction
// (at the end of the chain when before is nil): "/" unless a WORKDIR of
// the chain sets it. Variables in WORKDIR are left as written.
func (sf *StageFacts) Workdir(before *dockerfile.Instruction) string {
	x := sf.index()
	if wd, ok := last(x.workdirs, x.before(before)); ok {
		return wd
	}
	return "/"
}

// JoinPath returns the directory "WORKDIR p" leaves when the working
// directory is dir (p absolute replaces it).
func JoinPath(dir, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// Ports is the one answer to "which ports does this stage's application
// listen on" (listenPorts), computed once.
func (sf *StageFacts) Ports() []Port {
	if sf.ports == nil {
		p := sf.listenPorts()
		sf.ports = &p
	}
	return *sf.ports
}

// Writes returns the directories the stage's application writes at run
// time (AppWrites), computed once.
func (sf *StageFacts) Writes() []WritePath { return AppWrites(sf, sf.b) }

// Stages computes and caches the facts of the stages of one parse.
type Stages struct {
	b *Build
	f *dockerfile.File
	m map[int]*StageFacts
}

// NewStages returns the (lazily computed) stage facts of a parse of the
// build's Dockerfile.
func NewStages(b *Build, f *dockerfile.File) *Stages {
	return &Stages{b: b, f: f, m: map[int]*StageFacts{}}
}

// Of returns the facts of st, computing them on first use.
func (s *Stages) Of(st *dockerfile.Stage) *StageFacts {
	if sf, ok := s.m[st.Index]; ok {
		return sf
	}
	sf := &StageFacts{Stage: st, Chain: st.Chain(), b: s.b, f: s.f}
	sf.Services = s.b.StageServices(s.f, st)
	sf.BuildArgs = map[string]string{}
	from := sf.Services
	if len(from) == 0 {
		from = s.b.Services
	}
	for _, svc := range from {
		for k, v := range svc.Args {
			if _, ok := sf.BuildArgs[k]; !ok {
				sf.BuildArgs[k] = v
			}
		}
	}
	sf.Info = sf.info()
	for _, other := range s.f.Stages {
		for b := other.BaseStage; b != nil; b = b.BaseStage {
			if b == st {
				sf.Derived = append(sf.Derived, other)
				break
			}
		}
	}
	s.m[st.Index] = sf
	return sf
}

// Env returns the variables ENV sets in the chain before the instruction
// (in the whole chain when before is nil), last value wins, with the
// quotes around a value removed; values are not expanded.
func (sf *StageFacts) Env(before *dockerfile.Instruction) map[string]string {
	if sf.env == nil {
		sf.env = map[*dockerfile.Instruction]map[string]string{}
	}
	if e, ok := sf.env[before]; ok {
		return e
	}
	x := sf.index()
	at := x.before(before)
	env := map[string]string{}
	for k, sets := range x.env {
		if v, ok := last(sets, at); ok {
			env[k] = v
		}
	}
	sf.env[before] = env
	return env
}

// User returns the USER in effect before the instruction (at the end of
// the stage when before is nil); "" is the image's default user.
func (sf *StageFacts) User(before *dockerfile.Instruction) string {
	x := sf.index()
	user, _ := last(x.users, x.before(before))
	return user
}

// Instructions returns the instructions of the chain with the command
// (every instruction when cmd is ""), root stage first, up to (not
// including) before when it is not nil.
// The result shares its array with other calls: append to it only through
// a copy (its capacity is its length, so append copies).
func (sf *StageFacts) Instructions(cmd string, before *dockerfile.Instruction) []*dockerfile.Instruction {
	x := sf.index()
	at := x.before(before)
	n := sort.SearchInts(x.cmdAt[cmd], at)
	if n == 0 {
		return nil
	}
	return x.byCmd[cmd][:n:n]
}

// UserExists is the one answer to "does this user exist in the stage"
// before the instruction (in the whole chain when before is nil): a
// numeric uid always does (the kernel needs no account), a name does when
// the base image ships it (image facts table, or the inspected image) or a
// useradd/adduser of the chain creates it.
func (sf *StageFacts) UserExists(user string, before *dockerfile.Instruction) bool {
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "root" {
		return true
	}
	if _, err := strconv.Atoi(name); err == nil {
		return true
	}
	if _, ok := sf.Info.Base.Account(name); ok {
		return true
	}
	_, ok := sf.UserAdded(name, before)
	return ok
}

// UserAdded returns the first useradd/adduser of the chain's RUNs, before
// the instruction (in the whole chain when before is nil), that creates
// the account name. The RUNs are parsed once per stage, not at every
// question.
func (sf *StageFacts) UserAdded(name string, before *dockerfile.Instruction) (UserAdd, bool) {
	x := sf.index()
	a, ok := sf.scanAccounts().first[name]
	if !ok || a.at >= x.before(before) {
		return UserAdd{}, false
	}
	return a.ua, true
}
