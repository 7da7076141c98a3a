package verify

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints one line per service comparing original and optimized
// images, followed by each service's errors.
func WriteTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSIZE (orig → opt)\tLAYERS\tCOLD BUILD\tREBUILD\tDEPS REBUILD\tUSER\tHEALTH\tPROBE\tOK")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Service,
			pair(r.Original.Built, r.Optimized.Built, humanBytes(r.Original.Size), humanBytes(r.Optimized.Size))+sizeDelta(r),
			pair(r.Original.Built, r.Optimized.Built, fmt.Sprint(r.Original.Layers), fmt.Sprint(r.Optimized.Layers)),
			durPair(r.Original.ColdBuild, r.Optimized.ColdBuild),
			durPair(r.Original.Rebuild, r.Optimized.Rebuild),
			durPair(r.Original.RebuildDeps, r.Optimized.RebuildDeps),
			orDash(r.User),
			orDash(r.Healthy),
			httpCell(r.HTTP),
			map[bool]string{true: "ok", false: "FAIL"}[r.OK],
		)
	}
	tw.Flush()
	for _, r := range rs {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "%s: %s\n", r.Service, indent(e))
		}
		if !r.Original.Built && r.Original.BuildError != "" {
			fmt.Fprintf(w, "%s: note: original does not build: %s\n", r.Service, indent(r.Original.BuildError))
		}
	}
}

func pair(okA, okB bool, a, b string) string {
	if !okA {
		a = "✗"
	}
	if !okB {
		b = "✗"
	}
	return a + " → " + b
}

func sizeDelta(r Result) string {
	if !r.Original.Built || !r.Optimized.Built || r.Original.Size == 0 {
		return ""
	}
	return fmt.Sprintf(" (%+.0f%%)", 100*float64(r.Optimized.Size-r.Original.Size)/float64(r.Original.Size))
}

func durPair(a, b time.Duration) string {
	if a == 0 && b == 0 {
		return "-"
	}
	return fmtDur(a) + " → " + fmtDur(b)
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func httpCell(h *HTTPCompare) string {
	if h == nil {
		return "-"
	}
	o := func(c int) string {
		if c == 0 {
			return "∅"
		}
		return fmt.Sprint(c)
	}
	if h.Probe == ProbeTCP {
		open := func(c int) string {
			if c == 0 {
				return "∅"
			}
			return "open"
		}
		return fmt.Sprintf("TCP %d %s/%s", h.Port, open(h.Original), open(h.Optimized))
	}
	return fmt.Sprintf("GET %s %s/%s", h.Path, o(h.Original), o(h.Optimized))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// humanBytes formats a size with binary units, e.g. "152.3MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// WriteChart prints the image sizes before and after as a compact bar
// chart, two bars per service scaled to the largest image, e.g.
//
//	image size      original ░  optimized █
//	stage-server    ░░░░░░░░░░░░░░░░░░░░░░░░ 906.0MiB
//	                █████████▋               369.0MiB (-59%)
//
// Services without both sizes are left out; nothing is printed when none
// has them.
func WriteChart(w io.Writer, rs []Result) {
	const width = 24
	var top int64
	var shown []Result
	for _, r := range rs {
		if r.Original.Built && r.Optimized.Built && r.Original.Size > 0 && r.Optimized.Size > 0 {
			shown = append(shown, r)
			top = max(top, r.Original.Size, r.Optimized.Size)
		}
	}
	if len(shown) == 0 {
		return
	}
	name := len("image size")
	for _, r := range shown {
		name = max(name, len([]rune(r.Service)))
	}
	fmt.Fprintf(w, "\n%-*s  original ░  optimized █\n", name, "image size")
	for _, r := range shown {
		fmt.Fprintf(w, "%-*s  %s %s\n", name, r.Service, bar(r.Original.Size, top, width, '░'), humanBytes(r.Original.Size))
		fmt.Fprintf(w, "%-*s  %s %s%s\n", name, "", bar(r.Optimized.Size, top, width, '█'), humanBytes(r.Optimized.Size), sizeDelta(r))
	}
}

// bar is v/top of width cells of fill, with eighth blocks for the last
// partial cell of a solid bar, padded to width.
func bar(v, top int64, width int, fill rune) string {
	eighths := int(float64(v) / float64(top) * float64(width*8))
	eighths = max(eighths, 1)
	full, part := eighths/8, eighths%8
	var b strings.Builder
	b.WriteString(strings.Repeat(string(fill), full))
	n := full
	if part > 0 && n < width {
		if fill == '█' {
			b.WriteRune([]rune(" ▏▎▍▌▋▊▉")[part])
		} else {
			b.WriteRune(fill)
		}
		n++
	}
	b.WriteString(strings.Repeat(" ", width-n))
	return b.String()
}
