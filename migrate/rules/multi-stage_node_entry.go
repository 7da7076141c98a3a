package rules

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// splitNodeOutDir returns the build output directory every entry file lives
// in ("" when they do not all live in one).
func splitNodeOutDir(refs []string) string {
	dir := ""
	for _, r := range refs {
		first, _, ok := strings.Cut(r, "/")
		if !ok || !splitNodeOutDirs[first] || (dir != "" && dir != first) {
			return ""
		}
		dir = first
	}
	return dir
}

// splitNodeEntry returns the files the container's start command runs
// (relative to wd), the program it starts, and whether every entry was
// understood.
func splitNodeEntry(c *splitCtx, wd string) (refs []string, prog string, known bool) {
	entries, ok := c.entryWords()
	if !ok || len(entries) == 0 {
		return nil, "", false
	}
	known = true
	for _, words := range entries {
		r, pr, k := splitNodeRefs(c, words, wd, 0)
		refs = append(refs, r...)
		if prog == "" {
			prog = pr
		}
		known = known && k
	}
	return refs, prog, known
}

// splitNodeRefs follows npm scripts down to the files node runs.
func splitNodeRefs(c *splitCtx, words []string, wd string, depth int) (refs []string, prog string, known bool) {
	if len(words) == 0 || depth > 4 {
		return nil, "", false
	}
	pkg := c.p.Facts.Node
	script := ""
	switch words[0] {
	case "docker-entrypoint.sh":
		return splitNodeRefs(c, words[1:], wd, depth+1)
	case "npm", "yarn", "pnpm":
		args := words[1:]
		if len(args) > 0 && (args[0] == "run" || args[0] == "run-script") {
			args = args[1:]
		}
		if len(args) == 0 {
			return nil, "", false
		}
		script = args[0]
		body, ok := pkg.Scripts[script]
		if !ok && script == "start" {
			body, ok = "node server.js", true
		}
		if !ok {
			return nil, "", false
		}
		sc, ok := dockerfile.ParseScript(splitAssign.ReplaceAllString(body, "$1$2"))
		if !ok {
			return nil, "", false
		}
		known = true
		for _, cmd := range sc.Commands {
			r, pr, k := splitNodeRefs(c, cmd.Words, wd, depth+1)
			refs = append(refs, r...)
			if prog == "" {
				prog = pr
			}
			known = known && k
		}
		return refs, prog, known
	case "npx":
		for _, w := range words[1:] {
			if !strings.HasPrefix(w, "-") {
				return nil, w, false
			}
		}
		return nil, "npx", false
	case "node", "nodejs":
		file := ""
		args := words[1:]
		for i := 0; i < len(args); i++ {
			a := args[i]
			if a == "-r" || a == "--require" || a == "--import" || a == "--loader" || a == "--env-file" {
				i++
				continue
			}
			if strings.HasPrefix(a, "-") {
				continue
			}
			file = a
			break
		}
		if file == "" {
			return nil, "node", false // a REPL or -e: unknown
		}
		if file == "." || file == "./" {
			file = pkg.Main
			if file == "" {
				file = "index.js"
			}
		}
		rel, ok := splitRel(wd, file)
		if !ok {
			return nil, "node", false
		}
		return []string{rel}, "node", true
	}
	return nil, words[0], false
}

// splitRel returns file relative to wd ("./dist/x" → "dist/x").
func splitRel(wd, file string) (string, bool) {
	abs := facts.JoinPath(wd, file)
	if !strings.HasPrefix(abs, wd+"/") {
		return "", false
	}
	return strings.TrimPrefix(abs, wd+"/"), true
}

// splitNodeCopyAllBefore returns the index of a plain `COPY . <workdir>`
// that is the only copy before the install at depsAt, with nothing but
// metadata between them, or -1.
func splitNodeCopyAllBefore(c *splitCtx, depsAt int, wd string) int {
	at := -1
	for i, it := range c.items[:depsAt] {
		switch it.kind {
		case splitCopy, splitCopyFrom:
			if at >= 0 || it.in.Cmd != "copy" || len(it.in.Flags) > 0 || len(it.in.Args) != 2 || it.in.Args[0] != "." || strings.TrimSuffix(it.dest, "/") != strings.TrimSuffix(wd, "/") {
				return -1
			}
			at = i
		case splitMeta:
		default:
			if at >= 0 {
				return -1 // a RUN between the copy and the install may use the sources
			}
		}
	}
	return at
}
