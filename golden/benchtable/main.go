// Command benchtable reads `go test -bench -benchmem` output on standard
// input and prints the plan benchmarks (BenchmarkPlan/...) as a table: the
// plan's time, the compose-go floor's time, their ratio, the ratio of their
// CPU times (steadier on a shared machine), and the plan's
// allocations. Other lines are passed through unchanged on standard error.
// With several runs of one case (-count), each is a row.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tplan\tcompose-go load (floor)\tplan / floor\tCPU plan / floor\tallocated/op\tallocs/op\t")
	rows := 0
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, m, ok := parse(line)
		if !ok {
			fmt.Fprintln(os.Stderr, line)
			continue
		}
		cpu := "-"
		if m["floor-cpu-ns/op"] > 0 {
			cpu = fmt.Sprintf("%s / %s = %.2fx", dur(m["cpu-ns/op"]), dur(m["floor-cpu-ns/op"]), m["cpu-ns/op"]/m["floor-cpu-ns/op"])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%sx\t%s\t%.1f MB\t%.0f\t\n", name, dur(m["ns/op"]), dur(m["floor-ns/op"]),
			strconv.FormatFloat(m["x-floor"], 'f', 2, 64), cpu, m["B/op"]/1e6, m["allocs/op"])
		rows++
	}
	if rows == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no BenchmarkPlan/ results in the input")
		os.Exit(1)
	}
	tw.Flush()
}

// parse reads one result line of a BenchmarkPlan sub-benchmark.
func parse(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkPlan/") {
		return "", nil, false
	}
	name := strings.TrimPrefix(f[0], "BenchmarkPlan/")
	if i := strings.LastIndex(name, "-"); i > 0 { // the GOMAXPROCS suffix
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	m := map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		m[f[i+1]] = v
	}
	if _, ok := m["floor-ns/op"]; !ok {
		return "", nil, false
	}
	return name, m, true
}

func dur(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	}
	return fmt.Sprintf("%.0f µs", ns/1e3)
}
