package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// Label marks every image and container verify creates, so that leftovers of
// an interrupted run can be found: docker ps -a --filter label=dev.composeopt.verify
const Label = "dev.composeopt.verify"

// docker runs the docker CLI. Everything goes through the CLI rather than the
// Engine API so that contexts, DOCKER_HOST and buildx builders behave exactly
// as they do for the user.
type docker struct {
	bin     string
	builder string
	buildx  bool
	rep     *reporter
}

func newDocker(o Options) *docker {
	bin := o.Docker
	if bin == "" {
		bin = "docker"
	}
	return &docker{bin: bin, builder: o.Builder, rep: newReporter(o.Progress, false, nil)}
}

func (d *docker) logf(service, format string, args ...any) {
	d.rep.logf(service, format, args...)
}

func (d *docker) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.bin, args...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1")
	// Stop the CLI gently first so it can tell the daemon to cancel a build.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// output runs a docker command and returns its stdout; the error carries the
// command and the tail of its stderr.
func (d *docker) output(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := d.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", d.bin, args[0], err, tail(stderr.String(), 8))
	}
	return stdout.String(), nil
}

func (d *docker) detectBuildx(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := d.output(c, "buildx", "version")
	d.buildx = err == nil
}

// buildSpec is one `docker build`.
type buildSpec struct {
	context, dockerfile, target, tag string
	args                             map[string]string
	noCache                          bool
}

// build runs the build and returns how long it took. On failure the error
// holds the last lines of the build log, which is where the cause is.
func (d *docker) build(ctx context.Context, s buildSpec) (time.Duration, error) {
	var args []string
	if d.buildx {
		args = append(args, "buildx", "build", "--load", "--progress=plain")
		if d.builder != "" {
			args = append(args, "--builder", d.builder)
		}
	} else {
		args = append(args, "build", "--progress=plain")
	}
	args = append(args, "-f", s.dockerfile, "-t", s.tag, "--label", Label+"=1")
	if s.noCache {
		args = append(args, "--no-cache")
	}
	if s.target != "" {
		args = append(args, "--target", s.target)
	}
	keys := make([]string, 0, len(s.args))
	for k := range s.args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--build-arg", k+"="+s.args[k])
	}
	args = append(args, s.context)

	var log bytes.Buffer
	cmd := d.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("docker build -f %s: %w\n%s", s.dockerfile, err, tail(log.String(), 25))
	}
	return took, nil
}

// imageInfo is the part of `docker image inspect` that verify reads.
type imageInfo struct {
	Size   int64
	Config struct {
		User         string
		ExposedPorts map[string]struct{}
		Healthcheck  *healthConfig
	}
	RootFS struct {
		Layers []string
	}
}

func (d *docker) inspectImage(ctx context.Context, ref string) (*imageInfo, error) {
	out, err := d.output(ctx, "image", "inspect", ref)
	if err != nil {
		return nil, err
	}
	var infos []imageInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil || len(infos) != 1 {
		return nil, fmt.Errorf("reading docker image inspect %s: unexpected output (%v)", ref, err)
	}
	return &infos[0], nil
}

// healthConfig is an image's HEALTHCHECK; durations are nanoseconds in JSON.
type healthConfig struct {
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// containerInfo is the part of `docker container inspect` that verify reads.
type containerInfo struct {
	State struct {
		Status   string
		Running  bool
		ExitCode int
		Pid      int
		Health   *struct {
			Status string
		}
	}
	Config struct {
		User string
	}
}

func (d *docker) inspectContainer(ctx context.Context, id string) (*containerInfo, error) {
	out, err := d.output(ctx, "container", "inspect", id)
	if err != nil {
		return nil, err
	}
	var infos []containerInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil || len(infos) != 1 {
		return nil, fmt.Errorf("reading docker container inspect %s: unexpected output (%v)", id, err)
	}
	return &infos[0], nil
}

// tail returns the last n non-empty lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
