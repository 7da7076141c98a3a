package rules

import "testing"

func TestPkgCache(t *testing.T) {
	runCases(t, PkgCache, []ruleCase{
		{
			name: "apk update and add",
			in:   "FROM node:20-alpine\nRUN apk update && apk add python3 make g++\n",
			want: "FROM node:20-alpine\nRUN apk add --no-cache python3 make g++\n",
		},
		{
			name: "apk --update and rm cache",
			in:   "FROM alpine:3.20\nRUN apk add --update gcc musl-dev && rm -rf /var/cache/apk/*\n",
			want: "FROM alpine:3.20\nRUN apk add --no-cache gcc musl-dev\n",
		},
		{
			name: "apk already clean",
			in:   "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
		},
		{
			name: "apk cache mount left alone",
			in:   "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n",
		},
		{
			name: "apt-get install without update",
			in:   "FROM debian:bookworm-slim\nRUN apt-get install curl\n",
			want: "FROM debian:bookworm-slim\nRUN apt-get update \\\n    && apt-get install --no-install-recommends -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n",
		},
		{
			name: "separate update RUN merged",
			in:   "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n",
			want: "FROM debian:bookworm\nRUN apt-get update \\\n    && apt-get install --no-install-recommends -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n",
		},
		{
			name: "apt already clean",
			in:   "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
		},
		{
			name: "apt lists mounted: no rm",
			in:   "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get update && apt-get install -y --no-install-recommends curl\n",
		},
		{
			name: "dnf clean all",
			in:   "FROM fedora:40\nRUN dnf install -y git\n",
			want: "FROM fedora:40\nRUN dnf install -y git \\\n    && dnf clean all\n",
		},
		{
			name: "pipes left alone",
			in:   "FROM debian:bookworm\nRUN apt-get update | tee log && apt-get install curl\n",
		},
		{
			name: "escape backtick",
			in:   "# escape=`\nFROM alpine:3.20\nRUN apk update && apk add curl\n",
			want: "# escape=`\nFROM alpine:3.20\nRUN apk add --no-cache curl\n",
		},
		{
			name: "continuations and crlf",
			in:   "FROM debian:bookworm\r\nRUN apt-get update && \\\r\n    apt-get install -y curl\r\nCMD [\"sh\"]\r\n",
			want: "FROM debian:bookworm\r\nRUN apt-get update \\\r\n    && apt-get install --no-install-recommends -y curl \\\r\n    && rm -rf /var/lib/apt/lists/*\r\nCMD [\"sh\"]\r\n",
		},
	})
}

func TestPkgCacheKeepsCasingAndComments(t *testing.T) {
	runCases(t, PkgCache, []ruleCase{
		{
			name: "lower-case run",
			in:   "from alpine:3.20\nrun apk update && apk add curl\n",
			want: "from alpine:3.20\nrun apk add --no-cache curl\n",
		},
		{
			name: "comment inside continuation",
			in:   "FROM alpine:3.20\nRUN apk update \\\n    # tools for the build\n    && apk add curl\n",
			want: "FROM alpine:3.20\n# tools for the build\nRUN apk add --no-cache curl\n",
		},
	})
}

func TestPkgCacheIndexRefreshAlone(t *testing.T) {
	runCases(t, PkgCache, []ruleCase{
		{
			name: "lone update with no install is dropped",
			in:   "FROM debian:bookworm\nRUN apt-get update\nCOPY . /app\n",
			want: "FROM debian:bookworm\nCOPY . /app\n",
		},
		{
			name: "lone update kept when a later install cannot be rewritten",
			in:   "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl | tee /log\n",
		},
		{
			name: "lone update kept when a derived stage pipes an install",
			in:   "FROM debian:bookworm AS base\nRUN apt-get update\nFROM base\nRUN apt-get install -y curl | tee /log\n",
		},
		{
			name: "lone apk update dropped",
			in:   "FROM alpine:3.20\nRUN apk update\nRUN apk add curl\n",
			want: "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
		},
	})
}

func TestPkgCacheHeredoc(t *testing.T) {
	runCases(t, PkgCache, []ruleCase{
		{
			name: "apt in a heredoc",
			in:   "FROM debian:bookworm-slim\nRUN <<EOT\nset -eux\napt-get update\napt-get install -y curl\nEOT\nCMD [\"bash\"]\n",
			want: "FROM debian:bookworm-slim\nRUN <<EOT\nset -eux\napt-get update && apt-get install --no-install-recommends -y curl && rm -rf /var/lib/apt/lists/*\nEOT\nCMD [\"bash\"]\n",
		},
		{
			name: "apk in an indented heredoc",
			in:   "FROM alpine:3.20\nRUN <<-EOT\n\tapk add --update curl\nEOT\n",
			want: "FROM alpine:3.20\nRUN <<-EOT\n\tapk add --no-cache curl\nEOT\n",
		},
		{
			name: "unparsable line leaves the heredoc alone",
			in:   "FROM debian:bookworm-slim\nRUN <<EOT\napt-get update\napt-get install -y curl | tee /log\nEOT\n",
		},
		{
			name: "heredoc read by a command is not a script",
			in:   "FROM alpine:3.20\nRUN cat <<EOT\napk add curl\nEOT\n",
		},
		{
			name: "heredoc written to a file is not a script",
			in:   "FROM alpine:3.20\nRUN cat <<EOT > /etc/motd\napk add curl\nEOT\n",
		},
	})
}

func TestPkgCacheShellC(t *testing.T) {
	runCases(t, PkgCache, []ruleCase{
		{
			name: "sh -c in shell form",
			in:   "FROM alpine:3.20\nRUN sh -c 'apk update && apk add curl'\n",
			want: "FROM alpine:3.20\nRUN sh -c 'apk add --no-cache curl'\n",
		},
		{
			name: "bash -c in exec form",
			in:   "FROM debian:bookworm\nRUN [\"/bin/bash\", \"-c\", \"apt-get update && apt-get install -y curl\"]\n",
			want: "FROM debian:bookworm\nRUN [\"/bin/bash\", \"-c\", \"apt-get update && apt-get install --no-install-recommends -y curl && rm -rf /var/lib/apt/lists/*\"]\n",
		},
		{
			name: "unparsable inner script left alone",
			in:   "FROM alpine:3.20\nRUN sh -c 'apk add curl | tee /log'\n",
		},
		{
			name: "other programs with -c left alone",
			in:   "FROM python:3.12-alpine\nRUN python -c 'print(1)'\n",
		},
	})
}
