package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/composeopt/composeopt/migrate/facts"
)

// The rule's cases are txtar files in testdata/healthcheck; these tests
// cover what the format does not hold: options other than the defaults,
// and the flags' text.

// healthcheckPython is the backend Dockerfile of the matrix-studio fixture.
const healthcheckPython = "FROM python:3.11-alpine\nARG APP_ENV=development\nWORKDIR /app\nRUN apk add --update gcc musl-dev libffi-dev\nCOPY . .\nRUN pip install -r requirements.txt\nENV FLASK_ENV=$APP_ENV\nEXPOSE 5000\nCMD [\"python\", \"-m\", \"backend.app\"]\n"

func TestHealthcheckOptions(t *testing.T) {
	fb := factsWith(nil,
		facts.Service{Name: "flask-backend", Args: map[string]string{"APP_ENV": "production"}, Ports: []int{5000}},
		facts.Service{Name: "worker", Args: map[string]string{"APP_ENV": "production"}, Command: []string{"python", "-m", "backend.worker"}},
	)
	fb.HealthRoutes = []string{"/api/health"}
	opts := DefaultOptions()
	opts.HealthPath = "ready"
	opts.Health.Interval = 10 * time.Second
	opts.Health.Timeout = 3 * time.Second
	opts.Health.StartPeriod = 90 * time.Second
	res, err := Apply([]byte(healthcheckPython), fb, []*Rule{Healthcheck}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "HEALTHCHECK --interval=10s --timeout=3s --start-period=1m30s --retries=3 \\\n    CMD [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"-T\", \"2\", \"http://127.0.0.1:5000/ready\"]\n"
	if !strings.Contains(string(res.Output), want) {
		t.Errorf("got\n%s", res.Output)
	}
}

// TestHealthFlags checks the flags' text: durations written the short way,
// and zero fields replaced by the defaults.
func TestHealthFlags(t *testing.T) {
	for _, c := range []struct {
		h    Health
		want string
	}{
		{DefaultOptions().Health, "--interval=30s --timeout=5s --start-period=40s --retries=3"},
		{Health{Interval: time.Minute, Timeout: 90 * time.Second, StartPeriod: time.Hour, Retries: 1}, "--interval=1m --timeout=1m30s --start-period=1h --retries=1"},
		{Options{}.WithDefaults().Health, "--interval=30s --timeout=5s --start-period=40s --retries=3"},
	} {
		if got := c.h.Flags(); got != c.want {
			t.Errorf("Flags() = %q, want %q", got, c.want)
		}
	}
	if got := (Options{}).WithDefaults().UID; got != 10001 {
		t.Errorf("default UID %d, want 10001", got)
	}
}
