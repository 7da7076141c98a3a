package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// testStepEnv is read only by tests: "kill:N" makes apply kill its own
// process with SIGKILL right after step N, "sleep:MS" makes it pause MS
// milliseconds after every step (so a test can kill it at a random moment
// or start a second apply meanwhile). Both can be given, comma-separated.
const testStepEnv = "COMPOSEOPT_TEST_APPLY_STEP"

// testStepHook returns apply's step hook for the tests, or nil.
func testStepHook() func(int, string) {
	v := os.Getenv(testStepEnv)
	if v == "" {
		return nil
	}
	kill, sleep := -1, time.Duration(0)
	for _, part := range strings.Split(v, ",") {
		k, arg, _ := strings.Cut(part, ":")
		n, err := strconv.Atoi(arg)
		if err != nil {
			continue
		}
		switch k {
		case "kill":
			kill = n
		case "sleep":
			sleep = time.Duration(n) * time.Millisecond
		}
	}
	return func(n int, what string) {
		if n == kill {
			killSelf()
		}
		time.Sleep(sleep)
	}
}
