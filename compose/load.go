package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"go.yaml.in/yaml/v3"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/parallel"
	"github.com/composeopt/composeopt/migrate/safefs"
)

// loads counts the compose-go loads of this process (see Loads).
var loads atomic.Int64

// Loads returns how many times this process has loaded a compose project
// with compose-go: once per Load, and once per verification of compose
// edits. A counter for tests that check the planner's design (one load and
// one verifying reload per plan, whatever the number of services), not a
// timing.
func Loads() int64 { return loads.Load() }

// Load reads the compose project described by opts the way `docker compose`
// does and collects its services and local builds.
func Load(ctx context.Context, opts Options) (*Project, error) {
	ld, err := loadModel(ctx, opts)
	if err != nil {
		return nil, err
	}
	p := &Project{
		Name:     ld.model.Name,
		Dir:      ld.dir,
		Files:    ld.files,
		Warnings: ld.warnings,
	}

	p.Root = ld.root
	loc, err := newLocator(ld.root, ld.dir, ld.files, ld.env, ld.parsed)
	if err != nil {
		return nil, err
	}
	all := ld.model.AllServices()
	names := orderServices(loc.serviceOrder(), all)
	if len(opts.Services) > 0 {
		for _, n := range opts.Services {
			if _, ok := all[n]; !ok {
				return nil, fmt.Errorf("no such service: %s (project %s)", n, p.Name)
			}
		}
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(opts.Services, n) })
	}

	chains := map[string][]buildElem{}
	for _, n := range slices.Sorted(maps.Keys(all)) {
		if all[n].Build == nil {
			continue
		}
		c, err := loc.chain(n)
		if err != nil {
			return nil, err
		}
		chains[n] = c
	}

	p.state = &loadState{opts: ld.opts, model: ld.model, loc: loc, chains: chains, vars: map[string]*DockerfileVar{}}
	env := newVarEnv(ld.opts.EnvFiles, ld.dir, loc.files)
	byKey := map[[2]string]*Build{}
	headers := &headerCache{m: map[string]headerResult{}}
	svcs := make([]*Service, len(names))
	for i, n := range names {
		sc := all[n]
		svcs[i] = convertService(n, sc, p.Dir)
		p.Warnings = append(p.Warnings, envFileWarnings(n, sc)...)
	}
	if len(svcs) > 0 {
		p.Services = svcs
	}
	// Resolving a build is a few checks and reads of its files, independent
	// of the other builds: they run on every core (one core took 35 ms for
	// 1,000 services, all of it after compose-go's load and before any
	// planning), and are then taken in service order.
	type resolved struct {
		b    *Build
		skip *Skip
	}
	res := make([]resolved, len(names))
	parallel.For(len(names), nil, func(i int) {
		b, skip := resolveBuild(ld.root, svcs[i], chains[names[i]], env, headers)
		res[i] = resolved{b, skip}
	})
	for i, n := range names {
		b, skip := res[i].b, res[i].skip
		if skip != nil {
			p.Skipped = append(p.Skipped, *skip)
			continue
		}
		if b.Var != nil {
			p.state.vars[n] = b.Var
		}
		p.Builds = addBuild(byKey, p.Builds, n, b)
	}
	markSharedContexts(ld.root, p.Builds, all, chains, headers)
	return p, nil
}

// addBuild adds service name's resolved build b to builds, or merges it
// into the build of the same context and Dockerfile already there.
func addBuild(byKey map[[2]string]*Build, builds []*Build, name string, b *Build) []*Build {
	key := [2]string{b.Context, b.Dockerfile}
	prev, ok := byKey[key]
	if !ok {
		byKey[key] = b
		return append(builds, b)
	}
	prev.Services = append(prev.Services, name)
	if prev.Ref == RefOK {
		prev.Ref = b.Ref
	}
	if !slices.Contains(prev.Targets, b.Targets[0]) {
		prev.Targets = append(prev.Targets, b.Targets[0])
	}
	return builds
}

// newVarEnv is what classifyDockerfileVar reads: the env files (the
// project's .env when none is given) and the compose files' texts.
func newVarEnv(envFiles []string, dir string, files map[string]*yamlFile) *varEnv {
	env := &varEnv{envFiles: envFiles, texts: map[string][]byte{}}
	if len(env.envFiles) == 0 && isRegular(filepath.Join(dir, ".env")) {
		env.envFiles = []string{filepath.Join(dir, ".env")}
	}
	for path, f := range files {
		env.texts[path] = f.src
	}
	return env
}

