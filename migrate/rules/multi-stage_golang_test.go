package rules

import "testing"

var splitGoCases = []splitCase{
	{
		name:  "static binary to distroless",
		files: map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n", "go.sum": "", "main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n", "templates/index.html": "", "cmd/app/main.go": "package main\n"},
		in:    "FROM golang:1.22-bookworm\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /bin/app ./cmd/app\nEXPOSE 8080\nENTRYPOINT [\"/bin/app\"]\n",
		want: `FROM golang:1.22-bookworm AS builder
ENV CGO_ENABLED=0
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -o /bin/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /src
COPY templates ./templates
COPY --from=builder /bin/app /bin/app
EXPOSE 8080
ENTRYPOINT ["/bin/app"]
`,
	},
	{
		name:  "cgo on alpine keeps alpine",
		files: map[string]string{"go.mod": "module example.com/app\n\nrequire github.com/mattn/go-sqlite3 v1.14.22\n", "main.go": "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nfunc main() {}\n"},
		in:    "FROM golang:1.22-alpine3.19\nRUN apk add --no-cache gcc musl-dev sqlite-dev ca-certificates tzdata\nWORKDIR /app\nCOPY . .\nRUN go build -o server .\nCMD [\"./server\"]\n",
		want: `FROM golang:1.22-alpine3.19 AS builder
RUN apk add --no-cache gcc musl-dev sqlite-dev ca-certificates tzdata
WORKDIR /app
COPY go.mod ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -o server .

FROM alpine:3.19
RUN apk add --no-cache sqlite-libs ca-certificates tzdata
WORKDIR /app
COPY --from=builder /app/server /app/server
CMD ["./server"]
`,
	},
	{
		name:  "no cgo but a shell command: debian slim",
		files: map[string]string{"go.mod": "module example.com/app\n", "main.go": "package main\n\nfunc main() {}\n", "migrations/001.sql": ""},
		in:    "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o /usr/local/bin/api .\nRUN apt-get update && apt-get install -y curl\nHEALTHCHECK CMD curl -f http://localhost:8080/ || exit 1\nCMD [\"api\"]\n",
		want: `FROM golang:1.22 AS builder
ENV CGO_ENABLED=0
WORKDIR /app
COPY go.mod ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -o /usr/local/bin/api .

FROM debian:bookworm-slim
WORKDIR /app
COPY migrations ./migrations
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /usr/local/bin/api /usr/local/bin/api
RUN apt-get update \
    && apt-get install --no-install-recommends -y curl \
    && rm -rf /var/lib/apt/lists/*
HEALTHCHECK CMD curl -f http://localhost:8080/ || exit 1
CMD ["api"]
`,
	},
	{
		// Go 1.19 images ship the standard library prebuilt with cgo:
		// CGO_ENABLED=0 or -trimpath would recompile it on a cold build.
		name:  "go 1.19 keeps cgo and no trimpath: glibc runtime",
		files: map[string]string{"go.mod": "module example.com/ids\n\ngo 1.19\n", "go.sum": "", "main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\":8090\", nil) }\n"},
		in:    "FROM golang:1.19-bookworm\nWORKDIR /src\nCOPY . .\nRUN go build -o /usr/local/bin/ids .\nEXPOSE 8090\nCMD [\"ids\"]\n",
		want: `FROM golang:1.19-bookworm AS builder
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -o /usr/local/bin/ids .

FROM debian:bookworm-slim
WORKDIR /src
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /usr/local/bin/ids /usr/local/bin/ids
EXPOSE 8090
CMD ["ids"]
`,
		findings: []string{"cgo is kept on as the original builds"},
	},
	{
		// A replace pointing into the context needs the sources to
		// download, and a vendor directory needs no download.
		name:  "local replace: no separate download layer",
		files: map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n\nreplace example.com/lib => ./lib\n", "main.go": "package main\n\nfunc main() {}\n", "lib/go.mod": "module example.com/lib\n"},
		in:    "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o /app/server .\nCMD [\"/app/server\"]\n",
		want: `FROM golang:1.22 AS builder
ENV CGO_ENABLED=0
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -o /app/server .

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=builder /app/server /app/server
CMD ["/app/server"]
`,
	},
	{
		name:     "binary not followed: no split",
		files:    map[string]string{"go.mod": "module example.com/app\n", "main.go": "package main\n"},
		in:       "FROM golang:1.22-alpine\nWORKDIR /app\nCOPY . .\nRUN make build\nCMD [\"./bin/server\"]\n",
		findings: []string{"not an output"},
	},
}

func TestSplitGo(t *testing.T) { runSplitCases(t, splitGoCases) }
