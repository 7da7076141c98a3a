// Package inspect reads the facts of a real base image (--inspect-images):
// its config (USER, EXPOSE, ENTRYPOINT, CMD, OS) and a few files of its
// filesystem (/etc/os-release, /etc/passwd, the package manager, the shell,
// the account tools and the probe tools), from the local Docker engine
// (`docker save`) or from a registry, with go-containerregistry. Facts are
// cached on disk per image digest, so an image is read once. The offline
// table (facts.LookupImage) stays the default; inspection refines it.
package inspect

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/composeopt/composeopt/migrate/facts"
)

// Options say where images are read from.
type Options struct {
	// CacheDir holds the facts per digest ("" = the user cache directory's
	// composeopt/images).
	CacheDir string
	// Local reads images the local Docker engine has (docker image
	// inspect / docker save); Remote reads them from their registry.
	Local, Remote bool
	// Docker is the docker command ("" = "docker").
	Docker string
}

// Result is what was read of one image.
type Result struct {
	Ref    string
	Digest string // manifest digest (registry) or image id (local engine)
	From   string // "local", "registry" or "cache"
	Facts  facts.ImageFacts
	// Entrypoint and Cmd are the image's.
	Entrypoint, Cmd []string
}

// cached is the on-disk form.
type cached struct {
	Digest     string           `json:"digest"`
	Facts      facts.ImageFacts `json:"facts"`
	Entrypoint []string         `json:"entrypoint"`
	Cmd        []string         `json:"cmd"`
}

// Image inspects one image reference.
func Image(ctx context.Context, ref string, opts Options) (Result, error) {
	if strings.EqualFold(ref, "scratch") || strings.Contains(ref, "$") {
		return Result{}, fmt.Errorf("%s: not an image that can be inspected", ref)
	}
	var errs []error
	if opts.Local {
		r, err := local(ctx, ref, opts)
		if err == nil {
			return r, nil
		}
		errs = append(errs, fmt.Errorf("local engine: %w", err))
	}
	if opts.Remote {
		r, err := fromRegistry(ctx, ref, opts)
		if err == nil {
			return r, nil
		}
		errs = append(errs, fmt.Errorf("registry: %w", err))
	}
	if len(errs) == 0 {
		return Result{}, fmt.Errorf("%s: no image source enabled", ref)
	}
	return Result{}, fmt.Errorf("inspecting %s: %w", ref, errors.Join(errs...))
}

func cacheDir(opts Options) (string, error) {
	if opts.CacheDir != "" {
		return opts.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "composeopt", "images"), nil
}

func cachePath(opts Options, digest string) (string, error) {
	dir, err := cacheDir(opts)
	if err != nil {
		return "", err
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return "", fmt.Errorf("digest %q: %w", digest, err)
	}
	return filepath.Join(dir, h.Algorithm+"-"+h.Hex+".json"), nil
}

func readCache(opts Options, ref, digest string) (Result, bool) {
	p, err := cachePath(opts, digest)
	if err != nil {
		return Result{}, false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return Result{}, false
	}
	var c cached
	if json.Unmarshal(data, &c) != nil || c.Digest != digest {
		return Result{}, false
	}
	return Result{Ref: ref, Digest: digest, From: "cache", Facts: c.Facts, Entrypoint: c.Entrypoint, Cmd: c.Cmd}, true
}

func writeCache(opts Options, r Result) error {
	p, err := cachePath(opts, r.Digest)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(cached{Digest: r.Digest, Facts: r.Facts, Entrypoint: r.Entrypoint, Cmd: r.Cmd}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// fromRegistry reads the image from its registry (credentials from the
// Docker config, as docker does).
func fromRegistry(ctx context.Context, ref string, opts Options) (Result, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return Result{}, err
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH})}
	desc, err := remote.Head(r, ropts...)
	if err != nil {
		return Result{}, err
	}
	if res, ok := readCache(opts, ref, desc.Digest.String()); ok {
		return res, nil
	}
	img, err := remote.Image(r, ropts...)
	if err != nil {
		return Result{}, err
	}
	res, err := Read(ctx, img)
	if err != nil {
		return Result{}, err
	}
	res.Ref, res.Digest, res.From = ref, desc.Digest.String(), "registry"
	res.Facts.Source = "inspect " + ref + "@" + res.Digest
	if err := writeCache(opts, res); err != nil {
		return res, nil // the facts are good; the cache is an optimisation
	}
	return res, nil
}

