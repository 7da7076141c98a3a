package facts

import "strings"

// This file holds the package knowledge the multi-stage split needs: which
// OS packages are only needed to compile (compilers, headers, -dev
// packages) and which run-time library each -dev package stands for, per
// base-image family (and, for Debian, per release where names differ).

// buildTools are packages that only compile or fetch sources; a runtime
// stage never needs them.
var buildTools = map[string]bool{
	// compilers and build systems
	"gcc": true, "g++": true, "cpp": true, "clang": true, "llvm": true, "make": true, "cmake": true,
	"ninja": true, "ninja-build": true, "autoconf": true, "automake": true, "libtool": true,
	"pkgconf": true, "pkgconfig": true, "pkg-config": true, "bison": true, "flex": true,
	"build-base": true, "build-essential": true, "alpine-sdk": true, "binutils": true,
	"gcc-c++": true, "gfortran": true, "swig": true,
	// C library headers
	"musl-dev": true, "libc-dev": true, "libc6-dev": true, "linux-headers": true,
	"linux-libc-dev": true, "glibc-devel": true, "kernel-headers": true,
	// language headers and toolchains
	"python3-dev": true, "python-dev": true, "python3-devel": true, "cargo": true, "rust": true,
	"rustc": true, "go": true, "golang": true,
	// source fetching
	"git": true,
}

// IsBuildTool reports whether an OS package is only useful while building.
func IsBuildTool(pkg string) bool { return buildTools[pkg] }

// IsDevPackage reports whether an OS package ships headers for compiling
// against a library (libffi-dev, openssl-devel...).
func IsDevPackage(pkg string) bool {
	return strings.HasSuffix(pkg, "-dev") || strings.HasSuffix(pkg, "-devel") || strings.HasSuffix(pkg, "-headers")
}

// splitAlpineRuntime maps Alpine -dev packages to the library package a
// program linked against them needs at run time.
var splitAlpineRuntime = map[string]string{
	"libffi-dev":              "libffi",
	"postgresql-dev":          "libpq",
	"postgresql15-dev":        "libpq",
	"postgresql16-dev":        "libpq",
	"libpq-dev":               "libpq",
	"jpeg-dev":                "libjpeg-turbo",
	"libjpeg-turbo-dev":       "libjpeg-turbo",
	"zlib-dev":                "zlib",
	"openssl-dev":             "openssl",
	"libressl-dev":            "libressl",
	"libxml2-dev":             "libxml2",
	"libxslt-dev":             "libxslt",
	"yaml-dev":                "yaml",
	"libyaml-dev":             "yaml",
	"mariadb-dev":             "mariadb-connector-c",
	"mariadb-connector-c-dev": "mariadb-connector-c",
	"freetype-dev":            "freetype",
	"libpng-dev":              "libpng",
	"lcms2-dev":               "lcms2",
	"libwebp-dev":             "libwebp",
	"tiff-dev":                "tiff",
	"openjpeg-dev":            "openjpeg",
	"harfbuzz-dev":            "harfbuzz",
	"fribidi-dev":             "fribidi",
	"curl-dev":                "libcurl",
	"sqlite-dev":              "sqlite-libs",
	"geos-dev":                "geos",
	"gdal-dev":                "gdal",
	"proj-dev":                "proj",
	"libsodium-dev":           "libsodium",
	"krb5-dev":                "krb5-libs",
	"cairo-dev":               "cairo",
	"pango-dev":               "pango",
	"gmp-dev":                 "gmp",
	"file-dev":                "libmagic",
	"zeromq-dev":              "zeromq",
	"bzip2-dev":               "libbz2",
	"xz-dev":                  "xz-libs",
	"readline-dev":            "readline",
	"ncurses-dev":             "ncurses-libs",
	"libevent-dev":            "libevent",
	"libuv-dev":               "libuv",
	"pcre-dev":                "pcre",
	"pcre2-dev":               "pcre2",
	"icu-dev":                 "icu-libs",
	"openldap-dev":            "libldap",
	"unixodbc-dev":            "unixodbc",
	"librdkafka-dev":          "librdkafka",
	"cyrus-sasl-dev":          "cyrus-sasl",
	"glib-dev":                "glib",
	"vips-dev":                "vips",
	"libusb-dev":              "libusb",
	"expat-dev":               "expat",
	"libmemcached-dev":        "libmemcached-libs",
	"libzip-dev":              "libzip",
	"libstdc++-dev":           "libstdc++",
	"snappy-dev":              "snappy",
	"lz4-dev":                 "lz4-libs",
	"zstd-dev":                "zstd-libs",
	"hiredis-dev":             "hiredis",
	"protobuf-dev":            "protobuf",
	"libxmlsec1-dev":          "xmlsec",
	"xmlsec-dev":              "xmlsec",
	"imagemagick-dev":         "imagemagick-libs",
	"libheif-dev":             "libheif",
	"giflib-dev":              "giflib",
	"libsndfile-dev":          "libsndfile",
	"ffmpeg-dev":              "ffmpeg-libs",
	"argon2-dev":              "argon2-libs",
	"libxrender-dev":          "libxrender",
	"libx11-dev":              "libx11",
	"libxext-dev":             "libxext",
	"fontconfig-dev":          "fontconfig",
	"pixman-dev":              "pixman",
	"libsecret-dev":           "libsecret",
	"linux-pam-dev":           "linux-pam",
	"util-linux-dev":          "libuuid",
	"libuuid-dev":             "libuuid",
	"libmaxminddb-dev":        "libmaxminddb",
	"libseccomp-dev":          "libseccomp",
	"libcap-dev":              "libcap",
	"libpcap-dev":             "libpcap",
	"mpfr-dev":                "mpfr4",
	"mpc1-dev":                "mpc1",
	"openblas-dev":            "openblas",
	"lapack-dev":              "lapack",
	"hdf5-dev":                "hdf5",
}

