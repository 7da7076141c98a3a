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
	// A plan allocates about twenty times its live heap (1,000 services:
	// 1.5 GB allocated, under 60 MB live), so the collector ran often:
	// collecting at 200% heap growth instead of Go's default 100% cut the
	// CPU time of that plan by a tenth for half again the peak memory
	// (3.4 -> 3.1 s, 113 -> 171 MB). GOGC in the environment still wins.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(200)
	}
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

	cmd := newRootCmd()
	err := cmd.ExecuteContext(ctx)
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