// markSharedContexts sets SharedContext on every build whose context
// another build of the project also uses: any service of the model, named
// or not, including builds composeopt skips (dockerfile_inline, a
// dockerfile: from a variable, a missing Dockerfile). Such a sibling reads
// <context>/.dockerignore too, so the context's own ignore file must not be
// changed for one build.
func markSharedContexts(root *safefs.Root, builds []*Build, all types.Services, chains map[string][]buildElem, headers *headerCache) {
	users := map[string]map[string]bool{} // context → Dockerfiles (or inline markers) building it
	add := func(ctx, df string) {
		if users[ctx] == nil {
			users[ctx] = map[string]bool{}
		}
		users[ctx][df] = true
	}
	for _, b := range builds {
		add(b.Context, b.Dockerfile)
	}
	for name, sc := range all {
		if sc.Build == nil || isRemoteContext(sc.Build.Context) {
			continue
		}
		switch {
		case sc.Build.DockerfileInline != "":
			add(sc.Build.Context, "inline:"+name)
		case lastDockerfile(chains[name]) != nil && strings.Contains(lastDockerfile(chains[name]).value.Value, "$"):
			add(sc.Build.Context, "variable:"+name) // may be any Dockerfile
		default:
			df := resolveDockerfile(sc.Build)
			if orig, ok := headers.read(root, df); ok {
				df = filepath.Join(filepath.Dir(df), orig.Original)
			}
			add(sc.Build.Context, df)
		}
	}
	for _, b := range builds {
		if len(users[b.Context]) > 1 {
			b.SharedContext = true
		}
	}
}

// loadState is what EditDockerfileRefs needs from the load: the options to
// load again, the compose-go model to compare with, and where every build is
// written in the YAML files.
type loadState struct {
	opts   Options
	model  *types.Project
	loc    *locator
	chains map[string][]buildElem // every service with a build, whatever opts.Services says
	// vars are the services whose dockerfile: is a variable composeopt edits.
	vars  map[string]*DockerfileVar
	users map[*yaml.Node][]string // see usersOf
	// simple caches modelled's answer; extended holds the service names
	// extends: refers to (set with it).
	simple   *string
	extended map[string]bool
}

// loaded is the raw result of a compose-go load.
type loaded struct {
	opts     Options // absolute files, project dir and env files actually used
	root     *safefs.Root
	model    *types.Project
	dir      string
	files    []string
	env      map[string]string // the interpolation environment of the -f files
	warnings []string
	// parsed are the precheck's parses of the files it read, by path.
	parsed map[string]*yamlFile
}

