package report

import (
	"bytes"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/composeopt/composeopt/migrate"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/verify"
)

// MarkdownOptions tune the pull-request description.
type MarkdownOptions struct {
	// Verify are measured results (verify --json); when set, the table shows image size,
	// build time, user and health per service.
	Verify []verify.Result
}

// Title is the pull-request title (also the commit subject).
func (d *Document) Title() string {
	names := d.servicesWith(migrate.StatusMigrate)
	switch {
	case len(names) == 0:
		return "composeopt: no Dockerfile changes"
	case len(names) <= 3:
		return "composeopt: optimized Dockerfiles for " + joinAnd(names)
	default:
		return fmt.Sprintf("composeopt: optimized Dockerfiles for %d services", len(names))
	}
}

// SummaryText is a one-paragraph description of the change: the services
// migrated and not, and the files touched.
func (d *Document) SummaryText() string { return d.summaryText("") }

// summaryText is SummaryText with a pointer to where the items that need a
// human are listed.
func (d *Document) summaryText(humansAt string) string {
	var b strings.Builder
	migrating := d.servicesWith(migrate.StatusMigrate)
	if len(migrating) == 0 {
		b.WriteString("composeopt has nothing to change in this project.")
	} else {
		fmt.Fprintf(&b, "This change moves %s (%s) to optimized Dockerfiles that composeopt derived from the originals; the original Dockerfiles are not modified.",
			count(len(migrating), "service", "services"), strings.Join(migrating, ", "))
	}
	if done := d.servicesWith(migrate.StatusUpToDate); len(done) > 0 {
		fmt.Fprintf(&b, " %s already migrated (%s).", count(len(done), "service is", "services are"), strings.Join(done, ", "))
	}
	var not []string
	for _, s := range d.Services {
		switch migrate.Status(s.Status) {
		case migrate.StatusMigrate, migrate.StatusUpToDate:
			continue
		}
		not = append(not, s.Name+": "+strings.TrimSuffix(s.Reason, "."))
	}
	if len(not) > 0 {
		fmt.Fprintf(&b, " %s not migrated (%s).", count(len(not), "service is", "services are"), strings.Join(not, "; "))
	}
	if len(d.Files) > 0 {
		var created, modified []string
		for _, f := range d.Files {
			if f.Action == "create" {
				created = append(created, "`"+f.Path+"`")
			} else {
				modified = append(modified, "`"+f.Path+"`")
			}
		}
		fmt.Fprintf(&b, " It touches %s", count(len(d.Files), "file", "files"))
		if len(d.Files) <= 8 {
			var parts []string
			if len(created) > 0 {
				parts = append(parts, "creates "+strings.Join(created, ", "))
			}
			if len(modified) > 0 {
				parts = append(parts, "modifies "+strings.Join(modified, ", "))
			}
			fmt.Fprintf(&b, ": it %s.", strings.Join(parts, " and "))
		} else {
			fmt.Fprintf(&b, ": %d new and %d modified.", len(created), len(modified))
		}
	}
	if n := d.Summary.NeedsHuman; n > 0 {
		fmt.Fprintf(&b, " %s a human decision%s.", count(n, "item needs", "items need"), humansAt)
	}
	return b.String()
}

