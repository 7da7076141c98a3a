// Command composeopt migrates a Docker Compose project's Dockerfiles to
// production-grade ones in one reviewable change set.
package main

import (
	"errors"
	"fmt"
	"os"
)

// exitError carries a specific exit status up to main.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	cmd := newRootCmd()
	if err := cmd.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintf(os.Stderr, "composeopt: %v\n", err)
		os.Exit(1)
	}
}