// loadModel resolves the compose files and loads them with compose-go using
// docker compose's option order.
func loadModel(ctx context.Context, opts Options) (*loaded, error) {
	loads.Add(1)
	base := opts.WorkingDir
	if base == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
		base = wd
	}
	base, err := filepath.Abs(base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.WorkingDir, err)
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(base, p)
	}
	projectDir := ""
	if opts.ProjectDirectory != "" {
		projectDir = abs(opts.ProjectDirectory)
	}
	var envFiles []string
	for _, f := range opts.EnvFiles {
		envFiles = append(envFiles, abs(f))
	}

	var files []string
	if len(opts.Files) > 0 {
		for _, f := range opts.Files {
			f = abs(f)
			if err := checkComposeFile(f); err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	} else {
		start := projectDir
		if start == "" {
			start = base
		}
		if err := checkDotEnv(start, opts.AllowOutside); err != nil {
			return nil, err
		}
		files, err = discoverFiles(start, base, envFiles)
		if err != nil {
			return nil, err
		}
	}

	// Confinement: the project directory is --project-directory or the
	// directory of the first compose file, as for compose-go. Every compose
	// file, and every file they include or extend, must be a regular file
	// of bounded size inside it; they are checked here, before compose-go
	// reads them, so that a FIFO or a link out of the project is refused
	// rather than read.
	rootDir := projectDir
	if rootDir == "" {
		rootDir = filepath.Dir(files[0])
	}
	root, err := safefs.New(rootDir, opts.AllowOutside...)
	if err != nil {
		return nil, err
	}
	if err := checkDotEnv(rootDir, opts.AllowOutside); err != nil {
		return nil, err
	}

	rec := &missingVars{}
	var model *types.Project
	var env map[string]string
	var preErr error
	var parsed map[string]*yamlFile
	logged := captureLogrus(func() {
		var po *cli.ProjectOptions
		po, err = cli.NewProjectOptions(files,
			cli.WithWorkingDirectory(projectDir),
			cli.WithOsEnv,
			cli.WithEnvFiles(envFiles...),
			cli.WithDotEnv,
			cli.WithConfigFileEnv,
			cli.WithDefaultConfigPath,
			cli.WithEnvFiles(envFiles...),
			cli.WithDotEnv,
			cli.WithDefaultProfiles(opts.Profiles...),
			cli.WithoutEnvironmentResolution,
			cli.WithConsistency(false),
			cli.WithLoadOptions(func(o *loader.Options) {
				// LoadConfigFiles runs these options before any
				// interpolation settings exist; only the real load has them.
				if o.Interpolate != nil {
					o.Interpolate.Substitute = rec.substitute
				}
			}),
		)
		if err != nil {
			err = fmt.Errorf("%s: %w", files[0], err)
			return
		}
		// The precheck runs with the environment compose-go interpolates
		// with, so that an include or extends path built from variables is
		// checked as the file compose-go will open.
		env = po.Environment
		var guess Guess
		var loc *locator
		if guess, loc, preErr = precheck(root, rootDir, files, env); preErr != nil {
			return
		}
		parsed = loc.files
		if opts.Started != nil {
			opts.Started(rootDir, func() Guess {
				g := confined(root, guess)
				g.Speculate = func() (*Project, []string) { return speculate(root, rootDir, files, envFiles, env, loc) }
				return g
			})
		}
		model, err = po.LoadProject(ctx)
	})
	if preErr != nil {
		return nil, preErr
	}
	if err != nil {
		return nil, nameFile(err, files)
	}
	dir := model.WorkingDir
	if !filepath.IsAbs(dir) {
		dir = abs(dir)
	}
	warnings := append(rec.warnings(), logged...)
	if dir != rootDir {
		if root, err = safefs.New(dir, opts.AllowOutside...); err != nil {
			return nil, err
		}
	}
	return &loaded{
		opts: Options{
			Files:            files,
			ProjectDirectory: dir,
			EnvFiles:         envFiles,
			Profiles:         opts.Profiles,
			WorkingDir:       base,
			AllowOutside:     opts.AllowOutside,
		},
		root:     root,
		model:    model,
		dir:      dir,
		files:    files,
		env:      env,
		warnings: warnings,
		parsed:   parsed,
	}, nil
}

// precheck reads the compose files, and the files they include or extend,
// through root, so that compose-go never opens a file composeopt would
// refuse. It returns its parses of the files, by path, for the locator
// of the loaded project to reuse (see newLocator), and what the files
// name literally (see Options.Started).
func precheck(root *safefs.Root, dir string, files []string, env map[string]string) (guess Guess, loc *locator, err error) {
	loc = &locator{root: root, files: map[string]*yamlFile{}, lenient: true, env: env}
	if err := loc.init(dir, files); err != nil {
		return Guess{}, nil, err
	}
	seen := map[string]bool{}
	for _, n := range loc.serviceOrder() {
		chain, err := loc.chain(n)
		if err != nil {
			return Guess{}, nil, err
		}
		c := guessContext(dir, files, chain)
		if c == "" {
			continue
		}
		if !seen[c] {
			seen[c] = true
			guess.Contexts = append(guess.Contexts, c)
		}
		if df := guessDockerfile(c, chain); df != "" && !seen[df] {
			seen[df] = true
			guess.Dockerfiles = append(guess.Dockerfiles, df)
		}
	}
	return guess, loc, nil
}

