package facts

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// This file is the table of what composeopt knows about common base images
// without pulling them: OS family and package manager, the shell, the
// accounts the image ships, the programs a health probe could use, the
// default USER and the ports its server listens on. Every rule that needs
// such a fact asks LookupImage (through StageInfo); nothing else in the
// code guesses from image names.
//
// It is data, reviewed like code. To add an image: add an imageRow to
// imageTable with the repository names as ParseImage reports them (no
// registry host, no "library/"), the facts of its default tag in def, and
// in variants the tag spellings whose facts differ, most specific first.
// The shared OS variants (stdVariants: -alpine, -slim, bookworm, jammy,
// ubi, al2023, windowsservercore...) apply after the row's own. State only
// what the image's published Dockerfile guarantees: a tool or user left
// out makes a rule report instead of guess, one wrongly listed breaks a
// build. Add a case to TestImageTable for it.

// Account is a user an image ships.
type Account struct {
	Name string
	UID  int
	GID  int
	Home string // "" when the account has no home directory
}

// ImageFacts is what is known of a base image.
type ImageFacts struct {
	Family Family
	// OS names the distribution ("debian", "ubuntu", "alpine", "ubi",
	// "amazonlinux", "oraclelinux", "wolfi", "distroless", ...), "" unknown.
	OS string
	// PkgManager is apt, apk, dnf, microdnf, yum, tdnf, or "" (none).
	PkgManager string
	// Shell is the shell RUN uses ("" when the image has none).
	Shell string
	// UserTools is how accounts are created: "useradd" (shadow utils),
	// "adduser" (busybox addgroup/adduser), or "" (no tool known).
	UserTools string
	// Accounts are the non-root users the image ships, and AppUser the one
	// an application should run as ("" when the image has none).
	Accounts []Account
	AppUser  string
	// DefaultUser is the image's USER ("" means root).
	DefaultUser string
	// Tools are the programs a probe can use: curl, wget, python3, python,
	// node, java, php, ruby, bash.
	Tools []string
	// Ports are the ports the image's own server listens on by default
	// (nginx: 80; .NET 8+: 8080) and EXPOSEs.
	Ports []int
	// Known is true when the image (or at least its OS) is in the table or
	// was inspected; Source says which row or "inspect".
	Known  bool
	Source string
}

// Account returns the named account of the image (a name or uid).
func (f ImageFacts) Account(name string) (Account, bool) {
	for _, a := range f.Accounts {
		if a.Name == name || strconv.Itoa(a.UID) == name {
			return a, true
		}
	}
	return Account{}, false
}

// HasTool reports whether the image ships a program.
func (f ImageFacts) HasTool(t string) bool { return slices.Contains(f.Tools, t) }

