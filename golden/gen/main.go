// Command gen writes a synthetic compose monorepo for benchmarks (see
// package golden/synth), or loads one with compose-go alone, which is the
// floor a plan is compared with.
//
//	go run ./golden/gen -n 1000 DIR            # 1,000 services
//	go run ./golden/gen -lines 16000 DIR       # one service, a 16,000-line Dockerfile
//	go run ./golden/gen -n 10 -node-modules 100000 DIR
//	go run ./golden/gen -load DIR              # compose-go load only (the floor)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/composeopt/composeopt/golden/synth"
)

func main() {
	var o synth.Options
	var load bool
	flag.IntVar(&o.Services, "n", 10, "number of services")
	flag.IntVar(&o.Lines, "lines", 0, "write one service with a Dockerfile of about this many lines instead")
	flag.IntVar(&o.NodeModules, "node-modules", 0, "add a node_modules with this many files to the first Node context")
	flag.BoolVar(&load, "load", false, "load DIR with compose-go (as docker compose does) instead of writing it")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: gen [-n N] [-lines L] [-node-modules F] DIR | gen -load DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if load {
		n, err := synth.LoadFloor(context.Background(), dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Printf("%d services\n", n)
		return
	}
	if err := synth.Generate(dir, o); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
