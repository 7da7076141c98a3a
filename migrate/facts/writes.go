package facts

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// WritePath is a container directory the application writes at run time.
type WritePath struct {
	// Path is absolute (relative evidence is resolved against WORKDIR).
	Path string
	// Evidence says where it was found ("ENV UPLOAD_FOLDER=uploads",
	// "app.py: sqlite3.connect('app.db')", "compose volume data:/app/data").
	Evidence string
}

// writeVars are variables whose value is a directory (or, for the
// database ones, a file) the application writes.
var writeVars = map[string]bool{
	"UPLOAD_FOLDER": true, "UPLOAD_DIR": true, "UPLOADS_DIR": true, "UPLOAD_PATH": true, "UPLOADS_FOLDER": true,
	"MEDIA_ROOT": true, "MEDIA_DIR": true, "DATA_DIR": true, "DATA_PATH": true, "STORAGE_DIR": true, "STORAGE_PATH": true,
	"LOG_DIR": true, "LOGS_DIR": true, "LOG_PATH": true, "CACHE_DIR": true, "TMP_DIR": true,
	"SQLITE_PATH": true, "SQLITE_FILE": true, "SQLITE_DB": true, "DB_PATH": true, "DATABASE_PATH": true, "DB_FILE": true,
}

// sqliteURL matches the path of a SQLite URL (sqlite:///app.db is relative,
// sqlite:////data/app.db absolute).
var sqliteURL = regexp.MustCompile(`sqlite3?:///([^'"\s?]+)`)

// writeSource are patterns of sources that write a path; the bool says the
// path is a file (its directory is what must be writable).
var writeSource = []struct {
	re   *regexp.Regexp
	file bool
}{
	{regexp.MustCompile(`UPLOAD_FOLDER['"]?\]?\s*=\s*(?:os\.(?:environ\.get|getenv)\(\s*['"]\w+['"]\s*,\s*)?['"]([^'"]+)['"]`), false},
	{regexp.MustCompile(`(?:MEDIA_ROOT|UPLOAD_DIR|DATA_DIR)\s*=\s*(?:os\.(?:environ\.get|getenv)\(\s*['"]\w+['"]\s*,\s*)?['"]([^'"]+)['"]`), false},
	{regexp.MustCompile(`os\.makedirs?\(\s*['"]([^'"]+)['"]`), false},
	{regexp.MustCompile(`Path\(\s*['"]([^'"]+)['"]\s*\)\.mkdir\(`), false},
	{regexp.MustCompile(`sqlite3\.connect\(\s*['"]([^'"]+)['"]`), true},
	{regexp.MustCompile(`sqlite3?:///([^'"\s?]+)`), true},
	{regexp.MustCompile(`\bopen\(\s*['"]([^'"]+)['"]\s*,\s*['"][wax]b?\+?['"]`), true},
	{regexp.MustCompile(`multer\(\s*\{\s*dest\s*:\s*['"]([^'"]+)['"]`), false},
	{regexp.MustCompile(`fs\.(?:mkdirSync|mkdir)\(\s*['"]([^'"]+)['"]`), false},
	{regexp.MustCompile(`(?:sqlite3\.)?Database\(\s*['"]([^'"]+\.(?:db|sqlite3?))['"]`), true},
	{regexp.MustCompile(`fs\.(?:writeFileSync|appendFileSync|createWriteStream)\(\s*['"]([^'"]+)['"]`), true},
	// Log files: Python logging handlers and basicConfig, winston and
	// pino in Node, Ruby's Logger; nedb-style filename: options.
	{regexp.MustCompile(`(?:FileHandler|RotatingFileHandler|WatchedFileHandler)\(\s*(?:filename\s*=\s*)?['"]([^'"]+)['"]`), true},
	{regexp.MustCompile(`basicConfig\([^)]*?filename\s*=\s*['"]([^'"]+)['"]`), true},
	{regexp.MustCompile(`filename\s*:\s*['"]([^'"]+\.(?:log|db|json|sqlite3?))['"]`), true},
	// JSON-file databases (lowdb).
	{regexp.MustCompile(`new\s+(?:JSONFile|JSONFileSync|FileSync|FileAsync)\(\s*['"]([^'"]+)['"]`), true},
	{regexp.MustCompile(`pino\.destination\(\s*['"]([^'"]+)['"]`), true},
	{regexp.MustCompile(`Logger\.new\(\s*['"]([^'"]+)['"]`), true},
}

