package rules

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

func TestMaintainerLabel(t *testing.T) {
	runCases(t, MaintainerLabel, []ruleCase{
		{
			name: "alpine",
			in:   "FROM alpine:3.20\nMAINTAINER Jane Doe <jane@example.com>\nRUN true\n",
			want: "FROM alpine:3.20\nLABEL org.opencontainers.image.authors=\"Jane Doe <jane@example.com>\"\nRUN true\n",
		},
		{
			name: "quoted value and dollar",
			in:   "FROM debian:bookworm\nMAINTAINER \"Ops $team\"\n",
			want: "FROM debian:bookworm\nLABEL org.opencontainers.image.authors=\"Ops \\$team\"\n",
		},
		{
			name: "label already there",
			in:   "FROM debian:bookworm\nMAINTAINER jane\nLABEL org.opencontainers.image.authors=\"jane@example.com\"\n",
			want: "FROM debian:bookworm\nLABEL org.opencontainers.image.authors=\"jane@example.com\"\n",
		},
		{name: "done", in: "FROM scratch\nLABEL org.opencontainers.image.authors=\"jane\"\n"},
		{
			name:  "dev target left alone",
			in:    "FROM node:20 AS dev\nMAINTAINER jane\nFROM node:20-slim AS prod\nMAINTAINER jane\n",
			want:  "FROM node:20 AS dev\nMAINTAINER jane\nFROM node:20-slim AS prod\nLABEL org.opencontainers.image.authors=\"jane\"\n",
			facts: factsWith(nil, facts.Service{Name: "dev", Target: "dev"}, facts.Service{Name: "web", Target: "prod"}),
		},
		{name: "lower case", in: "from alpine:3.20\nmaintainer jane\n", want: "from alpine:3.20\nlabel org.opencontainers.image.authors=\"jane\"\n"},
		{name: "crlf", in: "FROM alpine:3.20\r\nMAINTAINER jane\r\n", want: "FROM alpine:3.20\r\nLABEL org.opencontainers.image.authors=\"jane\"\r\n"},
		{
			name: "escape directive",
			in:   "# escape=`\nFROM alpine:3.20\nMAINTAINER \"a\\b\" <x>\n",
			want: "# escape=`\nFROM alpine:3.20\nLABEL org.opencontainers.image.authors=\"`\"a\\b`\" <x>\"\n",
		},
	})
}

func TestInstructionCasing(t *testing.T) {
	runCases(t, InstructionCasing, []ruleCase{
		{name: "upper majority", in: "FROM alpine:3.20\nrun true\nCMD [\"sh\"]\n", want: "FROM alpine:3.20\nRUN true\nCMD [\"sh\"]\n"},
		{name: "lower majority", in: "from alpine:3.20\nrun true\nCMD [\"sh\"]\n", want: "from alpine:3.20\nrun true\ncmd [\"sh\"]\n"},
		{name: "mixed-case keyword", in: "FROM debian:bookworm\nRun echo hi\n", want: "FROM debian:bookworm\nRUN echo hi\n"},
		{name: "tie is upper", in: "from alpine:3.20\nCMD [\"sh\"]\n", want: "FROM alpine:3.20\nCMD [\"sh\"]\n"},
		{name: "indented, continuation and crlf", in: "FROM alpine:3.20\r\n  run echo a \\\r\n    b\r\nCMD [\"sh\"]\r\n", want: "FROM alpine:3.20\r\n  RUN echo a \\\r\n    b\r\nCMD [\"sh\"]\r\n"},
		{name: "consistent", in: "# escape=`\nFROM scratch\nCOPY a /a\n"},
		{name: "consistent lower", in: "from scratch\ncopy a /a\n"},
	})
}

func TestFromAsCasing(t *testing.T) {
	runCases(t, FromAsCasing, []ruleCase{
		{name: "upper FROM", in: "FROM node:20 as build\nFROM node:20-slim\n", want: "FROM node:20 AS build\nFROM node:20-slim\n"},
		{name: "lower from", in: "from node:20 AS build\nrun true\n", want: "from node:20 as build\nrun true\n"},
		{name: "crlf", in: "FROM debian:bookworm   as   base\r\n", want: "FROM debian:bookworm   AS   base\r\n"},
		{name: "stage named as", in: "FROM alpine:3.20 as as\n", want: "FROM alpine:3.20 AS as\n"},
		{name: "consistent", in: "FROM alpine:3.20 AS base\nfrom base as x\n"},
		{name: "mixed FROM left to instruction-casing", in: "From alpine:3.20 as base\n"},
	})
}