// splitAny is the Debian table key for a name shared by the current
// releases (bookworm and trixie), used when the release is not known.
const splitAny = "*"

// splitDebianRuntime maps Debian/Ubuntu -dev packages to their run-time
// libraries. A name that differs between releases has no splitAny entry, so
// an unknown release leaves it undecided.
var splitDebianRuntime = map[string]map[string]string{
	"libffi-dev":                 {splitAny: "libffi8", "bullseye": "libffi7"},
	"libpq-dev":                  {splitAny: "libpq5"},
	"libjpeg-dev":                {splitAny: "libjpeg62-turbo"},
	"libjpeg62-turbo-dev":        {splitAny: "libjpeg62-turbo"},
	"zlib1g-dev":                 {splitAny: "zlib1g"},
	"libssl-dev":                 {"bookworm": "libssl3", "trixie": "libssl3t64", "bullseye": "libssl1.1"},
	"libxml2-dev":                {splitAny: "libxml2"},
	"libxslt1-dev":               {splitAny: "libxslt1.1"},
	"libxslt-dev":                {splitAny: "libxslt1.1"},
	"libyaml-dev":                {splitAny: "libyaml-0-2"},
	"default-libmysqlclient-dev": {splitAny: "libmariadb3"},
	"libmariadb-dev":             {splitAny: "libmariadb3"},
	"libmariadb-dev-compat":      {splitAny: "libmariadb3"},
	"libfreetype6-dev":           {splitAny: "libfreetype6"},
	"libfreetype-dev":            {splitAny: "libfreetype6"},
	"libpng-dev":                 {"bookworm": "libpng16-16", "bullseye": "libpng16-16", "trixie": "libpng16-16t64"},
	"liblcms2-dev":               {splitAny: "liblcms2-2"},
	"libwebp-dev":                {splitAny: "libwebp7", "bullseye": "libwebp6"},
	"libtiff-dev":                {splitAny: "libtiff6", "bullseye": "libtiff5"},
	"libtiff5-dev":               {splitAny: "libtiff6", "bullseye": "libtiff5"},
	"libopenjp2-7-dev":           {splitAny: "libopenjp2-7"},
	"libcurl4-openssl-dev":       {"bookworm": "libcurl4", "bullseye": "libcurl4", "trixie": "libcurl4t64"},
	"libsqlite3-dev":             {splitAny: "libsqlite3-0"},
	"libgeos-dev":                {splitAny: "libgeos-c1v5"},
	"libsodium-dev":              {splitAny: "libsodium23"},
	"libkrb5-dev":                {splitAny: "libkrb5-3"},
	"libcairo2-dev":              {splitAny: "libcairo2"},
	"libpango1.0-dev":            {splitAny: "libpango-1.0-0"},
	"libgmp-dev":                 {splitAny: "libgmp10"},
	"libmagic-dev":               {"bookworm": "libmagic1", "bullseye": "libmagic1", "trixie": "libmagic1t64"},
	"libzmq3-dev":                {splitAny: "libzmq5"},
	"libbz2-dev":                 {splitAny: "libbz2-1.0"},
	"liblzma-dev":                {splitAny: "liblzma5"},
	"libreadline-dev":            {"bookworm": "libreadline8", "bullseye": "libreadline8", "trixie": "libreadline8t64"},
	"libncurses-dev":             {splitAny: "libncursesw6"},
	"libncurses5-dev":            {splitAny: "libncursesw6"},
	"libevent-dev":               {"bookworm": "libevent-2.1-7", "bullseye": "libevent-2.1-7", "trixie": "libevent-2.1-7t64"},
	"libuv1-dev":                 {"bookworm": "libuv1", "bullseye": "libuv1", "trixie": "libuv1t64"},
	"libpcre3-dev":               {"bookworm": "libpcre3", "bullseye": "libpcre3"},
	"libpcre2-dev":               {splitAny: "libpcre2-8-0"},
	"libldap2-dev":               {"bookworm": "libldap-2.5-0", "bullseye": "libldap-2.4-2", "trixie": "libldap2"},
	"libsasl2-dev":               {splitAny: "libsasl2-2"},
	"unixodbc-dev":               {splitAny: "unixodbc"},
	"librdkafka-dev":             {splitAny: "librdkafka1"},
	"libglib2.0-dev":             {"bookworm": "libglib2.0-0", "bullseye": "libglib2.0-0", "trixie": "libglib2.0-0t64"},
	"libvips-dev":                {"bookworm": "libvips42", "bullseye": "libvips42", "trixie": "libvips42t64"},
	"libxmlsec1-dev":             {splitAny: "libxmlsec1"},
	"libgdal-dev":                {},
	"libhdf5-dev":                {},
	"libopenblas-dev":            {splitAny: "libopenblas0"},
	"libexpat1-dev":              {splitAny: "libexpat1"},
	"libzstd-dev":                {splitAny: "libzstd1"},
	"liblz4-dev":                 {splitAny: "liblz4-1"},
	"libsnappy-dev":              {"bookworm": "libsnappy1v5", "bullseye": "libsnappy1v5", "trixie": "libsnappy1v5"},
	"libgif-dev":                 {splitAny: "libgif7"},
	"libcap-dev":                 {splitAny: "libcap2"},
	"libseccomp-dev":             {splitAny: "libseccomp2"},
	"libmaxminddb-dev":           {splitAny: "libmaxminddb0"},
	"libhiredis-dev":             {"bookworm": "libhiredis0.14", "bullseye": "libhiredis0.14", "trixie": "libhiredis1.1.0"},
	"libargon2-dev":              {splitAny: "libargon2-1"},
	"uuid-dev":                   {splitAny: "libuuid1"},
	"libsecret-1-dev":            {splitAny: "libsecret-1-0"},
	"libpam0g-dev":               {splitAny: "libpam0g"},
	"libmemcached-dev":           {splitAny: "libmemcached11"},
	"libzip-dev":                 {"bookworm": "libzip4", "bullseye": "libzip4", "trixie": "libzip5"},
}