// osFacts are the facts an OS base gives every image built on it.
var (
	osDebian = ImageFacts{Family: Debian, OS: "debian", PkgManager: "apt", Shell: "/bin/sh", UserTools: "useradd",
		Accounts: []Account{{Name: "www-data", UID: 33, GID: 33}, {Name: "nobody", UID: 65534, GID: 65534}},
		Tools:    []string{"bash"}}
	osUbuntu = ImageFacts{Family: Debian, OS: "ubuntu", PkgManager: "apt", Shell: "/bin/sh", UserTools: "useradd",
		Accounts: []Account{{Name: "www-data", UID: 33, GID: 33}, {Name: "nobody", UID: 65534, GID: 65534}},
		Tools:    []string{"bash"}}
	osAlpine = ImageFacts{Family: Alpine, OS: "alpine", PkgManager: "apk", Shell: "/bin/sh", UserTools: "adduser",
		Accounts: []Account{{Name: "nobody", UID: 65534, GID: 65534}},
		Tools:    []string{"wget"}} // busybox wget
	osUBI = ImageFacts{Family: RHEL, OS: "ubi", PkgManager: "dnf", Shell: "/bin/sh", UserTools: "useradd",
		Accounts: []Account{{Name: "nobody", UID: 65534, GID: 65534}}, Tools: []string{"bash", "curl"}}
	osUBIMinimal = ImageFacts{Family: RHEL, OS: "ubi-minimal", PkgManager: "microdnf", Shell: "/bin/sh",
		Accounts: []Account{{Name: "nobody", UID: 65534, GID: 65534}}, Tools: []string{"bash"}}
	osUBIMicro   = ImageFacts{Family: RHEL, OS: "ubi-micro", Shell: "/bin/sh", Tools: []string{"bash"}}
	osOracleSlim = ImageFacts{Family: RHEL, OS: "oraclelinux", PkgManager: "microdnf", Shell: "/bin/sh", Tools: []string{"bash"}}
	osRHELFull   = ImageFacts{Family: RHEL, OS: "rhel", PkgManager: "dnf", Shell: "/bin/sh", UserTools: "useradd", Tools: []string{"bash"}}
	osAL2        = ImageFacts{Family: RHEL, OS: "amazonlinux", PkgManager: "yum", Shell: "/bin/sh", Tools: []string{"bash"}}
	osAL2023     = ImageFacts{Family: RHEL, OS: "amazonlinux", PkgManager: "dnf", Shell: "/bin/sh", Tools: []string{"bash"}}
	osAzure      = ImageFacts{Family: RHEL, OS: "azurelinux", PkgManager: "tdnf", Shell: "/bin/sh", Tools: []string{"bash"}}
	osWolfi      = ImageFacts{Family: Alpine, OS: "wolfi", PkgManager: "apk", Shell: "/bin/sh", UserTools: "adduser", Tools: []string{"wget"}}
	osDistroless = ImageFacts{Family: Distroless, OS: "distroless",
		Accounts: []Account{{Name: "nonroot", UID: 65532, GID: 65532, Home: "/home/nonroot"}, {Name: "nobody", UID: 65534, GID: 65534}}}
	osChiseled = ImageFacts{Family: Distroless, OS: "ubuntu-chiseled"}
	osWindows  = ImageFacts{Family: Windows, OS: "windows"}
)

// variant is a tag spelling whose facts differ from the row's default.
type variant struct {
	tag *regexp.Regexp
	os  ImageFacts
	// tools replaces the row's Tools (nil keeps the OS tools plus the
	// row's runtime).
	tools []string
	// user, when set, replaces the default USER.
	user *string
	name string
}

// imageRow is one image (or family of images) of the table.
type imageRow struct {
	names []string
	// prefix also matches names that start with one of names + "/" or "-"
	// (distroless/python3-debian12).
	prefix bool
	os     ImageFacts // OS of the default tag
	// runtime lists the programs the image adds (node, python3...), full
	// the extra tools of the default (non-slim) tag.
	runtime  []string
	full     []string
	accounts []Account
	appUser  string
	user     string // default USER
	ports    []int
	variants []variant
	// portsFor lets the default port depend on the tag (.NET 8 moved to 8080).
	portsFor func(tag string) []int
}

func v(re string, os ImageFacts, name string) variant {
	return variant{tag: regexp.MustCompile(re), os: os, name: name}
}

func withTools(vr variant, tools ...string) variant { vr.tools = tools; return vr }
func withUser(vr variant, u string) variant         { vr.user = &u; return vr }

// stdVariants are the OS spellings shared by the official images' tags.
var stdVariants = []variant{
	v(`windowsservercore|nanoserver|ltsc|windows`, osWindows, "windows"),
	v(`distroless`, osDistroless, "distroless"),
	v(`chiseled`, osChiseled, "chiseled"),
	v(`alpine`, osAlpine, "alpine"),
	v(`ubi\d*-minimal|ubi-minimal`, osUBIMinimal, "ubi-minimal"),
	v(`ubi\d*-micro`, osUBIMicro, "ubi-micro"),
	v(`(^|-)ubi\d*($|-)`, osUBI, "ubi"),
	v(`al2023`, osAL2023, "al2023"),
	v(`(^|-)al2($|-)`, osAL2, "al2"),
	v(`azurelinux|cbl-mariner|mariner`, osAzure, "azurelinux"),
	v(`oraclelinux|(^|-)ol\d`, osOracleSlim, "oraclelinux"),
	v(`(^|-)(jammy|focal|noble|bionic|oracular|plucky)($|-)`, osUbuntu, "ubuntu"),
	v(`slim`, osDebian, "slim"),
	v(`(^|-)(bookworm|bullseye|buster|trixie|stretch)($|-)`, osDebian, "debian"),
}

