package rules

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
	"github.com/composeopt/composeopt/migrate/gate"
)

func nonrootFacts(svcs ...facts.Service) *facts.Build {
	return &facts.Build{Files: map[string]bool{}, Services: svcs}
}

// nonrootCases are the cases the txtar files under testdata/non-root-user
// cannot hold (a Dockerfile without a final newline).
var nonrootCases = []ruleCase{
	{
		name: "no CMD: USER at the end, no trailing newline",
		in:   "FROM alpine:3.20\nRUN apk add --no-cache curl",
		want: "FROM alpine:3.20\nRUN addgroup -S -g 10001 app \\\n    && adduser -S -D -H -u 10001 -G app -s /sbin/nologin app\nRUN apk add --no-cache curl\nUSER app\n",
	},
}

func TestNonRoot(t *testing.T) {
	runCases(t, NonRoot, nonrootCases)
}

func TestNonRootUID(t *testing.T) {
	opts := DefaultOptions()
	opts.UID = 2000
	res, err := Apply([]byte("FROM alpine:3.20\nCMD [\"x\"]\n"), nonrootFacts(), []*Rule{NonRoot}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM alpine:3.20\nRUN addgroup -S -g 2000 app \\\n    && adduser -S -D -H -u 2000 -G app -s /sbin/nologin app\nUSER app\nCMD [\"x\"]\n"
	if string(res.Output) != want {
		t.Errorf("got\n%s\nwant\n%s", res.Output, want)
	}
}

func TestNonRootAccountName(t *testing.T) {
	for in, want := range map[string][]string{
		"nodejs": {"-S", "nodejs", "-u", "1001"},
		"web":    {"-S", "-G", "web", "-h", "/home/web", "web"},
		"svc":    {"--system", "--uid=1001", "--gid", "svc", "-M", "svc"},
		"u":      {"-u1001", "-DH", "u"},
		"deb":    {"--system", "--group", "--home", "/nonexistent", "--no-create-home", "deb"},
	} {
		u, _ := facts.ParseUserAdd(dockerfile.NewCommand(append([]string{"adduser"}, want...)...))
		if u.Name != in {
			t.Errorf("ParseUserAdd(adduser %q).Name = %q, want %q", want, u.Name, in)
		}
	}
}

// TestNonRootLint checks that the rewritten files add no BuildKit lint
// warning and still convert offline.
func TestNonRootLint(t *testing.T) {
	for _, c := range nonrootCases {
		if c.want == "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			if _, err := gate.Lint("Dockerfile", []byte(c.in)); err != nil {
				t.Skipf("original does not lint: %v", err)
			}
			if _, err := gate.Check("Dockerfile", []byte(c.in), []byte(c.want), nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
}