// local reads an image the local engine has, through `docker save`.
func local(ctx context.Context, ref string, opts Options) (Result, error) {
	docker := opts.Docker
	if docker == "" {
		docker = "docker"
	}
	out, err := exec.CommandContext(ctx, docker, "image", "inspect", "--format", "{{.Id}}", ref).Output()
	if err != nil {
		return Result{}, fmt.Errorf("docker image inspect %s: %w", ref, err)
	}
	id := strings.TrimSpace(string(out))
	if res, ok := readCache(opts, ref, id); ok {
		return res, nil
	}
	tmp, err := os.CreateTemp("", "composeopt-image-*.tar")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, docker, "save", ref)
	cmd.Stdout = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tmp.Close()
		return Result{}, fmt.Errorf("docker save %s: %w: %s", ref, err, strings.TrimSpace(stderr.String()))
	}
	if err := tmp.Close(); err != nil {
		return Result{}, err
	}
	img, err := tarball.ImageFromPath(tmp.Name(), nil)
	if err != nil {
		return Result{}, fmt.Errorf("%s: reading docker save output: %w", ref, err)
	}
	res, err := Read(ctx, img)
	if err != nil {
		return Result{}, err
	}
	res.Ref, res.Digest, res.From = ref, id, "local"
	res.Facts.Source = "inspect " + ref + " (local " + id + ")"
	_ = writeCache(opts, res)
	return res, nil
}

// wanted are the files read from the image's filesystem.
var wantedFiles = map[string]bool{"etc/os-release": true, "usr/lib/os-release": true, "etc/passwd": true, "etc/group": true}

// binDirs are where programs are looked for.
var binDirs = []string{"bin", "usr/bin", "usr/local/bin", "sbin", "usr/sbin", "usr/local/sbin", "busybox"}

// programs are the programs whose presence is recorded.
var programs = []string{"sh", "bash", "busybox", "curl", "wget", "python3", "python", "node", "java", "php", "ruby",
	"apt-get", "apk", "dnf", "microdnf", "yum", "tdnf", "useradd", "adduser", "nc"}

// maxFile bounds the files read into memory.
const maxFile = 1 << 20

// Read reads the facts of an image: its config and the files it needs,
// layer by layer (bottom to top, honouring whiteouts).
func Read(ctx context.Context, img v1.Image) (Result, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return Result{}, fmt.Errorf("image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return Result{}, fmt.Errorf("image layers: %w", err)
	}
	files := map[string][]byte{}
	present := map[string]bool{} // program paths (files or symlinks)
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if err := readLayer(l, files, present); err != nil {
			return Result{}, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return Result{Facts: factsFrom(cfg, files, present), Entrypoint: cfg.Config.Entrypoint, Cmd: cfg.Config.Cmd}, nil
}

func readLayer(l v1.Layer, files map[string][]byte, present map[string]bool) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := path.Clean(strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"))
		dir, base := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if base == ".wh..wh..opq" {
			for k := range files {
				if strings.HasPrefix(k, dir+"/") {
					delete(files, k)
				}
			}
			for k := range present {
				if strings.HasPrefix(k, dir+"/") {
					delete(present, k)
				}
			}
			continue
		}
		if strings.HasPrefix(base, ".wh.") {
			gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			delete(files, gone)
			delete(present, gone)
			continue
		}
		if slices.Contains(binDirs, dir) && slices.Contains(programs, base) && h.Typeflag != tar.TypeDir {
			present[p] = true
		}
		if wantedFiles[p] {
			switch h.Typeflag {
			case tar.TypeReg:
				if h.Size > maxFile {
					continue
				}
				data, err := io.ReadAll(io.LimitReader(tr, maxFile))
				if err != nil {
					return err
				}
				files[p] = data
			case tar.TypeSymlink:
				// os-release is a symlink to ../usr/lib/os-release on Debian.
				files[p] = nil
			}
		}
	}
}