var (
	nodeUser   = Account{Name: "node", UID: 1000, GID: 1000, Home: "/home/node"}
	nginxUser  = Account{Name: "nginx", UID: 101, GID: 101}
	dotnetApp  = Account{Name: "app", UID: 1654, GID: 1654, Home: "/home/app"}
	gradleUser = Account{Name: "gradle", UID: 1000, GID: 1000, Home: "/home/gradle"}
	// buildpackFull are the tools of the buildpack-deps-based default tags
	// (node, python, golang, ruby, rust, ...).
	buildpackFull = []string{"curl", "wget"}
)

// imageTable is the table. Names are as ParseImage reports them.
var imageTable = []imageRow{
	// Language runtimes whose default tag is Debian's full buildpack-deps image.
	{names: []string{"node"}, os: osDebian, runtime: []string{"node"}, full: buildpackFull,
		accounts: []Account{nodeUser}, appUser: "node"},
	{names: []string{"python", "pypy"}, os: osDebian, runtime: []string{"python3", "python"}, full: buildpackFull},
	{names: []string{"golang"}, os: osDebian, full: buildpackFull},
	{names: []string{"ruby"}, os: osDebian, runtime: []string{"ruby"}, full: buildpackFull},
	{names: []string{"rust"}, os: osDebian, full: buildpackFull},
	{names: []string{"perl", "elixir", "erlang", "buildpack-deps", "gcc"}, os: osDebian, full: buildpackFull},
	{names: []string{"haskell", "julia", "clojure", "swift", "dart"}, os: osDebian},
	{names: []string{"php"}, os: osDebian, runtime: []string{"php", "curl"},
		variants: []variant{withTools(v(`alpine`, osAlpine, "alpine"), "wget", "curl", "php")},
		portsFor: func(tag string) []int {
			switch {
			case strings.Contains(tag, "apache"):
				return []int{80}
			case strings.Contains(tag, "fpm"):
				return []int{9000}
			}
			return nil
		}},
	{names: []string{"composer"}, os: osAlpine, runtime: []string{"php", "curl"}},
	{names: []string{"bun", "oven/bun"}, os: osDebian, runtime: []string{"bun"},
		accounts: []Account{{Name: "bun", UID: 1000, GID: 1000, Home: "/home/bun"}}, appUser: "bun"},
	{names: []string{"denoland/deno"}, os: osDebian, runtime: []string{"deno"},
		accounts: []Account{{Name: "deno", UID: 1993, GID: 1993, Home: "/home/deno"}}, appUser: "deno"},
	// Java. openjdk 17 and later default to Oracle Linux; 8 and 11 to Debian.
	{names: []string{"openjdk"}, os: osDebian, runtime: []string{"java"},
		variants: []variant{
			v(`^(1[2-9]|2\d)(\.[\d.]+)?(-ea)?(-\d+)?(-(jdk|jre))?(-oracle|-oraclelinux\d*)?$`, osOracleSlim, "oraclelinux"),
		}},
	{names: []string{"eclipse-temurin", "sapmachine", "ibm-semeru-runtimes", "ibmjava"}, os: osUbuntu, runtime: []string{"java"}},
	{names: []string{"amazoncorretto"}, os: osAL2, runtime: []string{"java"},
		variants: []variant{v(`debian`, osDebian, "debian")}},
	{names: []string{"maven"}, os: osUbuntu, runtime: []string{"java", "mvn"},
		variants: []variant{
			v(`al2023`, osAL2023, "amazoncorretto al2023"),
			v(`amazoncorretto`, osAL2, "amazoncorretto"),
			v(`openjdk-(1[7-9]|2\d)`, osOracleSlim, "openjdk (oraclelinux)"),
			v(`openjdk`, osDebian, "openjdk (debian)"),
		}},
	{names: []string{"gradle"}, os: osUbuntu, runtime: []string{"java", "gradle"},
		accounts: []Account{gradleUser}, appUser: "gradle",
		variants: []variant{
			v(`corretto`, osAL2023, "corretto"),
		}},
	// .NET: Debian 12 by default; 8 and later ship the "app" user.
	{names: []string{"dotnet/sdk", "dotnet/aspnet", "dotnet/runtime", "dotnet/runtime-deps", "dotnet/core/sdk",
		"dotnet/core/aspnet", "dotnet/core/runtime", "dotnet/core/runtime-deps"}, os: osDebian,
		portsFor: func(tag string) []int {
			if dotnetMajor(tag) >= 8 || dotnetMajor(tag) == 0 {
				return []int{8080}
			}
			return []int{80}
		},
		variants: []variant{withUser(v(`chiseled`, osChiseled, "chiseled"), "app")}},
	// Web servers.
	{names: []string{"nginx", "nginxinc/nginx"}, os: osDebian, runtime: []string{"curl"},
		accounts: []Account{nginxUser}, appUser: "nginx", ports: []int{80},
		variants: []variant{withTools(v(`alpine-slim`, osAlpine, "alpine-slim"), "wget")}},
	{names: []string{"nginxinc/nginx-unprivileged"}, os: osDebian, runtime: []string{"curl"},
		accounts: []Account{nginxUser}, appUser: "nginx", user: "101", ports: []int{8080}},
	{names: []string{"httpd"}, os: osDebian, ports: []int{80}},
	{names: []string{"caddy"}, os: osAlpine, ports: []int{80, 443}},
	{names: []string{"haproxy"}, os: osDebian, accounts: []Account{{Name: "haproxy", UID: 99, GID: 99, Home: "/var/lib/haproxy"}},
		appUser: "haproxy", user: "haproxy"},
	{names: []string{"traefik"}, os: osAlpine, ports: []int{80}},
	{names: []string{"tiangolo/uvicorn-gunicorn", "tiangolo/uvicorn-gunicorn-fastapi", "tiangolo/uwsgi-nginx",
		"tiangolo/uwsgi-nginx-flask", "tiangolo/meinheld-gunicorn", "tiangolo/meinheld-gunicorn-flask"},
		os: osDebian, runtime: []string{"python3", "python"}, full: buildpackFull, ports: []int{80}},
	// OS images.
	{names: []string{"debian"}, os: osDebian},
	{names: []string{"ubuntu"}, os: osUbuntu},
	{names: []string{"alpine"}, os: osAlpine},
	{names: []string{"busybox"}, os: ImageFacts{Family: Unknown, OS: "busybox", Shell: "/bin/sh", UserTools: "adduser", Tools: []string{"wget"}}},
	{names: []string{"ubi7", "ubi8", "ubi9", "ubi10", "ubi8/ubi", "ubi9/ubi", "ubi10/ubi", "redhat/ubi8", "redhat/ubi9", "ubi7/ubi",
		"ubi8/ubi-init", "ubi9/ubi-init"}, os: osUBI},
	{names: []string{"ubi8/ubi-minimal", "ubi9/ubi-minimal", "ubi10/ubi-minimal", "redhat/ubi8-minimal", "redhat/ubi9-minimal",
		"ubi8-minimal", "ubi9-minimal", "ubi7/ubi-minimal"}, os: osUBIMinimal},
	{names: []string{"ubi8/ubi-micro", "ubi9/ubi-micro", "ubi10/ubi-micro", "ubi9-micro", "ubi8-micro"}, os: osUBIMicro},
	{names: []string{"ubi8/nodejs-18", "ubi8/nodejs-20", "ubi9/nodejs-18", "ubi9/nodejs-20", "ubi9/nodejs-22", "ubi8/python-39",
		"ubi8/python-311", "ubi9/python-311", "ubi9/python-312", "ubi8/openjdk-17", "ubi9/openjdk-17", "ubi9/openjdk-21"},
		os: osUBI, accounts: []Account{{Name: "default", UID: 1001, GID: 0, Home: "/opt/app-root/src"}}, appUser: "default", user: "1001"},
	{names: []string{"centos", "rockylinux", "rockylinux/rockylinux", "almalinux", "fedora", "oraclelinux", "redhat/ubi"}, os: osRHELFull},
	{names: []string{"amazonlinux"}, os: osAL2023, variants: []variant{v(`^2($|\.)`, osAL2, "al2")}},
	// Distroless and Chainguard.
	{names: []string{"distroless"}, prefix: true, os: osDistroless,
		variants: []variant{
			withTools(v(`debug`, ImageFacts{Family: Distroless, OS: "distroless", Shell: "/busybox/sh",
				Accounts: osDistroless.Accounts}, "debug"), "wget"),
		}},
	{names: []string{"chainguard/wolfi-base", "wolfi-base", "chainguard/busybox"}, os: osWolfi},
	{names: []string{"chainguard"}, prefix: true, os: osDistroless, user: "65532", appUser: "nonroot",
		accounts: []Account{{Name: "nonroot", UID: 65532, GID: 65532, Home: "/home/nonroot"}},
		variants: []variant{v(`(^|-)dev$`, osWolfi, "dev")}},
	// Databases and brokers are base images in some projects.
	{names: []string{"postgres", "redis", "memcached", "couchdb"}, os: osDebian},
	{names: []string{"mongo", "rabbitmq", "mariadb", "cassandra"}, os: osUbuntu},
	{names: []string{"mysql"}, os: osOracleSlim, variants: []variant{v(`debian`, osDebian, "debian")}},
	{names: []string{"playwright"}, os: osUbuntu, runtime: []string{"node"}},
	{names: []string{"continuumio/miniconda3", "continuumio/anaconda3", "condaforge/miniforge3"}, os: osDebian, runtime: []string{"python3", "python"}},
	{names: []string{"bitnami"}, prefix: true, os: osDebian},
}

