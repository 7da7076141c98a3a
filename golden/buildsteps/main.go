// Command buildsteps reads BuildKit's own progress stream (`docker buildx
// build --progress=rawjson`, one JSON status per line, as buildx writes it
// on standard error) and prints where the build spent its time: every step
// that ran (not cached) with its duration, in the order they started, then
// the wall time from the first start to the last completion and how many
// steps were cached. It is how the README's build-time analysis was made:
//
//	docker buildx build --progress=rawjson -f Dockerfile.optimized . 2>&1 >/dev/null | go run ./golden/buildsteps
//
// With -min D, steps shorter than D are summed into one line.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// vertex is the part of a BuildKit vertex status that matters here.
type vertex struct {
	Digest    string     `json:"digest"`
	Name      string     `json:"name"`
	Started   *time.Time `json:"started"`
	Completed *time.Time `json:"completed"`
	Cached    bool       `json:"cached"`
	Error     string     `json:"error"`
}

type status struct {
	Vertexes []vertex `json:"vertexes"`
}

// step is one vertex, merged over all the status lines that mention it.
type step struct {
	name        string
	start, done time.Time
	cached      bool
	err         string
}

func main() {
	min := flag.Duration("min", 50*time.Millisecond, "steps shorter than this are summed into one line")
	flag.Parse()
	steps, order, bad := read(bufio.NewScanner(os.Stdin))
	if len(steps) == 0 {
		fmt.Fprintf(os.Stderr, "buildsteps: no BuildKit status on standard input (%d lines were not rawjson)\n", bad)
		os.Exit(1)
	}
	fmt.Print(report(steps, order, *min))
}

func read(sc *bufio.Scanner) (map[string]*step, []string, int) {
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	steps := map[string]*step{}
	var order []string
	bad := 0
	for sc.Scan() {
		var st status
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			bad++
			continue
		}
		for _, v := range st.Vertexes {
			s := steps[v.Digest]
			if s == nil {
				s = &step{}
				steps[v.Digest] = s
				order = append(order, v.Digest)
			}
			if v.Name != "" {
				s.name = v.Name
			}
			if v.Started != nil && (s.start.IsZero() || v.Started.Before(s.start)) {
				s.start = *v.Started
			}
			if v.Completed != nil && v.Completed.After(s.done) {
				s.done = *v.Completed
			}
			s.cached = s.cached || v.Cached
			if v.Error != "" {
				s.err = v.Error
			}
		}
	}
	return steps, order, bad
}

func report(steps map[string]*step, order []string, min time.Duration) string {
	var ran []*step
	var first, last time.Time
	cached := 0
	for _, d := range order {
		s := steps[d]
		if !s.start.IsZero() && (first.IsZero() || s.start.Before(first)) {
			first = s.start
		}
		if s.done.After(last) {
			last = s.done
		}
		if s.cached {
			cached++
			continue
		}
		if !s.start.IsZero() {
			ran = append(ran, s)
		}
	}
	sort.SliceStable(ran, func(i, j int) bool { return ran[i].start.Before(ran[j].start) })
	var b strings.Builder
	var small time.Duration
	nsmall := 0
	for _, s := range ran {
		d := time.Duration(0)
		if !s.done.IsZero() {
			d = s.done.Sub(s.start)
		}
		if d < min {
			small += d
			nsmall++
			continue
		}
		name := s.name
		if len(name) > 110 {
			name = name[:107] + "..."
		}
		fmt.Fprintf(&b, "%7.2fs  +%6.2fs  %s", d.Seconds(), s.start.Sub(first).Seconds(), name)
		if s.err != "" {
			fmt.Fprintf(&b, "  ERROR: %s", s.err)
		}
		b.WriteString("\n")
	}
	if nsmall > 0 {
		fmt.Fprintf(&b, "%7.2fs  (%d steps under %s)\n", small.Seconds(), nsmall, min)
	}
	fmt.Fprintf(&b, "%7.2fs  wall, first start to last completion; %d steps ran, %d cached\n", last.Sub(first).Seconds(), len(ran), cached)
	return b.String()
}
