#!/usr/bin/env bash
# Sets up everything the composeopt end-to-end tests need on a fresh Debian
# bookworm machine, as root, with no container registry reachable:
#
#   * docker.io (Debian's engine) running in the background,
#   * the buildx CLI plugin, built from its Go module,
#   * a local registry (distribution v3, built from its Go module) on
#     127.0.0.1:5000 that dockerd uses as its docker.io mirror,
#   * stand-in base images (debian, node, python, golang, nginx, httpd)
#     built from a debootstrap root file system and pushed to that registry as
#     library/NAME:TAG, so that `FROM node:18-bookworm-slim` resolves;
#   * a current BuildKit daemon (buildkitd and buildctl built from the
#     github.com/moby/buildkit module at the version go.mod requires) with
#     the OCI worker (runc from Debian) on tcp://127.0.0.1:1234, using the
#     local registry as its docker.io mirror, registered as the buildx
#     builder composeopt-e2e-remote (remote driver). The engine's own
#     builder (Docker 20.10) knows no heredocs and no COPY --chmod; this
#     one does, and it stands in for a BuildKit cluster (Kubernetes, a
#     build cloud) that verify --builder reaches through buildx.
#
# It is idempotent: every step checks whether its result is already there.
# Registry storage, the debootstrap tarball and the built binaries live in
# $COMPOSEOPT_E2E_CACHE (default /var/cache/composeopt-e2e), so a second run
# on the same machine only (re)starts daemons.
set -euo pipefail

CACHE=${COMPOSEOPT_E2E_CACHE:-/var/cache/composeopt-e2e}
REGISTRY_ADDR=127.0.0.1:5000
BUILDX_VERSION=v0.38.2
REGISTRY_VERSION=v3.0.0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# BuildKit at the version the project's go.mod requires (the parser and
# linter composeopt uses), so both speak the same Dockerfile syntax.
BUILDKIT_VERSION=$(awk '$1 == "github.com/moby/buildkit" {print $2; exit}' "$HERE/../../go.mod")
BUILDKIT_ADDR=tcp://127.0.0.1:1234
REMOTE_BUILDER=composeopt-e2e-remote
IMAGES_DIR=$HERE/images
BIN=$CACHE/bin
export DOCKER_BUILDKIT=1
export PATH=/usr/local/go/bin:$PATH

mkdir -p "$CACHE" "$BIN" "$CACHE/stamps" "$CACHE/registry"