// dotnetMajor returns the major version of a .NET tag (0 when unknown).
func dotnetMajor(tag string) int {
	major, _, _ := strings.Cut(tag, ".")
	major, _, _ = strings.Cut(major, "-")
	n, _ := strconv.Atoi(major)
	return n
}

// LookupImage returns the facts the table holds for an image reference
// (build arguments already expanded where possible). An image that is not
// in the table still gets its OS from a tag spelling (bookworm, alpine...)
// or from the last element of its name when that is an official image
// mirrored elsewhere (registry.example.com/dockerhub/node); otherwise the
// facts have Family Unknown and Known false.
func LookupImage(ref string) ImageFacts {
	if f, ok := lookedUp.Load(ref); ok {
		return f.(ImageFacts).clone()
	}
	f := lookupImage(ref)
	if lookedUpN.Load() < maxLookedUp {
		if _, loaded := lookedUp.LoadOrStore(ref, f.clone()); !loaded {
			lookedUpN.Add(1)
		}
	}
	return f
}

// lookedUp memoizes LookupImage (the table is fixed): every stage of every
// parse of a build asked again, with a regexp per tag variant of the row,
// and the builds of a repository share a handful of base images. Bounded
// at maxLookedUp references.
var (
	lookedUp  sync.Map // ref → ImageFacts
	lookedUpN atomic.Int64
)