// hasProgram reports whether a program exists in one of the bin dirs.
// Merged /usr (Debian 12: /bin -> usr/bin) keeps files under usr/bin, which
// is also searched.
func hasProgram(present map[string]bool, prog string) bool {
	for _, d := range binDirs {
		if present[d+"/"+prog] {
			return true
		}
	}
	return false
}

// factsFrom turns what was read into facts.
func factsFrom(cfg *v1.ConfigFile, files map[string][]byte, present map[string]bool) facts.ImageFacts {
	f := facts.ImageFacts{Known: true}
	if cfg.OS == "windows" {
		f.Family, f.OS = facts.Windows, "windows"
		return f
	}
	osr := files["etc/os-release"]
	if osr == nil {
		osr = files["usr/lib/os-release"]
	}
	rel := parseOSRelease(osr)
	f.OS = rel["ID"]
	like := " " + rel["ID"] + " " + rel["ID_LIKE"] + " "
	has := func(p string) bool { return hasProgram(present, p) }
	if has("sh") {
		f.Shell = "/bin/sh"
	}
	switch {
	case has("apt-get"):
		f.PkgManager = "apt"
	case has("apk"):
		f.PkgManager = "apk"
	case has("dnf"):
		f.PkgManager = "dnf"
	case has("microdnf"):
		f.PkgManager = "microdnf"
	case has("yum"):
		f.PkgManager = "yum"
	case has("tdnf"):
		f.PkgManager = "tdnf"
	}
	switch {
	case f.Shell == "" && len(present) == 0 && osr == nil:
		f.Family, f.OS = facts.Scratch, "scratch"
	case f.Shell == "":
		f.Family = facts.Distroless
	case strings.Contains(like, " debian ") || strings.Contains(like, " ubuntu "):
		f.Family = facts.Debian
	case strings.Contains(like, " alpine ") || strings.Contains(like, " wolfi ") || f.PkgManager == "apk":
		f.Family = facts.Alpine
	case strings.Contains(like, " rhel ") || strings.Contains(like, " fedora ") || strings.Contains(like, " centos ") ||
		strings.Contains(like, " amzn ") || f.PkgManager == "dnf" || f.PkgManager == "yum" || f.PkgManager == "microdnf":
		f.Family = facts.RHEL
	case f.PkgManager == "apt":
		f.Family = facts.Debian
	default:
		f.Family = facts.Unknown
		f.Known = false
	}
	switch {
	case has("useradd"):
		f.UserTools = "useradd"
	case has("adduser") || has("busybox"):
		f.UserTools = "adduser"
	}
	f.Accounts = parsePasswd(files["etc/passwd"])
	f.DefaultUser = cfg.Config.User
	for _, t := range []string{"curl", "wget", "python3", "python", "node", "java", "php", "ruby", "bash", "nc"} {
		if has(t) {
			f.Tools = append(f.Tools, t)
		}
	}
	if !has("wget") && has("busybox") {
		f.Tools = append(f.Tools, "wget")
	}
	for p := range cfg.Config.ExposedPorts {
		num, _, _ := strings.Cut(p, "/")
		if n, err := strconv.Atoi(num); err == nil {
			f.Ports = append(f.Ports, n)
		}
	}
	slices.Sort(f.Ports)
	return f
}

func parseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && !strings.HasPrefix(k, "#") {
			out[k] = strings.Trim(v, `"'`)
		}
	}
	return out
}

// parsePasswd returns the non-root accounts of /etc/passwd.
func parsePasswd(data []byte) []facts.Account {
	var out []facts.Account
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) < 7 {
			continue
		}
		uid, err1 := strconv.Atoi(parts[2])
		gid, err2 := strconv.Atoi(parts[3])
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		out = append(out, facts.Account{Name: parts[0], UID: uid, GID: gid, Home: parts[5]})
	}
	return out
}

// Merge refines the table's facts of ref with the inspected ones: what was
// read wins; the table's app user is kept when the image has that account.
func Merge(table, real facts.ImageFacts) facts.ImageFacts {
	out := real
	if _, ok := real.Account(table.AppUser); ok && table.AppUser != "" {
		out.AppUser = table.AppUser
	}
	if out.Family == facts.Unknown {
		out.Family = table.Family
		out.Known = table.Known
	}
	if len(out.Ports) == 0 {
		out.Ports = table.Ports
	}
	return out
}
