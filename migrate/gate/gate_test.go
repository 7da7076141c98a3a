package gate

import (
	"fmt"
	"strings"
	"testing"
)

const cleanFile = `FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
RUN go build -o /out/app .

FROM debian:bookworm-slim
ENV PATH=/app:$PATH
COPY --from=build /out/app /app/app
CMD ["/app/app"]
`

func TestLintClean(t *testing.T) {
	warnings, err := Lint("Dockerfile", []byte(cleanFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("want no warnings, got %v", warnings)
	}
}

func TestLintFindings(t *testing.T) {
	src := "FROM alpine as base\nENV A B\nCMD echo hi\n"
	warnings, err := Lint("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"FromAsCasing": 1, "LegacyKeyValueFormat": 2, "JSONArgsRecommended": 3}
	got := map[string]int{}
	for _, w := range warnings {
		got[w.RuleName] = w.Line
		if w.Message == "" || w.URL == "" {
			t.Errorf("warning lacks message or URL: %+v", w)
		}
	}
	for rule, line := range want {
		if got[rule] != line {
			t.Errorf("%s: want line %d, got %d (all: %v)", rule, line, got[rule], warnings)
		}
	}
}

func TestLintParseError(t *testing.T) {
	_, err := Lint("app/Dockerfile", []byte("FROM alpine\nRUN --mount=type=bogus true\n"))
	if err == nil || !strings.Contains(err.Error(), "app/Dockerfile:2") {
		t.Fatalf("want an error naming app/Dockerfile:2, got %v", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		orig, opt string
		targets   []string
		args      map[string]string
		wantErr   []string // substrings; nil means the gate passes
	}{
		{
			name: "clean rewrite passes",
			orig: "FROM golang:1.26\nCOPY . .\nRUN go build -o /app .\nCMD [\"/app\"]\n",
			opt:  cleanFile,
		},
		{
			name:    "new FromAsCasing is reported with its line",
			orig:    "FROM alpine AS base\nCMD [\"sh\"]\n",
			opt:     "FROM alpine AS deps\nRUN true\n\nFROM alpine as base\nCMD [\"sh\"]\n",
			wantErr: []string{"1 new lint warning", "line 4: FromAsCasing"},
		},
		{
			name:    "new JSONArgsRecommended is reported",
			orig:    "FROM alpine\nCMD [\"sh\"]\n",
			opt:     "FROM alpine\nCMD sh\n",
			wantErr: []string{"line 2: JSONArgsRecommended"},
		},
		{
			name: "warning already in the original is tolerated at another line",
			orig: "FROM alpine\nCMD sh\n",
			opt:  "FROM alpine\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\nCMD sh\n",
		},
		{
			name:    "a second copy of an existing warning is new",
			orig:    "FROM alpine\nENV A B\n",
			opt:     "FROM alpine\nENV A B\nENV C D\n",
			wantErr: []string{"line 3: LegacyKeyValueFormat"},
		},
		{
			name: "heredocs and cache mounts pass",
			orig: "FROM python:3.12\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n",
			opt: `# syntax=docker/dockerfile:1
FROM python:3.12
COPY requirements.txt /app/
RUN --mount=type=cache,target=/root/.cache/pip <<EOF
set -e
pip install -r /app/requirements.txt
EOF
COPY <<EOT /etc/app.conf
debug = false
EOT
COPY . /app
`,
		},
		{
			name:    "undefined target fails conversion",
			orig:    "FROM alpine AS app\n",
			opt:     "FROM alpine AS application\n",
			targets: []string{"app"},
			wantErr: []string{`target "app"`, "could not be found"},
		},
		{
			name:    "invalid flag value fails",
			orig:    "FROM alpine\nCOPY a /a\n",
			opt:     "FROM alpine\nCOPY --chmod=rwx a /a\n",
			wantErr: []string{"Dockerfile:2"},
		},
		{
			name:    "out-of-range stage index fails",
			orig:    "FROM alpine\nCOPY a /a\n",
			opt:     "FROM alpine\nCOPY --from=3 a /a\n",
			wantErr: []string{"invalid stage index 3"},
		},
		{
			name:    "required FROM argument is taken from args",
			orig:    "ARG BASE\nFROM ${BASE}\nCMD [\"sh\"]\n",
			opt:     "ARG BASE\nFROM ${BASE}\nWORKDIR /app\nCMD [\"sh\"]\n",
			args:    map[string]string{"BASE": "alpine:3.20"},
			targets: []string{""},
		},
		{
			name:    "turning checks off is refused",
			orig:    "FROM alpine\nCMD [\"sh\"]\n",
			opt:     "# check=skip=all\nFROM alpine\nCMD sh\n",
			wantErr: []string{"check directive changed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check("Dockerfile", []byte(tt.orig), []byte(tt.opt), tt.targets, tt.args)
			if res.Reduced != "" {
				t.Errorf("a short file got the reduced gate: %s", res.Reduced)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("want pass, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error containing %q, got none", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestCheckReduced: a stage longer than FullLimit gets the reduced gate,
// which says so, runs neither the linter nor the conversion, and still
// fails on what BuildKit's parser finds.
func TestCheckReduced(t *testing.T) {
	// long's stage has FullLimit instructions plus the extra ones.
	long := func(from, extra string) string {
		var b strings.Builder
		b.WriteString(from + "\nWORKDIR /app\n")
		for i := 0; i < FullLimit/2-1; i++ {
			fmt.Fprintf(&b, "ENV STEP_%d=%d\nRUN echo %d\n", i, i, i)
		}
		b.WriteString(extra + "CMD [\"sh\"]\n")
		return b.String()
	}
	orig := long("FROM alpine AS base", "LABEL a=b\n")
	tests := []struct {
		name    string
		opt     string
		targets []string
		wantErr []string // substrings; nil means the gate passes
	}{
		{name: "an added instruction passes", opt: long("FROM alpine AS base", "LABEL a=b\nUSER 1000\n")},
		{name: "a known target passes", opt: orig, targets: []string{"BASE"}},
		{name: "a new parse-time finding fails", opt: long("FROM alpine as base", "LABEL a=b\n"), wantErr: []string{"1 new lint warning", "line 1: FromAsCasing"}},
		{name: "a bad flag value fails with its line", opt: long("FROM alpine AS base", "RUN --mount=type=bogus true\n"), wantErr: []string{"Dockerfile:" + fmt.Sprint(FullLimit+1), "unsupported mount type"}},
		{name: "a parse error fails with its line", opt: long("FROM alpine AS base", "COPY --bogus a /a\n"), wantErr: []string{"Dockerfile:" + fmt.Sprint(FullLimit+1), "unknown flag: --bogus"}},
		{name: "an unknown target fails", opt: orig, targets: []string{"runtime"}, wantErr: []string{`target stage "runtime" could not be found`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l0, c0 := Counts()
			res, err := Check("Dockerfile", []byte(orig), []byte(tt.opt), tt.targets, nil)
			if l1, c1 := Counts(); l1 != l0 || c1 != c0 {
				t.Errorf("the reduced gate ran the linter %d and the conversion %d times", l1-l0, c1-c0)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("want pass, got %v", err)
				}
				if !strings.Contains(res.Reduced, "stage base of the") || !strings.Contains(res.Reduced, "not its stage checks nor the LLB conversion") {
					t.Errorf("the result does not say the reduced gate ran, and why: %q", res.Reduced)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error containing %q, got none", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
	// One instruction less and the full gate runs.
	short := long("FROM alpine AS base", "")
	l0, c0 := Counts()
	if res, err := Check("Dockerfile", []byte(short), []byte(short), nil, nil); err != nil || res.Reduced != "" {
		t.Errorf("a stage of FullLimit instructions: %v, reduced %q", err, res.Reduced)
	}
	// The file lints clean: the original's findings are not needed.
	if l1, c1 := Counts(); l1-l0 != 0 || c1-c0 != 1 {
		t.Errorf("a stage of FullLimit instructions: %d lints, %d conversions, want 0 and 1", l1-l0, c1-c0)
	}
}

// TestCheckLintsOriginalWhenNeeded: the original is linted exactly when
// its findings can change the verdict: the optimized file has findings to
// match against them, or a check directive lets the linter fail the
// original itself.
func TestCheckLintsOriginalWhenNeeded(t *testing.T) {
	tests := []struct {
		name      string
		orig, opt string
		lints     int64
		wantErr   string
	}{
		{"optimized clean", "FROM alpine\nCMD sh\n", "FROM alpine\nCMD [\"sh\"]\n", 0, ""},
		{"optimized keeps an original finding", "FROM alpine\nCMD sh\n", "FROM alpine\nRUN true\nCMD sh\n", 1, ""},
		{"optimized adds a finding", "FROM alpine\nCMD [\"sh\"]\n", "FROM alpine\nCMD sh\n", 1, "JSONArgsRecommended"},
		{"directive, both clean", "# check=skip=JSONArgsRecommended\nFROM alpine\nCMD [\"sh\"]\n", "# check=skip=JSONArgsRecommended\nFROM alpine\nCMD [\"sh\"]\n", 1, ""},
		// The original fails its own build's check; the gate says so
		// rather than migrate it.
		{"error directive fails the original", "# check=error=true\nFROM alpine\nCMD sh\n", "# check=error=true\nFROM alpine\nCMD [\"sh\"]\n", 1, "Dockerfile (original)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l0, _ := Counts()
			_, err := Check("Dockerfile", []byte(tt.orig), []byte(tt.opt), nil, nil)
			l1, _ := Counts()
			if l1-l0 != tt.lints {
				t.Errorf("%d lint-only runs, want %d", l1-l0, tt.lints)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("gate failed: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