// DevRuntimePackage returns the run-time library package that replaces a
// -dev package in a lean image of the given family and Debian release
// ("" when unknown). ok is false when the table has no safe answer.
func DevRuntimePackage(fam Family, release, pkg string) (string, bool) {
	switch fam {
	case Alpine:
		rt, ok := splitAlpineRuntime[pkg]
		return rt, ok
	case Debian:
		byRel, ok := splitDebianRuntime[pkg]
		if !ok {
			return "", false
		}
		if rt, ok := byRel[release]; ok && release != "" {
			return rt, true
		}
		if splitUbuntu[release] {
			return "", false // Ubuntu names often differ from Debian's
		}
		rt, ok := byRel[splitAny]
		return rt, ok
	}
	return "", false
}

// pythonImageLibs are the -dev packages the official python images build
// CPython against. Those images keep installed every library that CPython
// and its own extension modules (_ctypes, _ssl, _sqlite3, zlib, _bz2,
// _lzma, readline, _curses, _uuid, _dbm) link to, on Debian and Alpine
// alike, so a runtime stage on them need not install these libraries.
var pythonImageLibs = map[string]bool{
	"libffi-dev": true, "libssl-dev": true, "openssl-dev": true, "libsqlite3-dev": true, "sqlite-dev": true,
	"zlib1g-dev": true, "zlib-dev": true, "libbz2-dev": true, "bzip2-dev": true, "liblzma-dev": true, "xz-dev": true,
	"libreadline-dev": true, "readline-dev": true, "libncurses-dev": true, "libncurses5-dev": true, "libncursesw5-dev": true,
	"ncurses-dev": true, "uuid-dev": true, "util-linux-dev": true, "libgdbm-dev": true, "gdbm-dev": true,
}

// ImageShipsLibraryOf reports whether an image already has the run-time
// library of a -dev package installed, so that a runtime stage built on
// it need not install the library again (and need not run the package
// manager at all when nothing else is left).
func ImageShipsLibraryOf(im Image, devPkg string) bool {
	return im.Name == "python" && pythonImageLibs[devPkg]
}

// splitReleases are the Debian and Ubuntu code names recognised in tags.
var splitReleases = []string{"bookworm", "bullseye", "buster", "trixie", "forky", "jammy", "focal", "noble", "bionic"}

// splitUbuntu are the Ubuntu code names among splitReleases.
var splitUbuntu = map[string]bool{"jammy": true, "focal": true, "noble": true, "bionic": true}

// DebianRelease returns the Debian or Ubuntu code name an image tag names
// ("" when the tag names none).
func DebianRelease(tag string) string {
	tag = strings.ToLower(tag)
	for _, r := range splitReleases {
		if strings.Contains(tag, r) {
			return r
		}
	}
	return ""
}