// Guess is what the compose files name literally, before compose-go has
// loaded them (see Options.Started).
type Guess struct {
	// Contexts are local build contexts, each a directory inside the
	// project, checked as a loaded build's context is.
	Contexts []string
	// Dockerfiles are their Dockerfiles, each a regular file inside the
	// project, checked as a loaded build's Dockerfile is.
	Dockerfiles []string
	// Speculate returns the project's plainly written services and their
	// builds, read without compose-go (see speculate), or nil, and the
	// names of all the services its files define. It is for
	// work that may start before the load ends and is thrown away unless
	// the loaded project proves it right.
	Speculate func() (p *Project, names []string)
}

// guessContext returns the absolute build context a service's build chain
// names literally ("" when it names none, a variable or a remote one): a
// context of one of files is relative to the project directory, one of an
// included or extended file to that file's directory. It is a guess at what
// compose-go will resolve, for work that may start before the load ends
// (Options.Started); nothing relies on it being right.
func guessContext(dir string, files []string, chain []buildElem) string {
	c := lastContext(chain)
	if c == "" || strings.Contains(c, "$") || isRemoteContext(c) {
		return ""
	}
	if filepath.IsAbs(c) {
		return filepath.Clean(c)
	}
	base := dir
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].definesContext() {
			if !slices.Contains(files, chain[i].file.path) {
				base = filepath.Dir(chain[i].file.path)
			}
			break
		}
	}
	return filepath.Join(base, c)
}

// guessDockerfile returns the absolute Dockerfile of a build chain whose
// context is c, as the chain names it literally ("" for a variable):
// dockerfile:, or Dockerfile, relative to the context. A guess, as
// guessContext's.
func guessDockerfile(c string, chain []buildElem) string {
	df := "Dockerfile"
	if kv := lastDockerfile(chain); kv != nil {
		v := deref(kv.value)
		if v == nil || v.Kind != yaml.ScalarNode {
			return ""
		}
		df = v.Value
	}
	if strings.Contains(df, "$") {
		return ""
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(c, df)
	}
	return df
}

// confined keeps the guesses that are a directory (contexts) or a regular
// file (Dockerfiles) inside the project, checked as a loaded build's are.
func confined(root *safefs.Root, g Guess) Guess {
	var ok Guess
	for _, c := range g.Contexts {
		if root.Check("build context", c) != nil {
			continue
		}
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			ok.Contexts = append(ok.Contexts, c)
		}
	}
	for _, d := range g.Dockerfiles {
		if root.Check("Dockerfile", d) != nil {
			continue
		}
		if fi, err := os.Stat(d); err == nil && fi.Mode().IsRegular() {
			ok.Dockerfiles = append(ok.Dockerfiles, d)
		}
	}
	return ok
}

// checkDotEnv fails when dir/.env, which compose-go reads for
// interpolation, exists but is not a regular file of bounded size inside
// dir (a FIFO would hang the load; a link out would feed outside content
// into the project).
func checkDotEnv(dir string, allow []string) error {
	p := filepath.Join(dir, ".env")
	if _, err := os.Lstat(p); err != nil {
		return nil
	}
	root, err := safefs.New(dir, allow...)
	if err != nil {
		return err
	}
	_, err = root.ReadFile(safefs.EnvFile, p)
	return err
}

// checkComposeFile fails when path is not a readable regular file.
func checkComposeFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("compose file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("compose file %s: not a regular file (%s)", path, safefs.TypeName(fi.Mode()))
	}
	return nil
}

// nameFile makes sure a load error names the compose file it is about.
func nameFile(err error, files []string) error {
	msg := err.Error()
	for _, f := range files {
		if strings.Contains(msg, f) {
			return fmt.Errorf("loading compose project: %w", err)
		}
	}
	return fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
}