T0=$(date +%s)
log() { printf '[env.sh %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf '[env.sh] ERROR: %s\n' "$*" >&2; exit 1; }

# step NAME CMD...: runs one step and prints how long it took.
step() {
	local name=$1 s
	shift
	s=$(date +%s)
	log "begin: $name"
	"$@"
	log "done:  $name ($(($(date +%s) - s))s)"
}

# ---------------------------------------------------------------- packages
install_packages() {
	local need=()
	for p in docker.io debootstrap curl ca-certificates iptables runc jq; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
	done
	if [ ${#need[@]} -eq 0 ]; then
		log "packages already installed"
		return
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# ---------------------------------------------------------------- Go tools
# Builds a Go command with `go install` into $BIN unless a working copy is there.
go_tool() {
	local pkg=$1 name=$2 check=$3 ldflags=${4:-}
	if [ -x "$BIN/$name" ] && "$BIN/$name" $check >/dev/null 2>&1; then
		log "$name already built"
		return
	fi
	command -v go >/dev/null || die "go is not on PATH; it is needed to build $name"
	GOBIN=$BIN GOFLAGS=-buildvcs=false go install -ldflags "$ldflags" "$pkg" ||
		die "go install $pkg failed"
}

build_go_tools() {
	# Both builds are CPU-bound; run them one after the other but in the
	# background of the debootstrap step (see main).
	go_tool "github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION" buildx version \
		"-X github.com/docker/buildx/version.Version=$BUILDX_VERSION"
	go_tool "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION" registry --version
	build_buildkit
}

# buildkitd and buildctl cannot be built with `go install ...@version`
# (buildkit's go.mod has exclude directives, which go install refuses), so
# they are built from a throw-away module that requires buildkit.
build_buildkit() {
	[ -n "$BUILDKIT_VERSION" ] || die "cannot read the github.com/moby/buildkit version from go.mod"
	if [ -x "$BIN/buildkitd" ] && [ -x "$BIN/buildctl" ] &&
		"$BIN/buildkitd" --version 2>/dev/null | grep -q " $BUILDKIT_VERSION " &&
		"$BIN/buildctl" --version 2>/dev/null | grep -q " $BUILDKIT_VERSION "; then
		log "buildkitd $BUILDKIT_VERSION already built"
		return
	fi
	local mod
	mod=$(mktemp -d)
	printf 'module composeopt-e2e/buildkit-tools\n\ngo 1.26\n' >"$mod/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "github.com/moby/buildkit/cmd/buildctl"\n\t_ "github.com/moby/buildkit/cmd/buildkitd"\n)\n' >"$mod/tools.go"
	(
		cd "$mod" &&
			go get "github.com/moby/buildkit@$BUILDKIT_VERSION" &&
			go mod tidy &&
			GOFLAGS=-buildvcs=false go build -trimpath \
				-ldflags "-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION" \
				-o "$BIN/" github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
	) || { rm -rf "$mod"; die "building buildkitd/buildctl $BUILDKIT_VERSION failed"; }
	rm -rf "$mod"
}

install_buildx() {
	local dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
	mkdir -p "$dir"
	if ! cmp -s "$BIN/buildx" "$dir/docker-buildx"; then
		install -m 0755 "$BIN/buildx" "$dir/docker-buildx"
	fi
	docker buildx version >/dev/null 2>&1 || die "docker buildx does not work after installing $dir/docker-buildx"
}

# ---------------------------------------------------------------- rootfs
make_rootfs() {
	local tar=$CACHE/bookworm-minbase.tar
	if [ -s "$tar" ]; then
		log "debootstrap tarball cached: $tar"
		return
	fi
	local dir
	dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
	debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
	# Trim what an image never needs; the real -slim images do the same.
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
	tar -C "$dir" --numeric-owner -cf "$tar.tmp" .
	mv "$tar.tmp" "$tar"
	rm -rf "$dir"
}

# ---------------------------------------------------------------- dockerd
docker_ok() { timeout 10 docker info >/dev/null 2>&1; }

configure_dockerd() {
	# Returns 0 when daemon.json changed, so that a running dockerd gets restarted.
	local want='{"registry-mirrors":["http://'$REGISTRY_ADDR'"],"insecure-registries":["'$REGISTRY_ADDR'"]}'
	mkdir -p /etc/docker
	if [ -f /etc/docker/daemon.json ]; then
		if jq -e --arg a "$REGISTRY_ADDR" \
			'(.["registry-mirrors"] // [] | index("http://" + $a)) != null and (.["insecure-registries"] // [] | index($a)) != null' \
			/etc/docker/daemon.json >/dev/null 2>&1; then
			return 1
		fi
		# Merge into an existing configuration instead of replacing it.
		if command -v jq >/dev/null && jq -e . /etc/docker/daemon.json >/dev/null 2>&1; then
			cp /etc/docker/daemon.json /etc/docker/daemon.json.bak
			jq --arg a "$REGISTRY_ADDR" \
				'.["registry-mirrors"] = ((.["registry-mirrors"] // []) + ["http://" + $a] | unique) |
				 .["insecure-registries"] = ((.["insecure-registries"] // []) + [$a] | unique)' \
				/etc/docker/daemon.json.bak >/etc/docker/daemon.json
			return 0
		fi
		cp /etc/docker/daemon.json /etc/docker/daemon.json.bak
	fi
	echo "$want" >/etc/docker/daemon.json
	return 0
}

stop_dockerd() {
	local pid
	pid=$(cat /var/run/docker.pid 2>/dev/null || true)
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
	die "dockerd (pid $pid) did not stop"
}

start_dockerd() {
	local changed=0
	configure_dockerd && changed=1
	if docker_ok; then
		if [ $changed -eq 0 ]; then
			log "dockerd already running"
			return
		fi
		log "daemon.json changed: restarting dockerd"
		if command -v systemctl >/dev/null && systemctl is-active --quiet docker 2>/dev/null; then
			systemctl restart docker
		else
			stop_dockerd
		fi
	fi
	if ! docker_ok; then
		# setsid + nohup: the daemon outlives this script and its terminal.
		setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
	fi
	for _ in $(seq 1 60); do
		docker_ok && return 0
		sleep 1
	done
	tail -30 /var/log/dockerd.log >&2 || true
	die "dockerd did not answer 'docker info' within 60s (log: /var/log/dockerd.log)"
}

# ---------------------------------------------------------------- registry
registry_ok() { curl -fsS -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

start_registry() {
	if registry_ok; then
		log "registry already running on $REGISTRY_ADDR"
		return
	fi
	cat >"$CACHE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $CACHE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
	setsid nohup "$BIN/registry" serve "$CACHE/registry.yml" >>/var/log/composeopt-registry.log 2>&1 </dev/null &
	for _ in $(seq 1 30); do
		registry_ok && return 0
		sleep 0.5
	done
	tail -20 /var/log/composeopt-registry.log >&2 || true
	die "registry did not come up on $REGISTRY_ADDR (log: /var/log/composeopt-registry.log)"
}

# ---------------------------------------------------------------- buildkitd
buildkitd_ok() { timeout 10 "$BIN/buildctl" --addr "$BUILDKIT_ADDR" debug workers >/dev/null 2>&1; }

start_buildkitd() {
	command -v runc >/dev/null || die "runc is not installed (apt-get install runc); buildkitd's OCI worker needs it"
	local conf=$CACHE/buildkitd.toml
	cat >"$conf.tmp" <<TOML
root = "$CACHE/buildkitd"
[grpc]
  address = ["$BUILDKIT_ADDR"]
[worker.oci]
  enabled = true
  gc = true
  gckeepstorage = "10GB"
[worker.containerd]
  enabled = false
[registry."docker.io"]
  mirrors = ["$REGISTRY_ADDR"]
[registry."$REGISTRY_ADDR"]
  http = true
  insecure = true
TOML
	local changed=1
	cmp -s "$conf.tmp" "$conf" && changed=0
	mv "$conf.tmp" "$conf"
	if buildkitd_ok; then
		if [ $changed -eq 0 ]; then
			log "buildkitd already running on $BUILDKIT_ADDR"
			return
		fi
		log "buildkitd.toml changed: restarting buildkitd"
		kill "$(cat "$CACHE/buildkitd.pid")" 2>/dev/null || true
		for _ in $(seq 1 30); do buildkitd_ok || break; sleep 1; done
	fi
	setsid nohup "$BIN/buildkitd" --config "$conf" >>/var/log/composeopt-buildkitd.log 2>&1 </dev/null &
	echo $! >"$CACHE/buildkitd.pid"
	for _ in $(seq 1 60); do
		buildkitd_ok && return 0
		sleep 1
	done
	tail -30 /var/log/composeopt-buildkitd.log >&2 || true
	die "buildkitd did not answer on $BUILDKIT_ADDR within 60s (log: /var/log/composeopt-buildkitd.log)"
}

register_remote_builder() {
	if ! docker buildx inspect "$REMOTE_BUILDER" >/dev/null 2>&1; then
		docker buildx create --name "$REMOTE_BUILDER" --driver remote "$BUILDKIT_ADDR" >/dev/null ||
			die "docker buildx create --driver remote $BUILDKIT_ADDR failed"
	fi
	docker buildx inspect --bootstrap "$REMOTE_BUILDER" >/dev/null ||
		die "buildx builder $REMOTE_BUILDER does not answer (buildkitd on $BUILDKIT_ADDR)"
}

# A quick check that the remote builder pulls through the mirror, knows
# heredocs and COPY --chmod, and loads its result into the engine.
remote_smoke_test() {
	local ctx
	ctx=$(mktemp -d)
	echo hi >"$ctx/hello.txt"
	printf 'FROM debian:bookworm-slim\nCOPY --chmod=0755 hello.txt /hello.txt\nRUN <<SH\nset -e\ntest -x /hello.txt\nSH\n' >"$ctx/Dockerfile"
	docker buildx build --builder "$REMOTE_BUILDER" --load -q -t composeopt-e2e/remote-smoke:latest "$ctx" >/dev/null 2>"$CACHE/remote-smoke.log" ||
		{ rm -rf "$ctx"; cat "$CACHE/remote-smoke.log" >&2; die "remote builder smoke test (heredoc, COPY --chmod, --load) failed"; }
	rm -rf "$ctx"
	docker image rm composeopt-e2e/remote-smoke:latest >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- images
# in_registry NAME TAG: whether the local registry has library/NAME:TAG.
in_registry() {
	curl -fs -o /dev/null \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		"http://$REGISTRY_ADDR/v2/library/$1/manifests/$2"
}

# The build context of each stand-in is its images/ directory plus the host's
# extra CA certificates; a hash of both decides whether a cached image is stale.
context_hash() {
	{
		(cd "$IMAGES_DIR/$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		find /usr/local/share/ca-certificates -name '*.crt' -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
	} | sha256sum | cut -d' ' -f1
}

# build_image DIR NAME TAG [EXTRA_TAG...]: builds images/DIR as NAME:TAG and
# pushes it to the registry as library/NAME:TAG (and each extra tag).
build_image() {
	local dir=$1 name=$2 tag=$3
	shift 3
	local hash stamp=$CACHE/stamps/$name-$tag
	hash=$(context_hash "$dir")
	local all_there=1
	for t in "$tag" "$@"; do in_registry "$name" "$t" || all_there=0; done
	if [ $all_there -eq 1 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
		log "$name:$tag is in the registry and up to date"
		return
	fi
	local ctx
	ctx=$(mktemp -d)
	cp -r "$IMAGES_DIR/$dir/." "$ctx/"
	mkdir -p "$ctx/certs"
	find /usr/local/share/ca-certificates -name '*.crt' -type f -exec cp {} "$ctx/certs/" \; 2>/dev/null || true
	local s
	s=$(date +%s)
	if ! docker build -q -t "$name:$tag" -t "$REGISTRY_ADDR/library/$name:$tag" "$ctx" >"$CACHE/build-$name.log" 2>&1; then
		tail -30 "$CACHE/build-$name.log" >&2
		rm -rf "$ctx"
		die "building stand-in $name:$tag failed (log: $CACHE/build-$name.log)"
	fi
	rm -rf "$ctx"
	docker push -q "$REGISTRY_ADDR/library/$name:$tag" >/dev/null
	for t in "$@"; do
		docker tag "$name:$tag" "$name:$t"
		docker tag "$name:$tag" "$REGISTRY_ADDR/library/$name:$t"
		docker push -q "$REGISTRY_ADDR/library/$name:$t" >/dev/null
	done
	echo "$hash" >"$stamp"
	log "built and pushed $name:$tag $* ($(($(date +%s) - s))s)"
}

build_images() {
	# The base: debootstrap root file system -> debian:bookworm-slim.
	if ! in_registry debian bookworm-slim || [ "$(cat "$CACHE/stamps/debian-bookworm-slim" 2>/dev/null)" != "$(context_hash debian)" ]; then
		make_rootfs
		docker image inspect composeopt-e2e/bookworm-rootfs:latest >/dev/null 2>&1 ||
			docker import "$CACHE/bookworm-minbase.tar" composeopt-e2e/bookworm-rootfs:latest >/dev/null
	fi
	build_image debian debian bookworm-slim bookworm 12-slim
	# The language images only depend on the base, so build them in parallel
	# (they mostly wait for apt downloads).
	local pids=() rc=0
	build_image node node 18-bookworm-slim 18-slim 18 & pids+=($!)
	build_image python python 3.11-slim-bookworm 3.11-slim 3.11 & pids+=($!)
	build_image golang golang 1.19-bookworm 1.19 & pids+=($!)
	build_image nginx nginx 1.27-bookworm 1.27 & pids+=($!)
	build_image httpd httpd 2.4-bookworm 2.4 & pids+=($!)
	build_local_image distroless gcr.io/distroless/static-debian12 nonroot & pids+=($!)
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ $rc -eq 0 ] || die "building a stand-in image failed"
}

# build_local_image DIR NAME TAG: builds images/DIR as NAME:TAG in the
# engine's own image store. The registry mirror only stands in for Docker
# Hub, so images named after other registries (gcr.io) are kept locally,
# where BuildKit's docker driver finds them without pulling.
build_local_image() {
	local dir=$1 name=$2 tag=$3 hash stamp
	stamp=$CACHE/stamps/local-$(echo "$name-$tag" | tr '/:' '__')
	hash=$(context_hash "$dir")
	if docker image inspect "$name:$tag" >/dev/null 2>&1 && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
		log "$name:$tag is in the engine and up to date"
		return
	fi
	docker build -q -t "$name:$tag" "$IMAGES_DIR/$dir" >"$CACHE/build-local-$dir.log" 2>&1 ||
		{ tail -30 "$CACHE/build-local-$dir.log" >&2; die "building stand-in $name:$tag failed"; }
	echo "$hash" >"$stamp"
	log "built $name:$tag in the engine"
}

# A quick check that the mirror really serves FROM lines and that npm can
# reach its registry through the proxy from inside a build.
smoke_test() {
	local ctx
	ctx=$(mktemp -d)
	printf 'FROM node:18-bookworm-slim\nRUN npm view typescript@5 version --silent | tail -1\n' >"$ctx/Dockerfile"
	docker build -q --no-cache -t composeopt-e2e/smoke:latest "$ctx" >/dev/null 2>"$CACHE/smoke.log" ||
		{ rm -rf "$ctx"; cat "$CACHE/smoke.log" >&2; die "smoke test (FROM via mirror + npm over HTTPS) failed"; }
	rm -rf "$ctx"
	docker image rm composeopt-e2e/smoke:latest >/dev/null 2>&1 || true
}

main() {
	[ "$(id -u)" -eq 0 ] || die "run as root"
	step "apt packages (docker.io, debootstrap)" install_packages
	# The Go builds are CPU-bound and debootstrap is network-bound: overlap them.
	local gopid
	build_go_tools >"$CACHE/go-install.log" 2>&1 &
	gopid=$!
	step "debootstrap bookworm minbase" make_rootfs
	step "go install buildx $BUILDX_VERSION + registry $REGISTRY_VERSION + buildkitd $BUILDKIT_VERSION" wait "$gopid" ||
		{ cat "$CACHE/go-install.log" >&2; die "building buildx/registry/buildkitd failed"; }
	step "dockerd" start_dockerd
	step "buildx plugin" install_buildx
	step "registry on $REGISTRY_ADDR" start_registry
	step "stand-in images" build_images
	step "smoke test" smoke_test
	step "buildkitd $BUILDKIT_VERSION on $BUILDKIT_ADDR" start_buildkitd
	step "buildx builder $REMOTE_BUILDER (remote driver)" register_remote_builder
	step "remote builder smoke test" remote_smoke_test
	log "ready: docker $(docker version -f '{{.Server.Version}}'), buildx $(docker buildx version | awk '{print $2}'), registry mirror http://$REGISTRY_ADDR, buildx builder $REMOTE_BUILDER ($BUILDKIT_ADDR)"
}

main "$@"
