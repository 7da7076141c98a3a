// Command composeopt migrates a Docker Compose project's Dockerfiles to
// production-grade ones in one reviewable change set.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/composeopt/composeopt/migrate/lockfile"
)

// exitError carries a specific exit status up to main.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// signalError is the cause of the command context's cancellation when
// SIGINT or SIGTERM arrives.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "received " + e.sig.String() }

// code is the conventional exit status of a process ended by the signal.
func (e signalError) code() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

func main() {
	tuneGC()
	// Temporary directories of runs that were killed.
	lockfile.CleanStale()

	// The first SIGINT or SIGTERM cancels the command's context: apply rolls
	// back what it wrote, the other commands stop and remove their temporary
	// files. A second one exits at once.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(signalError{s})
		s = <-sigs
		fmt.Fprintf(os.Stderr, "composeopt: %v again: exiting now\n", s)
		os.Exit(signalError{s}.code())
	}()

	stopProfiles := startProfiles()
	cmd := newRootCmd()
	err := cmd.ExecuteContext(ctx)
	stopProfiles()
	var se signalError
	if cause := context.Cause(ctx); errors.As(cause, &se) {
		switch {
		case errors.Is(err, context.Canceled):
			// Stopped before writing anything.
			fmt.Fprintf(os.Stderr, "composeopt: interrupted (%v): nothing was written\n", se)
		case err != nil:
			fmt.Fprintf(os.Stderr, "composeopt: %v\n", err)
		}
		os.Exit(se.code())
	}
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintf(os.Stderr, "composeopt: %v\n", err)
		os.Exit(1)
	}
}

// tuneGC sets the collector up for a plan, unless the environment does.
func tuneGC() {
	// A plan allocates about twenty times its live heap (1,000 services:
	// about 1 GB allocated, under 60 MB live), so the collector ran often.
	// Collecting at 400% heap growth instead of Go's default 100% cuts the
	// CPU time of that plan by 8% for a third more peak memory (GOGC=200
	// -> 400 measured side by side: 3.10 -> 2.87 s CPU, 163 -> 214 MiB
	// peak). Past 1 GiB of heap (some 5,000 services) the soft memory limit
	// makes the collector work harder instead of letting the heap grow
	// fivefold. GOGC and GOMEMLIMIT in the environment still win.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(1 << 30)
	}
}
