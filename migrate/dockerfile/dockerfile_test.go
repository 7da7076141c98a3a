package dockerfile

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseKeepsSourceExactly(t *testing.T) {
	for name, src := range map[string]string{
		"plain":        "FROM alpine:3.20 AS base\nRUN apk add curl\n",
		"continuation": "FROM alpine\nRUN a \\\n    # comment\n    && b\nCMD [\"x\"]",
		"crlf":         "FROM alpine\r\nRUN a \\\r\n  && b\r\n",
		"escape":       "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n  c:\\\n",
		"heredoc":      "# syntax=docker/dockerfile:1\nFROM alpine\nRUN <<EOF\necho hi\nEOF\nCMD [\"sh\"]\n",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Apply(nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != src {
				t.Errorf("render without edits changed the text:\n%q\n%q", out, src)
			}
			for _, in := range f.Instructions {
				if in.Start < 1 || in.End < in.Start || in.End > len(f.Lines) {
					t.Errorf("%s: bad range %d-%d", in.Cmd, in.Start, in.End)
				}
			}
		})
	}
}

func TestStagesAndTargets(t *testing.T) {
	f, err := Parse([]byte("ARG V=3\nFROM alpine:$V AS Base\nRUN a\nFROM base AS final\nUSER app\nFROM scratch\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stages) != 3 {
		t.Fatalf("stages: %d", len(f.Stages))
	}
	if f.Stages[0].Name != "base" || f.Stages[1].BaseStage != f.Stages[0] || f.Stages[2].BaseStage != nil {
		t.Errorf("stage chain wrong: %+v", f.Stages)
	}
	if f.Target("") != f.Stages[2] || f.Target("FINAL") != f.Stages[1] || f.Target("nope") != nil {
		t.Error("Target lookup wrong")
	}
	if f.Instructions[0].Stage != -1 {
		t.Error("global ARG belongs to no stage")
	}
}

func TestApplyEdits(t *testing.T) {
	src := "FROM alpine\nRUN a\nCMD b\n"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	run, cmd := f.Instructions[1], f.Instructions[2]
	out, err := f.Apply([]Edit{
		InsertBefore(cmd, "USER app\n"),
		Replace(run, "RUN c\n"),
		InsertAfter(cmd, "LABEL x=y\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "FROM alpine\nRUN c\nUSER app\nCMD b\nLABEL x=y\n"; string(out) != want {
		t.Errorf("got %q want %q", out, want)
	}
	if _, err := f.Apply([]Edit{Replace(run, "RUN x\n"), {Start: 2, End: 3, Text: "RUN y\n"}}); err == nil {
		t.Error("overlapping edits accepted")
	}
	if _, err := f.Apply([]Edit{Replace(run, "RUN x")}); err == nil {
		t.Error("edit without final newline accepted")
	}
}

func TestApplyCRLFAndMissingFinalNewline(t *testing.T) {
	f, err := Parse([]byte("FROM alpine\r\nCMD b"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Apply([]Edit{InsertAfter(f.Instructions[1], "USER app\n")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "FROM alpine\r\nCMD b\r\nUSER app\r\n"; string(out) != want {
		t.Errorf("got %q want %q", out, want)
	}
}

func TestParseScript(t *testing.T) {
	for _, c := range []struct {
		src   string
		ok    bool
		words [][]string
	}{
		{"apk update && apk add --no-cache curl", true, [][]string{{"apk", "update"}, {"apk", "add", "--no-cache", "curl"}}},
		{"pip install 'flask==3.0' \"gunicorn\"", true, [][]string{{"pip", "install", "flask==3.0", "gunicorn"}}},
		{"a | b", false, nil},
		{"a; b", false, nil},
		{"a || b", false, nil},
		{"FOO=1 make", false, nil},
		{"cd /x && make > log", false, nil},
		{"if true; then a; fi", false, nil},
	} {
		sc, ok := ParseScript(c.src)
		if ok != c.ok {
			t.Errorf("%q: ok=%v", c.src, ok)
			continue
		}
		if !ok {
			continue
		}
		for i, w := range c.words {
			if strings.Join(sc.Commands[i].Words, " ") != strings.Join(w, " ") {
				t.Errorf("%q: command %d words %q", c.src, i, sc.Commands[i].Words)
			}
		}
	}
	sc, _ := ParseScript("echo $HOME *.txt")
	if sc.Commands[0].Literal {
		t.Error("expansions must make a command non-literal")
	}
}

func TestRewriteRun(t *testing.T) {
	f, err := Parse([]byte("from alpine\nrun a \\\n  # why\n  && b\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := ParseScript("a && b && c")
	got := f.RewriteRun(f.Instructions[1], []string{"--mount=type=cache,target=/x"}, sc)
	want := "# why\nrun --mount=type=cache,target=/x \\\n    a \\\n    && b \\\n    && c\n"
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestCacheMountTargets(t *testing.T) {
	f, err := Parse([]byte("FROM alpine\nRUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=x,target=/s --mount=type=cache,dst=/c npm ci\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := f.Instructions[1].CacheMountTargets()
	if strings.Join(got, ",") != "/root/.npm,/c" {
		t.Errorf("got %v", got)
	}
}

func TestSyntaxErrorLine(t *testing.T) {
	_, err := Parse([]byte("FROM alpine\nCOPY a /a\nRUN <<EOF\necho never closed\n"))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 3 {
		t.Fatalf("want a syntax error at line 3, got %v", err)
	}
}

func TestPortSpec(t *testing.T) {
	for in, want := range map[string][]int{
		"80": {80}, "80/tcp": {80}, " 53/udp": {53}, "8000-8002": {8000, 8001, 8002},
		"8000-9000": {8000}, "9-3": {9}, "http": nil, "0": nil, "-1": nil, "$PORT": nil,
	} {
		if got := PortSpec(in); !slices.Equal(got, want) {
			t.Errorf("PortSpec(%q) = %v, want %v", in, got, want)
		}
	}
}