// discoverFiles finds the compose files when no -f is given: COMPOSE_FILE
// (from the environment or the .env of start), else compose.yaml and friends
// in start or its parents, plus the matching override file. Relative
// COMPOSE_FILE entries are taken relative to base, as docker compose takes
// them relative to its working directory.
func discoverFiles(start, base string, envFiles []string) ([]string, error) {
	var files []string
	var err error
	captureLogrus(func() {
		var po *cli.ProjectOptions
		po, err = cli.NewProjectOptions(nil,
			cli.WithWorkingDirectory(start),
			cli.WithOsEnv,
			cli.WithEnvFiles(envFiles...),
			cli.WithDotEnv,
		)
		if err != nil {
			return
		}
		// An empty COMPOSE_FILE counts as unset, as in docker compose.
		if v := po.Environment["COMPOSE_FILE"]; v != "" {
			// A COMPOSE_FILE that comes from the repository's .env is
			// repository data: it may only name files inside start.
			var fromRepo *safefs.Root
			if os.Getenv("COMPOSE_FILE") != v {
				if fromRepo, err = safefs.New(start); err != nil {
					return
				}
			}
			sep := po.Environment["COMPOSE_PATH_SEPARATOR"]
			if sep == "" {
				sep = string(os.PathListSeparator)
			}
			for _, f := range strings.Split(v, sep) {
				if f == "" {
					continue
				}
				if !filepath.IsAbs(f) {
					f = filepath.Join(base, f)
				}
				if err = fromRepo.Check("COMPOSE_FILE entry", f); err != nil {
					err = fmt.Errorf(".env: %w", err)
					return
				}
				if err = checkComposeFile(f); err != nil {
					err = fmt.Errorf("COMPOSE_FILE: %w", err)
					return
				}
				files = append(files, f)
			}
			return
		}
		if err = cli.WithDefaultConfigPath(po); err != nil {
			return
		}
		files = po.ConfigPaths
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", start, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no compose file found here or in a parent directory (looked for %s): %w",
			start, strings.Join(cli.DefaultFileNames, ", "), os.ErrNotExist)
	}
	return files, nil
}

// logMu serializes the temporary takeover of the global logrus logger.
var logMu sync.Mutex

type logHook struct{ msgs *[]string }

func (logHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h logHook) Fire(e *logrus.Entry) error {
	*h.msgs = append(*h.msgs, e.Message)
	return nil
}

// captureLogrus runs fn with logrus output discarded and returns the warnings
// compose-go logged meanwhile, so they end up in Project.Warnings instead of
// on the terminal.
func captureLogrus(fn func()) []string {
	logMu.Lock()
	defer logMu.Unlock()
	l := logrus.StandardLogger()
	var msgs []string
	out := l.Out
	hooks := l.ReplaceHooks(logrus.LevelHooks{})
	l.AddHook(logHook{&msgs})
	l.SetOutput(io.Discard)
	defer func() {
		l.SetOutput(out)
		l.ReplaceHooks(hooks)
	}()
	fn()
	return msgs
}

// missingVars is an interpolation substitute that behaves like compose-go's
// default one but records unset variables instead of logging them.
type missingVars struct {
	mu    sync.Mutex
	names []string
}

func (m *missingVars) substitute(s string, mapping template.Mapping) (string, error) {
	return template.SubstituteWithOptions(s, mapping,
		template.WithoutLogging,
		template.WithReplacementFunction(func(sub string, mp template.Mapping, cfg *template.Config) (string, error) {
			v, applied, err := template.DefaultReplacementAppliedFunc(sub, mp, cfg)
			if err == nil && !applied {
				m.add(varName(sub))
			}
			return v, err
		}))
}

func (m *missingVars) add(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if name != "" && !slices.Contains(m.names, name) {
		m.names = append(m.names, name)
	}
}

func (m *missingVars) warnings() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var w []string
	for _, n := range m.names {
		w = append(w, fmt.Sprintf("variable %s is not set; an empty string is used", n))
	}
	return w
}

var varNameRe = regexp.MustCompile(`^\$\{?([_A-Za-z][_A-Za-z0-9]*)`)

// varName extracts the variable name from a `$VAR` or `${VAR...}` reference.
func varName(ref string) string {
	m := varNameRe.FindStringSubmatch(ref)
	if m == nil {
		return ""
	}
	return m[1]
}

