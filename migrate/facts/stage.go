package facts

import (
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// Family is a base image's OS family, which decides the package manager
// and the user-management tools available.
type Family string

// The families the rules distinguish.
const (
	Alpine     Family = "alpine"
	Debian     Family = "debian" // Debian and Ubuntu: apt-get, shadow utils
	RHEL       Family = "rhel"   // dnf, yum, microdnf
	Distroless Family = "distroless"
	Scratch    Family = "scratch"
	Windows    Family = "windows"
	Unknown    Family = "unknown"
)

// HasShell reports whether RUN instructions can be added to the family.
func (f Family) HasShell() bool {
	return f == Alpine || f == Debian || f == RHEL
}

// Image is a parsed image reference.
type Image struct {
	Ref    string // as written, with build args expanded where possible
	Name   string // repository path without registry, e.g. "library/node" → "node"
	Tag    string
	Digest string
}

// ParseImage splits an image reference.
func ParseImage(ref string) Image {
	im := Image{Ref: ref}
	rest := ref
	if i := strings.Index(rest, "@"); i >= 0 {
		im.Digest = rest[i+1:]
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		im.Tag = rest[i+1:]
		rest = rest[:i]
	}
	parts := strings.Split(rest, "/")
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		parts = parts[1:]
	}
	if len(parts) > 1 && parts[0] == "library" {
		parts = parts[1:]
	}
	im.Name = strings.ToLower(strings.Join(parts, "/"))
	return im
}

// Base returns the last path element of the image name ("node" for "bitnami/node").
func (im Image) Base() string {
	return im.Name[strings.LastIndex(im.Name, "/")+1:]
}

// FamilyOfImage returns the OS family of an image reference, from the
// image facts table (LookupImage).
func FamilyOfImage(ref string) Family {
	return LookupImage(ref).Family
}

// GlobalArgs returns the default values of ARGs declared before the first
// FROM, overridden by the compose build args.
func GlobalArgs(f *dockerfile.File, buildArgs map[string]string) map[string]string {
	args := map[string]string{}
	for _, in := range f.Instructions {
		if in.Stage >= 0 {
			break
		}
		if in.Cmd != "arg" {
			continue
		}
		for _, a := range in.Args {
			k, v, _ := strings.Cut(a, "=")
			args[k] = strings.Trim(v, `"'`)
		}
	}
	for k, v := range buildArgs {
		args[k] = v
	}
	return args
}

// StageInfo is what the rules know of one stage.
type StageInfo struct {
	Stage *dockerfile.Stage
	// Root is the first stage of the chain (whose base is an image).
	Root   *dockerfile.Stage
	Image  Image
	Family Family
	// Base is what is known of the base image: the table's facts, or the
	// image's own when it was inspected (Inspected).
	Base ImageFacts
	// User is the effective user at the end of the stage ("" = image default).
	User string
	// ImageUser is a non-root user the base image is known to provide
	// ("node" for node images), and ImageUID its uid.
	ImageUser string
	ImageUID  int
}

// BaseImage returns the image the stage's chain starts FROM, with the
// build args given expanded (StageInfo.Image, without computing the rest
// of the stage's facts).
func BaseImage(f *dockerfile.File, st *dockerfile.Stage, buildArgs map[string]string) Image {
	return chainImage(f, st.Chain(), buildArgs)
}

func chainImage(f *dockerfile.File, chain []*dockerfile.Stage, buildArgs map[string]string) Image {
	return ParseImage(Expand(chain[0].Base, GlobalArgs(f, buildArgs)))
}

// info computes Info: the base image of the chain's root (build args
// expanded), its facts (the table's, or the inspected image's), the family
// (the image's, else the first RUN of the chain that uses a distribution's
// package manager says), and the USER at the end of the chain.
func (sf *StageFacts) info() StageInfo {
	info := StageInfo{Stage: sf.Stage, Root: sf.Chain[0]}
	info.Image = chainImage(sf.f, sf.Chain, sf.BuildArgs)
	info.Base = LookupImage(info.Image.Ref)
	if real, ok := sf.b.inspected(info.Image.Ref); ok {
		info.Base = real
	}
	info.Family = info.Base.Family
	for _, in := range sf.Instructions("run", nil) {
		if info.Family != Unknown {
			break
		}
		info.Family = familyFromRun(strings.Join(in.Args, " "))
	}
	info.User = sf.User(nil)
	info.ImageUser, info.ImageUID = imageUser(info.Base)
	return info
}

// The package managers' install commands, by family (familyFromRun).
var (
	apkInstall = regexp.MustCompile(`\bapk\s+(add|update|upgrade)`)
	aptInstall = regexp.MustCompile(`\bapt(-get)?\s+(install|update)`)
	rpmInstall = regexp.MustCompile(`\b(dnf|yum|microdnf)\s+install`)
)

func familyFromRun(cmd string) Family {
	switch {
	case apkInstall.MatchString(cmd):
		return Alpine
	case aptInstall.MatchString(cmd):
		return Debian
	case rpmInstall.MatchString(cmd):
		return RHEL
	}
	return Unknown
}

// imageUser returns the non-root account the base image provides for
// applications ("", 0 when it has none).
func imageUser(f ImageFacts) (string, int) {
	if f.AppUser == "" {
		return "", 0
	}
	if a, ok := f.Account(f.AppUser); ok {
		return a.Name, a.UID
	}
	return "", 0
}

// IsRoot reports whether a user means root: a USER value ("" is the
// image default, which is root unless the image says otherwise; "0",
// "root", "0:0", "root:root") or the user a container runs as, as verify
// records it ("0 (root)").
func IsRoot(user string) bool {
	f := strings.Fields(user)
	if len(f) == 0 {
		return true
	}
	u, _, _ := strings.Cut(f[0], ":")
	return u == "" || u == "0" || u == "root"
}

// EndsNonRoot reports whether the stage runs as a non-root user, either set
// in the Dockerfile or provided by the image as its default.
func (s StageInfo) EndsNonRoot() bool {
	if s.User != "" {
		return !IsRoot(s.User)
	}
	return !IsRoot(s.Base.DefaultUser)
}