func TestWorkdirAbsolute(t *testing.T) {
	runCases(t, WorkdirAbsolute, []ruleCase{
		{name: "alpine", in: "FROM alpine:3.20\nWORKDIR app\n", want: "FROM alpine:3.20\nWORKDIR /app\n"},
		{name: "after an absolute one", in: "FROM debian:bookworm\nWORKDIR /srv\nWORKDIR ./app/\nWORKDIR ../data\n", want: "FROM debian:bookworm\nWORKDIR /srv\nWORKDIR /srv/app\nWORKDIR /srv/data\n"},
		{name: "golang image sets /go", in: "FROM golang:1.22\nWORKDIR src/app\n", want: "FROM golang:1.22\nWORKDIR /go/src/app\n"},
		{name: "inherited through a stage", in: "FROM node:20 AS base\nWORKDIR /app\nFROM base\nWORKDIR web\n", want: "FROM node:20 AS base\nWORKDIR /app\nFROM base\nWORKDIR /app/web\n"},
		{name: "scratch", in: "FROM scratch\nWORKDIR data\n", want: "FROM scratch\nWORKDIR /data\n"},
		{name: "unknown image", in: "FROM eclipse-temurin:21\nWORKDIR app\n", findings: []string{"WORKDIR app is relative"}},
		{name: "distroless", in: "FROM gcr.io/distroless/static-debian12\nWORKDIR app\n", findings: []string{"not known offline"}},
		{name: "variable", in: "FROM alpine:3.20\nWORKDIR $HOME\nWORKDIR app\n", findings: []string{"WORKDIR app is relative"}},
		{name: "absolute", in: "FROM alpine:3.20\nWORKDIR /app\n"},
		{
			name:  "dev target left alone",
			in:    "FROM node:20 AS dev\nWORKDIR app\n",
			facts: factsWith(nil, facts.Service{Name: "dev", Target: "dev"}),
		},
		{name: "lower case", in: "from node:20-alpine\nworkdir app\n", want: "from node:20-alpine\nworkdir /app\n"},
		{name: "crlf", in: "FROM python:3.12\r\nWORKDIR app\r\nRUN ls\r\n", want: "FROM python:3.12\r\nWORKDIR /app\r\nRUN ls\r\n"},
	})
}

func TestAddToCopy(t *testing.T) {
	runCases(t, AddToCopy, []ruleCase{
		{name: "local files", in: "FROM alpine:3.20\nADD . /app\nADD --chown=1000:1000 [\"a.txt\", \"b/\", \"/dst/\"]\n", want: "FROM alpine:3.20\nCOPY . /app\nCOPY --chown=1000:1000 [\"a.txt\", \"b/\", \"/dst/\"]\n"},
		{name: "url", in: "FROM debian:bookworm\nADD https://example.com/tool.sh /usr/local/bin/tool\n"},
		{name: "git", in: "FROM debian:bookworm\nADD git@github.com:moby/buildkit.git /src\nADD github.com/moby/buildkit#v0.13 /bk\n"},
		{name: "tarballs", in: "FROM scratch\nADD rootfs.tar.gz /\nADD vendor.tgz /v\nADD data.tar.xz /d\nADD x.tar.bz2 /x\nADD blob.tar /b\n"},
		{name: "variable", in: "FROM alpine:3.20\nARG SRC\nADD $SRC /app\n"},
		{name: "checksum flag", in: "FROM alpine:3.20\nADD --checksum=sha256:abc a /a\n"},
		{name: "mixed sources", in: "FROM alpine:3.20\nADD a.txt b.tar.gz /dst/\n"},
		{
			name:  "dev target left alone",
			in:    "FROM node:20 AS dev\nADD . /app\n",
			facts: factsWith(nil, facts.Service{Name: "dev", Target: "dev"}),
		},
		{name: "lower case", in: "from alpine:3.20\nadd . /app\n", want: "from alpine:3.20\ncopy . /app\n"},
		{name: "crlf and escape directive", in: "# escape=`\r\nFROM alpine:3.20\r\nADD a `\r\n    /a\r\n", want: "# escape=`\r\nFROM alpine:3.20\r\nCOPY a `\r\n    /a\r\n"},
	})
}

// TestAddToCopyContent checks that an archive without an archive's name is
// recognised by its content when the context is known.
func TestAddToCopyContent(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "bundle.bin"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	_, _ = zw.Write([]byte("not really a tar, but compressed"))
	_ = zw.Close()
	_ = f.Close()
	if err := os.WriteFile(filepath.Join(dir, "app.js"), []byte("console.log(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fb := factsWith(nil)
	fb.Context = dir
	runCases(t, AddToCopy, []ruleCase{
		{name: "compressed by content", in: "FROM alpine:3.20\nADD bundle.bin /opt/\n", facts: fb},
		{name: "glob matching it", in: "FROM alpine:3.20\nADD *.bin /opt/\n", facts: fb},
		{name: "plain file", in: "FROM alpine:3.20\nADD /app.js /app/\n", want: "FROM alpine:3.20\nCOPY /app.js /app/\n", facts: fb},
	})
}

func TestBaseImageTag(t *testing.T) {
	runCases(t, BaseImageTag, []ruleCase{
		{name: "untagged", in: "FROM node\n", findings: []string{"base image node has no tag"}},
		{name: "latest", in: "FROM registry.example.com:5000/team/app:latest AS base\n", findings: []string{"uses :latest"}},
		{name: "from a global arg", in: "ARG BASE=python\nFROM ${BASE}\n", findings: []string{"base image python has no tag"}},
		{name: "tagged, digest, stage, scratch", in: "FROM node:20 AS a\nFROM python@sha256:0123 AS b\nFROM a\nFROM scratch\n"},
		{name: "unresolved arg", in: "ARG BASE\nFROM $BASE\n"},
	})
}

func TestHygieneLint(t *testing.T) {
	all := []*Rule{InstructionCasing, FromAsCasing, MaintainerLabel, WorkdirAbsolute, AddToCopy, BaseImageTag}
	src := "FROM node:20-alpine as build\nMAINTAINER jane\nworkdir app\nADD . .\nRun npm ci\nFROM node:20-alpine\nCOPY --from=build /app /app\nCMD [\"node\", \"/app/s.js\"]\n"
	out := applyGated(t, all, src, factsWith(nil))
	want := "FROM node:20-alpine AS build\nLABEL org.opencontainers.image.authors=\"jane\"\nWORKDIR /app\nCOPY . .\nRUN npm ci\nFROM node:20-alpine\nCOPY --from=build /app /app\nCMD [\"node\", \"/app/s.js\"]\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