// orderServices lists every service of all, in YAML order first, then any
// service the YAML scan did not see, by name.
func orderServices(yamlOrder []string, all types.Services) []string {
	var names []string
	for _, n := range yamlOrder {
		if _, ok := all[n]; ok && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(all)) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// convertService keeps what the optimizer needs of a service; relative
// bind-mount sources are resolved against workDir (the project directory).
func convertService(name string, sc types.ServiceConfig, workDir string) *Service {
	s := &Service{
		Name:           name,
		Image:          sc.Image,
		Profiles:       sc.Profiles,
		Environment:    dropNil(sc.Environment),
		User:           sc.User,
		HasHealthcheck: sc.HealthCheck != nil && !sc.HealthCheck.Disable,
		HealthcheckDisabled: sc.HealthCheck != nil && (sc.HealthCheck.Disable ||
			len(sc.HealthCheck.Test) > 0 && strings.EqualFold(sc.HealthCheck.Test[0], "NONE")),
	}
	if sc.Command != nil {
		s.Command = []string(sc.Command)
	}
	if sc.Entrypoint != nil {
		s.Entrypoint = []string(sc.Entrypoint)
	}
	for _, p := range sc.Ports {
		if p.Target > 0 {
			s.Ports = addPort(s.Ports, int(p.Target))
		}
	}
	for _, e := range sc.Expose {
		for _, port := range dockerfile.PortSpec(e) {
			s.Ports = addPort(s.Ports, port)
		}
	}
	sort.Ints(s.Ports)
	if len(sc.Labels) > 0 {
		s.Labels = map[string]string(sc.Labels)
	}
	s.NetworkMode = sc.NetworkMode
	for _, v := range sc.Volumes {
		src := v.Source
		if v.Type == types.VolumeTypeBind && src != "" && !filepath.IsAbs(src) && workDir != "" {
			src = filepath.Join(workDir, src)
		}
		s.Volumes = append(s.Volumes, Volume{Type: v.Type, Source: src, Target: v.Target, ReadOnly: v.ReadOnly})
	}
	if b := sc.Build; b != nil {
		s.Build = &ServiceBuild{
			Context:    b.Context,
			Dockerfile: b.Dockerfile,
			Target:     b.Target,
			Args:       dropNil(b.Args),
			Inline:     b.DockerfileInline != "",
		}
	}
	return s
}

func addPort(ports []int, p int) []int {
	if slices.Contains(ports, p) {
		return ports
	}
	return append(ports, p)
}

func dropNil(m types.MappingWithEquals) map[string]string {
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// envFileWarnings reports required env_file entries that do not exist.
// Optional ones (required: false) are silently ignored, as docker compose does.
func envFileWarnings(name string, sc types.ServiceConfig) []string {
	var w []string
	for _, ef := range sc.EnvFiles {
		if !bool(ef.Required) {
			continue
		}
		if _, err := os.Stat(ef.Path); err != nil {
			w = append(w, fmt.Sprintf("service %s: env_file %s: %v", name, ef.Path, errors.Unwrap(err)))
		}
	}
	return w
}

// isRemoteContext reports whether a build context is a URL BuildKit fetches
// itself rather than a local directory.
func isRemoteContext(c string) bool {
	for _, p := range []string{"http://", "https://", "git://", "git@", "ssh://", "github.com/"} {
		if strings.HasPrefix(c, p) {
			return true
		}
	}
	return false
}

// resolveBuild turns a service's build into a Build of its own, or says why
// it is skipped. chain is where the build is written in the YAML files; root
// confines the context and the Dockerfile.
func resolveBuild(root *safefs.Root, svc *Service, chain []buildElem, env *varEnv, headers *headerCache) (*Build, *Skip) {
	skip := func(reason string, human bool) (*Build, *Skip) {
		return nil, &Skip{Service: svc.Name, Reason: reason, NeedsHuman: human}
	}
	sb := svc.Build
	switch {
	case sb == nil:
		return skip("image-only service (no build:)", false)
	case isRemoteContext(sb.Context):
		return skip(fmt.Sprintf("remote build context %s", sb.Context), false)
	case sb.Inline:
		return skip("build uses dockerfile_inline", false)
	case len(chain) == 0:
		return skip("cannot find which compose file defines this build", true)
	}
	if c := lastContext(chain); strings.Contains(c, "$") {
		return skip(fmt.Sprintf("build context is set from %s; composeopt migrates only fixed context paths", c), true)
	}
	var dfVar *DockerfileVar
	if df := lastDockerfile(chain); df != nil && strings.Contains(df.value.Value, "$") {
		v, why := classifyDockerfileVar(df.value.Value, env)
		if v == nil {
			return skip(why, true)
		}
		dfVar = v
	}
	if err := root.Check("build context", sb.Context); err != nil {
		return skip(err.Error(), true)
	}
	current := filepath.Join(sb.Context, sb.Dockerfile)
	if filepath.IsAbs(sb.Dockerfile) {
		current = sb.Dockerfile
	}
	if err := root.Check("Dockerfile", current); err != nil {
		return skip(err.Error(), true)
	}
	b := &Build{
		Context:  sb.Context,
		Current:  current,
		Services: []string{svc.Name},
		Targets:  []string{sb.Target},
		Var:      dfVar,
	}
	fi, err := os.Stat(current)
	if err == nil && !fi.Mode().IsRegular() {
		return skip(fmt.Sprintf("Dockerfile %s is not a regular file (%s)", current, safefs.TypeName(fi.Mode())), true)
	}
	if err != nil {
		// compose points at a generated file that is gone: re-create it
		// from the original beside it.
		if orig, ok := strings.CutSuffix(current, dockerfile.OptimizedSuffix); ok && errors.Is(err, fs.ErrNotExist) && isRegular(orig) {
			b.Dockerfile, b.Ref = orig, RefMissing
			return b, nil
		}
		return skip(fmt.Sprintf("Dockerfile %s does not exist", current), false)
	}
	b.Dockerfile = current
	if h, ok := headers.read(root, current); ok {
		original := filepath.Join(filepath.Dir(current), h.Original)
		if err := root.Check("Dockerfile", original); err != nil {
			return skip(err.Error(), true)
		}
		var src []byte
		if isRegular(original) {
			src, err = root.ReadFile(safefs.Dockerfile, original)
		}
		if src == nil || err != nil {
			return skip(fmt.Sprintf("%s was generated from %s, which does not exist", current, original), true)
		}
		b.Dockerfile = original
		if !h.Matches(src) {
			b.Ref = RefStale
		}
	} else if orig, ok := strings.CutSuffix(current, dockerfile.OptimizedSuffix); ok && isRegular(orig) {
		// compose builds from NAME.optimized beside NAME, but composeopt
		// did not write it: NAME is the original, and the file is someone
		// else's.
		b.Dockerfile, b.Ref = orig, RefForeign
	}
	return b, nil
}

func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// maxHeaderScan bounds how much of a Dockerfile is read to find the header.
const maxHeaderScan = 64 << 10

// readGeneratedHeader returns path's composeopt header, which follows any
// parser directives at the top of the file.
// Only a regular file inside the project is read.
// headerCache remembers readGeneratedHeader's answers during one load:
// resolveBuild and markSharedContexts ask it of the same Dockerfiles (each
// a read of the file's head), which was 0.07 s of a 1,000-service load
// after compose-go's.
type headerCache struct {
	mu sync.Mutex
	m  map[string]headerResult
}

type headerResult struct {
	h  dockerfile.Header
	ok bool
}

// read is readGeneratedHeader, once per path.
func (c *headerCache) read(root *safefs.Root, path string) (dockerfile.Header, bool) {
	c.mu.Lock()
	r, ok := c.m[path]
	c.mu.Unlock()
	if ok {
		return r.h, r.ok
	}
	h, ok := readGeneratedHeader(root, path)
	c.mu.Lock()
	c.m[path] = headerResult{h, ok}
	c.mu.Unlock()
	return h, ok
}

func readGeneratedHeader(root *safefs.Root, path string) (dockerfile.Header, bool) {
	data, err := root.ReadHead(path, maxHeaderScan)
	if err != nil {
		return dockerfile.Header{}, false
	}
	return dockerfile.ReadHeader(data)
}

// lastContext returns the build context as written in the element of chain
// that sets it ("" when none does).
func lastContext(chain []buildElem) string {
	for i := len(chain) - 1; i >= 0; i-- {
		e := chain[i]
		if e.node.Kind == yaml.ScalarNode {
			return e.node.Value
		}
		if kv := e.direct("context"); kv != nil {
			if v := deref(kv.value); v != nil {
				return v.Value
			}
		}
	}
	return ""
}

// resolveDockerfile returns the absolute path of a compose-go build's Dockerfile.
func resolveDockerfile(b *types.BuildConfig) string {
	if filepath.IsAbs(b.Dockerfile) {
		return b.Dockerfile
	}
	return filepath.Join(b.Context, b.Dockerfile)
}