const maxLookedUp = 1 << 12

// clone returns f with its own copies of the slices, so that a caller
// that changes them cannot change the memo.
func (f ImageFacts) clone() ImageFacts {
	f.Accounts = slices.Clone(f.Accounts)
	f.Tools = slices.Clone(f.Tools)
	f.Ports = slices.Clone(f.Ports)
	return f
}

func lookupImage(ref string) ImageFacts {
	if strings.EqualFold(strings.TrimSpace(ref), "scratch") {
		return ImageFacts{Family: Scratch, OS: "scratch", Known: true, Source: "scratch"}
	}
	im := ParseImage(ref)
	tag := strings.ToLower(im.Tag)
	full := strings.ToLower(ref)
	switch {
	case strings.Contains(full, "windows") || strings.Contains(full, "nanoserver") || strings.Contains(full, "servercore"):
		return known(osWindows, "windows")
	}
	row := findRow(im.Name)
	if row == nil {
		switch {
		case strings.Contains(im.Name, "distroless"):
			return known(osDistroless, "distroless name")
		case strings.Contains(im.Name, "alpine"):
			return known(osAlpine, "alpine name")
		}
		for _, vr := range stdVariants {
			if tag != "" && vr.tag.MatchString(tag) {
				f := known(vr.os, "tag "+vr.name)
				if vr.tools != nil {
					f.Tools = vr.tools
				}
				return f
			}
		}
		if row = findRow(im.Base()); row == nil {
			return ImageFacts{Family: Unknown}
		}
	}
	f := row.os
	source := row.names[0]
	tools := slices.Concat(row.os.Tools, row.runtime, row.full)
	var matched *variant
	if tag != "" {
	search:
		for _, list := range [][]variant{row.variants, stdVariants} {
			for i := range list {
				if list[i].tag.MatchString(tag) {
					matched = &list[i]
					break search
				}
			}
		}
	}
	if matched != nil {
		f = matched.os
		source += " (" + matched.name + ")"
		tools = slices.Concat(matched.os.Tools, row.runtime)
		// A tag naming the default's own OS (node:20-bookworm) is the
		// full image unless it says slim.
		if matched.os.OS == row.os.OS && !strings.Contains(tag, "slim") {
			tools = append(tools, row.full...)
		}
		if matched.tools != nil {
			tools = matched.tools
		}
	}
	if f.Family == Distroless {
		// Distroless runtimes are named after their language.
		for _, rt := range [][2]string{{"python", "python3"}, {"node", "node"}, {"java", "java"}} {
			if strings.Contains(im.Name, rt[0]) {
				tools = append(tools, rt[1])
			}
		}
	}
	f.Tools = dedupe(tools)
	if f.Family != Windows {
		f.Accounts = slices.Concat(row.accounts, f.Accounts)
	}
	f.AppUser = row.appUser
	f.DefaultUser = row.user
	if matched != nil && matched.user != nil {
		f.DefaultUser = *matched.user
	}
	f.Ports = row.ports
	if row.portsFor != nil {
		f.Ports = row.portsFor(tag)
	}
	// .NET 8 and later ship the "app" user (uid 1654).
	if strings.HasPrefix(im.Name, "dotnet/") && (dotnetMajor(tag) >= 8 || tag == "" || tag == "latest") {
		f.Accounts = append([]Account{dotnetApp}, f.Accounts...)
		f.AppUser = "app"
	}
	// distroless :nonroot tags run as nonroot.
	if f.Family == Distroless && strings.Contains(tag, "nonroot") {
		f.DefaultUser = "65532"
		f.AppUser = "nonroot"
	}
	f.Known = f.Family != Unknown
	f.Source = source
	return f
}