// AppWrites is the one answer to "which directories does this stage's
// application write at run time", used by every rule: the directories
// named by variables such as UPLOAD_FOLDER or SQLITE_PATH (ENV and the
// compose environment), SQLite URLs, compose named volumes, and writes in
// the context's sources (upload folders, makedirs, sqlite files, files
// opened for writing), resolved against the stage's WORKDIR. /tmp-like
// directories, which every user may write, are left out.
func AppWrites(sf *StageFacts, b *Build) []WritePath {
	if sf.writes != nil {
		return *sf.writes
	}
	out := appWrites(sf, b)
	sf.writes = &out
	return out
}

func appWrites(sf *StageFacts, b *Build) []WritePath {
	workdir := sf.Workdir(nil)
	var out []WritePath
	add := func(p, evidence string, file bool) {
		p = strings.TrimSpace(p)
		if p == "" || p == ":memory:" || strings.ContainsAny(p, "$*{}%<>|") || strings.HasPrefix(p, "~") {
			return
		}
		if !path.IsAbs(p) {
			p = path.Join(workdir, p)
		}
		p = path.Clean(p)
		if file {
			p = path.Dir(p)
		}
		if p == "/" || ClassifyPath(p) == PathScratch {
			return
		}
		for _, o := range out {
			if o.Path == p {
				return
			}
		}
		out = append(out, WritePath{Path: p, Evidence: evidence})
	}
	fromVar := func(k, v, where string) {
		if m := sqliteURL.FindStringSubmatch(v); m != nil {
			add(m[1], where+k+"="+v, true)
			return
		}
		if !writeVars[k] {
			return
		}
		isFile := strings.Contains(k, "SQLITE") || strings.HasPrefix(k, "DB_") || strings.HasPrefix(k, "DATABASE") || strings.HasSuffix(k, "_FILE")
		add(v, where+k+"="+v, isFile)
	}
	env := sf.Env(nil)
	for _, k := range slices.Sorted(mapKeys(env)) {
		fromVar(k, env[k], "ENV ")
	}
	for _, s := range sf.Services {
		for _, k := range slices.Sorted(mapKeys(s.Environment)) {
			fromVar(k, s.Environment[k], "compose service "+s.Name+" environment ")
		}
		for _, m := range s.Mounts {
			if m.Type == "volume" && m.Target != "" && !m.ReadOnly {
				add(m.Target, fmt.Sprintf("compose service %s volume %s:%s", s.Name, m.Source, m.Target), false)
			}
		}
	}
	if b != nil {
		for _, w := range b.SourceWrites {
			add(w.Path, w.Evidence, w.file)
		}
	}
	for _, w := range sf.startScan().writes {
		add(w.Path, w.Evidence, w.file)
	}
	return out
}

// sourceWrite is a path a source file writes, as written (relative paths
// are resolved against the WORKDIR of the stage that runs it).
type sourceWrite struct {
	Path, Evidence string
	file           bool
}

// addSourceWrites adds the paths a source file writes (uploads folders,
// sqlite files, ...), with their evidence.
func addSourceWrites(out []sourceWrite, f sourceFile) []sourceWrite {
	switch f.ext {
	case ".py", ".js", ".mjs", ".cjs", ".ts", ".rb":
	default:
		return out
	}
	for _, ws := range writeSource {
		for _, m := range ws.re.FindAllSubmatch(f.data, -1) {
			out = append(out, sourceWrite{Path: string(m[1]), Evidence: f.rel + ": " + strings.TrimSpace(string(m[0])), file: ws.file})
		}
	}
	return out
}

// BindOver is a compose bind mount that covers a directory of the image.
type BindOver struct {
	Service string
	Mount   Mount
}

// BindMountsOver returns the compose bind mounts of the stage's services
// whose target is dir or one of its parents (a source bind mount over
// WORKDIR hides what the image put there).
func BindMountsOver(sf *StageFacts, dir string) []BindOver {
	var out []BindOver
	for _, s := range sf.Services {
		for _, m := range s.Mounts {
			if m.Type != "bind" || m.Target == "" {
				continue
			}
			t := path.Clean(m.Target)
			if t == dir || t == "/" || strings.HasPrefix(dir, t+"/") {
				out = append(out, BindOver{Service: s.Name, Mount: m})
			}
		}
	}
	return out
}

// Under reports whether p is dir or below it.
func Under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}