// CommitMessage is a commit message: the title, the summary wrapped at 72
// columns, and one line per migrated build.
func (d *Document) CommitMessage() string {
	var b strings.Builder
	b.WriteString(d.Title())
	b.WriteString("\n\n")
	b.WriteString(Wrap(strings.ReplaceAll(d.SummaryText(), "`", ""), 72))
	b.WriteString("\n")
	first := true
	for _, bd := range d.Builds {
		if bd.Status != string(migrate.StatusMigrate) || bd.Optimized == nil {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		ids := make([]string, len(bd.Rules))
		for i, r := range bd.Rules {
			ids[i] = r.ID
		}
		fmt.Fprintf(&b, "- %s: %s (%s)\n", strings.Join(bd.Services, ", "), *bd.Optimized, strings.Join(ids, ", "))
	}
	return b.String()
}

// Markdown renders the pull-request description.
func (d *Document) Markdown(opts MarkdownOptions) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", d.Title(), escapeHTML(d.summaryText(" (see \"Needs a human\" below)")))

	b.WriteString("## Services\n\n")
	measured := map[string]verify.Result{}
	for _, v := range opts.Verify {
		measured[v.Service] = v
	}
	// A plan of several compose projects (-r) names services
	// "<project>:<service>" (compose service names never hold a colon): one
	// table per project, under its name.
	var groups []string
	byGroup := map[string][]Service{}
	for _, s := range d.Services {
		g := projectOf(s.Name)
		if byGroup[g] == nil {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], s)
	}
	for _, g := range groups {
		if len(groups) > 1 {
			name := "`" + g + "`"
			if g == "" {
				name = "The root project"
			}
			fmt.Fprintf(&b, "### %s\n\n", name)
		}
		prefix := ""
		if len(groups) > 1 && g != "" {
			prefix = g + ":"
		}
		d.serviceTable(&b, byGroup[g], measured, prefix)
	}
	b.WriteString(d.sizeChart(measured))

	if d.Summary.Builds.Migrate > 0 {
		b.WriteString("## Why each change\n\n")
		for _, bd := range d.Builds {
			if bd.Status != string(migrate.StatusMigrate) || bd.Optimized == nil {
				continue
			}
			fmt.Fprintf(&b, "<details>\n<summary><b>%s</b>: <code>%s</code> (%s)</summary>\n\n",
				escapeHTML(strings.Join(bd.Services, ", ")), escapeHTML(*bd.Optimized), count(len(bd.Rules), "rule", "rules"))
			for _, r := range bd.Rules {
				fmt.Fprintf(&b, "- `%s`", r.ID)
				if len(r.Lines) > 0 {
					fmt.Fprintf(&b, " (%s)", lineList(r.Lines))
				}
				why := FirstSentence(ruleDoc(r.ID))
				if why == "" {
					why = r.Title
				}
				fmt.Fprintf(&b, ": %s\n", escapeHTML(why))
			}
			if bd.ReducedGate != "" {
				fmt.Fprintf(&b, "- Quality gate: %s.\n", escapeHTML(bd.ReducedGate))
			}
			if bd.IgnoreFile != nil && len(bd.Ignored) > 0 {
				fmt.Fprintf(&b, "- `%s`: excludes %s from the build context (%s), so it is smaller and secrets such as `.env` files stay out of the image; nothing the Dockerfile copies is excluded.\n",
					*bd.IgnoreFile, count(len(bd.Ignored), "pattern", "patterns"), codeList(bd.Ignored, 6))
			}
			var notes []Finding
			for _, f := range bd.Findings {
				if !f.NeedsHuman {
					notes = append(notes, f)
				}
			}
			if len(notes) > 0 {
				b.WriteString("\nNotes:\n\n")
				for _, f := range notes {
					loc := ""
					switch {
					case f.File != "" && f.Line > 0:
						loc = fmt.Sprintf("%s line %d, ", f.File, f.Line)
					case f.File != "":
						loc = f.File + ", "
					case f.Line > 0:
						loc = fmt.Sprintf("line %d, ", f.Line)
					}
					fmt.Fprintf(&b, "- %s (%s`%s`)\n", escapeHTML(f.Message), loc, f.Rule)
				}
			}
			b.WriteString("\n</details>\n\n")
		}
	}

	b.WriteString("## Needs a human\n\n")
	humans := d.NeedsHuman()
	if len(humans) == 0 {
		b.WriteString("Nothing: composeopt decided every change on its own.\n\n")
	} else {
		b.WriteString("composeopt could not decide these; each needs a person before merging.\n\n")
		for _, h := range humans {
			fmt.Fprintf(&b, "- [ ] **%s**", strings.Join(h.Services, ", "))
			if h.Location != "" {
				fmt.Fprintf(&b, " `%s`", h.Location)
			}
			fmt.Fprintf(&b, ": %s", escapeHTML(h.Message))
			if h.Rule != "" {
				fmt.Fprintf(&b, " (`%s`)", h.Rule)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	b.WriteString("## Reviewer checklist\n\n")
	for _, item := range d.checklist(len(humans) > 0) {
		fmt.Fprintf(&b, "- [ ] %s\n", item)
	}
	b.WriteString("\n<sub>Generated by composeopt. Running `composeopt plan` on this branch should print no changes; `composeopt check` fails in CI until every service is migrated.</sub>\n")
	return b.Bytes()
}

// checklist adapts the migration checklist to the project.
func (d *Document) checklist(humans bool) []string {
	migrating := d.servicesWith(migrate.StatusMigrate)
	build := "`docker compose build`"
	if len(migrating) > 0 {
		build = "`docker compose build " + strings.Join(migrating, " ") + "`"
	}
	var names, reduced []string
	seen := map[string]bool{}
	for _, bd := range d.Builds {
		if bd.Status == string(migrate.StatusMigrate) && bd.Optimized != nil && !seen[path.Base(*bd.Optimized)] {
			seen[path.Base(*bd.Optimized)] = true
			names = append(names, "`"+path.Base(*bd.Optimized)+"`")
		}
		if bd.Status == string(migrate.StatusMigrate) && bd.Optimized != nil && bd.ReducedGate != "" {
			reduced = append(reduced, "`"+*bd.Optimized+"`")
		}
	}
	files := "the `*.optimized` Dockerfiles"
	if len(names) > 0 {
		files = "the new Dockerfile names (" + strings.Join(names, ", ") + ")"
	}
	var items []string
	if humans {
		items = append(items, "Settle every item under \"Needs a human\" above.")
	}
	if len(reduced) > 0 {
		items = append(items, "Run `docker build --check` on "+strings.Join(reduced, ", ")+": too long for composeopt's full quality gate, they passed only the reduced one (no BuildKit stage checks, no LLB conversion).")
	}
	return append(items,
		"Build the images locally with the new Dockerfiles: "+build+".",
		"Compare image sizes (`docker image ls`) and build times with images built from the originals; the new ones should not be larger.",
		"Start the services (`docker compose up -d`) and check each health check reaches `healthy` (`docker inspect --format '{{.State.Health.Status}}' CONTAINER`).",
		"Check the containers do not run as root: `docker compose exec SERVICE id -u` prints a non-zero UID, and volumes the service writes to are writable by that user.",
		"Point CI jobs and scripts that run `docker build -f` at "+files+"; compose already uses them.",
		"Deploy to staging first and watch logs and health before production.",
	)
}

// sizeChart is a Mermaid bar chart of the image size before and after per
// service that has both, in the table's order, or "" when none has. Mermaid's
// xychart draws the two series on top of each other, the optimized bar in
// front of the original one.
func (d *Document) sizeChart(measured map[string]verify.Result) string {
	var names, before, after []string
	top := 0.0
	for _, s := range d.Services {
		v, ok := measured[s.Name]
		if !ok || v.Original.Size <= 0 || v.Optimized.Size <= 0 {
			continue
		}
		b, a := mib(v.Original.Size), mib(v.Optimized.Size)
		top = max(top, b, a)
		names = append(names, strconv.Quote(strings.NewReplacer(`"`, "", `\`, "").Replace(s.Name)))
		before = append(before, strconv.FormatFloat(b, 'f', 1, 64))
		after = append(after, strconv.FormatFloat(a, 'f', 1, 64))
	}
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Image size in MiB per service: original (back bar) and optimized (front bar).\n\n")
	b.WriteString("```mermaid\nxychart-beta\n")
	b.WriteString("    title \"Image size (MiB): original vs optimized\"\n")
	fmt.Fprintf(&b, "    x-axis [%s]\n", strings.Join(names, ", "))
	fmt.Fprintf(&b, "    y-axis \"MiB\" 0 --> %s\n", strconv.FormatFloat(niceCeil(top), 'f', -1, 64))
	fmt.Fprintf(&b, "    bar [%s]\n", strings.Join(before, ", "))
	fmt.Fprintf(&b, "    bar [%s]\n", strings.Join(after, ", "))
	b.WriteString("```\n\n")
	return b.String()
}

func mib(n int64) float64 { return math.Round(float64(n)/(1<<20)*10) / 10 }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for an axis end.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// verifyCells renders size, build time, user and health for one service.
func verifyCells(v verify.Result, ok bool) []string {
	if !ok {
		return []string{"—", "—", "—", "—"}
	}
	before, after := v.Original, v.Optimized
	size := "—"
	switch {
	case before.Size > 0 && after.Size > 0:
		size = fmt.Sprintf("%s → %s (×%.2f)", bytesize(before.Size), bytesize(after.Size), float64(after.Size)/float64(before.Size))
	case after.Size > 0:
		size = bytesize(after.Size)
	}
	build := "—"
	switch {
	case before.ColdBuild > 0 && after.ColdBuild > 0:
		build = seconds(before.ColdBuild.Seconds()) + " → " + seconds(after.ColdBuild.Seconds())
	case after.ColdBuild > 0:
		build = seconds(after.ColdBuild.Seconds())
	}
	user := "`" + v.User + "`"
	if facts.IsRoot(v.User) {
		user = "⚠️ root"
	}
	health := "no health check"
	if passed, ran := v.HealthOK(); ran {
		health = "✅ healthy"
		if !passed {
			health = "❌ " + v.Healthy
		}
	}
	return []string{size, build, user, health}
}

// serviceTable writes a table of services, named without prefix.
func (d *Document) serviceTable(b *bytes.Buffer, services []Service, measured map[string]verify.Result, prefix string) {
	if len(measured) > 0 {
		b.WriteString("| Service | Dockerfile | Base image | Rules applied | Image size | Build time | User | Health |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("| Service | Dockerfile | Base image | Rules applied |\n")
		b.WriteString("|---|---|---|---|\n")
	}
	for _, s := range services {
		dockerfile, base, applied := "—", "—", ""
		if s.Build != nil {
			bd := d.Builds[*s.Build]
			dockerfile = "`" + bd.Dockerfile + "`"
			if bd.Optimized != nil {
				dockerfile += " → `" + path.Base(*bd.Optimized) + "`"
			}
			if bd.BaseImage != "" {
				base = "`" + bd.BaseImage + "`"
			}
			switch migrate.Status(bd.Status) {
			case migrate.StatusMigrate:
				var parts []string
				for _, r := range bd.Rules {
					p := "`" + r.ID + "`"
					if r.Title != "" {
						p += " " + r.Title
					}
					parts = append(parts, p)
				}
				applied = strings.Join(parts, "<br>")
			case migrate.StatusUpToDate:
				applied = "already migrated"
			default:
				applied = "not migrated: " + escapeHTML(s.Reason)
			}
		} else {
			applied = "not migrated: " + escapeHTML(s.Reason)
		}
		row := []string{"**" + strings.TrimPrefix(s.Name, prefix) + "**", dockerfile, base, applied}
		if len(measured) > 0 {
			row = append(row, verifyCells(measured[s.Name], measured[s.Name].Service != "")...)
		}
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + cell(c) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// projectOf returns the project part of a service name in a plan of
// several projects ("" for a service of a single or the root project).
func projectOf(name string) string {
	if i := strings.LastIndex(name, ":"); i >= 0 {
		return name[:i]
	}
	return ""
}

// FirstSentence returns the first sentence of text: up to the first '.',
// '!' or '?' that ends the text or is followed by a space and a letter,
// outside code spans and abbreviations such as "e.g.".
func FirstSentence(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	inCode := false
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '`':
			inCode = !inCode
		case '.', '!', '?':
			if inCode {
				continue
			}
			if i+1 == len(text) {
				return text
			}
			if text[i+1] != ' ' || i+2 >= len(text) || !startsSentence(text[i+2]) {
				continue
			}
			word := text[strings.LastIndexByte(text[:i], ' ')+1 : i+1]
			switch strings.ToLower(word) {
			case "e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.":
				continue
			}
			return text[:i+1]
		}
	}
	return text
}

func startsSentence(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '`' || c == '('
}

func (d *Document) servicesWith(st migrate.Status) []string {
	var out []string
	for _, s := range d.Services {
		if s.Status == string(st) {
			out = append(out, s.Name)
		}
	}
	return out
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// escapeHTML escapes < > & outside code spans, so that text from the
// project cannot inject HTML into the description.
func escapeHTML(s string) string {
	parts := strings.Split(s, "`")
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	for i := 0; i < len(parts); i += 2 {
		parts[i] = r.Replace(parts[i])
	}
	return strings.Join(parts, "`")
}

func lineList(lines []int) string {
	if len(lines) == 1 {
		return "line " + strconv.Itoa(lines[0])
	}
	// Collapse runs: 3, 4, 5, 9 → 3–5, 9.
	var parts []string
	for i := 0; i < len(lines); {
		j := i
		for j+1 < len(lines) && lines[j+1] == lines[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d–%d", lines[i], lines[j]))
		} else {
			parts = append(parts, strconv.Itoa(lines[i]))
		}
		i = j + 1
	}
	return "lines " + strings.Join(parts, ", ")
}

func codeList(items []string, max int) string {
	var parts []string
	for i, it := range items {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(items)-max))
			break
		}
		parts = append(parts, "`"+it+"`")
	}
	return strings.Join(parts, ", ")
}

func bytesize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, units := float64(n), []string{"kB", "MB", "GB", "TB"}
	i := -1
	for f >= unit && i < len(units)-1 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Wrap breaks text into lines of at most width columns.
func Wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		if n > 0 && n+1+len(w) > width {
			b.WriteString("\n")
			n = 0
		} else if n > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