func known(f ImageFacts, source string) ImageFacts {
	f.Known = f.Family != Unknown
	f.Source = source
	return f
}

func findRow(name string) *imageRow {
	for i := range imageTable {
		for _, n := range imageTable[i].names {
			if name == n || strings.HasSuffix(name, "/"+n) && !strings.Contains(n, "/") && strings.Count(name, "/") == 1 && imageVendorMirror(name) {
				return &imageTable[i]
			}
		}
	}
	for i := range imageTable {
		if !imageTable[i].prefix {
			continue
		}
		for _, n := range imageTable[i].names {
			if strings.HasPrefix(name, n+"/") || strings.HasPrefix(name, n+"-") {
				return &imageTable[i]
			}
		}
	}
	return nil
}

// imageVendorMirror reports whether a two-part name is a known mirror of
// the official images (public.ecr.aws/docker/library is stripped to
// docker/library by ParseImage; amd64/node, arm64v8/python...).
func imageVendorMirror(name string) bool {
	org, _, _ := strings.Cut(name, "/")
	switch org {
	case "amd64", "arm64v8", "arm32v7", "arm32v6", "i386", "ppc64le", "s390x", "riscv64", "docker", "mirror", "dockerhub", "library":
		return true
	}
	return false
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// TableSize returns the number of image names the table knows.
func TableSize() int {
	n := 0
	for _, r := range imageTable {
		n += len(r.names)
	}
	return n
}
