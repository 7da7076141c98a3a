// Package compose loads a Docker Compose project the way `docker compose`
// does (through compose-go), finds every service build, and edits the
// compose files that define those builds with minimal byte-level changes.
package compose

import "github.com/composeopt/composeopt/migrate/safefs"

// Options mirrors docker compose's project flags.
type Options struct {
	// Files are the -f/--file values in order. Empty means: COMPOSE_FILE,
	// then discovery of compose.yaml / docker-compose.yml (+ override) in
	// WorkingDir and its parents, as docker compose does.
	Files []string
	// ProjectDirectory is --project-directory ("" = directory of the first file).
	ProjectDirectory string
	// EnvFiles are the --env-file values.
	EnvFiles []string
	// Profiles are the --profile values (they do not filter builds: every
	// service is considered; they only matter for interpolation parity).
	Profiles []string
	// Services restricts the work to these service names (empty = all).
	Services []string
	// WorkingDir is where discovery starts ("" = process working directory).
	WorkingDir string
	// AllowOutside lists directories outside the project directory whose
	// files composeopt may read and write (--allow-outside). Everything
	// else must resolve, after symbolic links, inside the project directory.
	AllowOutside []string
	// Started, when set, is called once, on the loading goroutine, when
	// the compose files have passed the precheck and compose-go is about
	// to load them; it must return at once (the load waits for it), and
	// may start work that needs only the project directory dir on another
	// goroutine, to run on another core while compose-go loads. guess (to
	// call on that goroutine: it checks paths) returns the local build
	// contexts and Dockerfiles the files name literally. They are a guess
	// at what the load will find: a caller must not rely on them being
	// right or complete.
	Started func(dir string, guess func() Guess)
}

// Project is the loaded compose project.
type Project struct {
	Name string
	// Dir is the absolute project directory.
	Dir string
	// Files are the absolute compose files that were loaded (after
	// discovery), in load order. Included files are not listed here.
	Files []string
	// Services are all services considered (all profiles, or those named).
	Services []*Service
	// Builds are the deduplicated local builds, in first-seen service order.
	Builds []*Build
	// Skipped are services (or builds) not migrated, with a reason.
	Skipped []Skip
	// Warnings are non-fatal load problems (missing env_file, unset ${VAR}).
	Warnings []string

	// Root confines every file composeopt reads or writes to the project
	// directory and the --allow-outside directories.
	Root *safefs.Root

	// state is set by Load and used by EditDockerfileRefs.
	state *loadState
}

// Service is the subset of a compose service the optimizer needs.
type Service struct {
	Name        string
	Image       string
	Profiles    []string
	Environment map[string]string // nil values dropped
	Command     []string          // nil when unset
	Entrypoint  []string
	User        string
	// Ports are the container (target) ports published or exposed.
	Ports []int
	// HasHealthcheck is true when compose defines a healthcheck that is not disabled.
	HasHealthcheck bool
	// HealthcheckDisabled is true when compose sets `healthcheck: disable: true`
	// (or `test: ["NONE"]`).
	HealthcheckDisabled bool
	Build               *ServiceBuild // nil for image-only services
	// Labels are the service's labels (Traefik routes name ports there).
	Labels map[string]string
	// NetworkMode is network_mode as written ("" = the project's bridge network).
	NetworkMode string
	// Volumes are the service's mounts; a bind mount's Source is absolute.
	Volumes []Volume
}

// Volume is one mount of a service.
type Volume struct {
	Type     string // bind, volume, tmpfs...
	Source   string // absolute host path for bind mounts, the volume name otherwise
	Target   string // path in the container
	ReadOnly bool
}

// ServiceBuild is a service's own view of its build section.
type ServiceBuild struct {
	Context    string // absolute local path, or the remote URL as written
	Dockerfile string // as resolved by compose-go (relative to context, or absolute)
	Target     string
	Args       map[string]string // nil values dropped
	// Inline is true when dockerfile_inline is used.
	Inline bool
}

// Build is one (context, Dockerfile) pair, shared by one or more services.
type Build struct {
	// Context is the absolute context directory.
	Context string
	// Dockerfile is the absolute path of the ORIGINAL Dockerfile (when the
	// compose file already points at a composeopt output, this is the file
	// named in its header, and Current is the optimized file).
	Dockerfile string
	// Current is the absolute path compose currently points at.
	Current string
	// Services are the services building this pair (names, in order).
	Services []string
	// Targets are the distinct build targets requested by the services ("" = last stage).
	Targets []string
	// SharedContext is true when another Build uses the same context directory.
	SharedContext bool
	// Ref says what is wrong with the file compose builds from, if anything.
	Ref RefState
	// Var is set when the compose file takes the Dockerfile path from a
	// variable composeopt can edit (an env file line, or the default).
	Var *DockerfileVar
}

// RefState describes a compose dockerfile: reference to a generated file.
type RefState string

// Reference states.
const (
	// RefOK: compose builds from the original, or from a current generated file.
	RefOK RefState = ""
	// RefMissing: compose builds from NAME.optimized, which does not exist
	// (NAME does).
	RefMissing RefState = "missing"
	// RefStale: the generated file's header hash does not match its original.
	RefStale RefState = "stale"
	// RefForeign: compose builds from NAME.optimized beside NAME, a file
	// without composeopt's header.
	RefForeign RefState = "foreign"
)

// Skip records a service or build not migrated.
type Skip struct {
	Service string
	Reason  string
	// NeedsHuman marks items a person must follow up (e.g. ${VAR} dockerfile).
	NeedsHuman bool
}

// FileEdit is the new content of one compose file.
type FileEdit struct {
	Path string // absolute
	Old  []byte
	New  []byte
}
