package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfiles writes pprof profiles of this run where the environment
// asks for them: COMPOSEOPT_CPUPROFILE=FILE (CPU) and
// COMPOSEOPT_MEMPROFILE=FILE (allocations, written at the end). They are
// how the figures of the README's Performance section were found; a user
// whose plan is slow can send them. The returned function stops and
// writes them.
func startProfiles() (stop func()) {
	var cpu *os.File
	if name := os.Getenv("COMPOSEOPT_CPUPROFILE"); name != "" {
		f, err := os.Create(name)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "composeopt: COMPOSEOPT_CPUPROFILE: %v\n", err)
		} else {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if name := os.Getenv("COMPOSEOPT_MEMPROFILE"); name != "" {
			f, err := os.Create(name)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "composeopt: COMPOSEOPT_MEMPROFILE: %v\n", err)
			}
		}
	}
}
