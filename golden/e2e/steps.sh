#!/usr/bin/env bash
# BuildKit's own step timings for the builds `composeopt verify` measures:
# the cold build of the original and the optimized Dockerfile, then, in a
# copy of the context, the rebuild of both after a change to one source
# file and after a change to a dependency manifest. Each build runs with
# --progress=rawjson and golden/buildsteps prints the steps that ran.
#
#   golden/e2e/steps.sh [-b BUILDER] [-a KEY=VAL]... CONTEXT DOCKERFILE OPTIMIZED SOURCE MANIFEST
#
# CONTEXT is a migrated build context (for instance a copy of an e2e
# fixture after `composeopt apply`), DOCKERFILE and OPTIMIZED are paths
# relative to it, SOURCE and MANIFEST the files to touch (relative to it).
# Hold the e2e lock: flock /work/e2e.lock golden/e2e/steps.sh ...
# Images are tagged composeopt-steps/*; remove them with
# docker image rm $(docker image ls -q 'composeopt-steps/*').
set -euo pipefail

builder=()
args=()
while getopts "b:a:" o; do
	case $o in
	b) builder=(--builder "$OPTARG") ;;
	a) args+=(--build-arg "$OPTARG") ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 5 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
ctx=$1 orig=$2 opt=$3 src=$4 manifest=$5
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
steps=$(mktemp -d)/buildsteps
(cd "$root" && go build -o "$steps" ./golden/buildsteps)
copy=$(mktemp -d)/context
cp -a "$ctx" "$copy"
nonce=$(date +%s%N)

# build LABEL CONTEXT DOCKERFILE [FLAGS...]
build() {
	local label=$1 dir=$2 df=$3 t0 t1
	shift 3
	echo "== $label ($df)"
	t0=$(date +%s.%N)
	docker buildx build "${builder[@]}" "${args[@]}" --load --progress=rawjson \
		-t "composeopt-steps/$(basename "$ctx"):$(echo "$label" | tr -c 'a-z0-9\n' '-')" \
		-f "$dir/$df" "$@" "$dir" 2>&1 >/dev/null | "$steps"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%7.2fs  the docker command\n", b - a }'
}

build "original cold" "$ctx" "$orig" --no-cache
build "optimized cold" "$ctx" "$opt" --no-cache
case $src in
*.py | *.sh | *.rb) printf '\n# steps probe %s\n' "$nonce" >>"$copy/$src" ;;
*) printf '\n// steps probe %s\n' "$nonce" >>"$copy/$src" ;;
esac
build "original after source change" "$copy" "$orig"
build "optimized after source change" "$copy" "$opt"
case $manifest in
*.json) sed -i '0,/{/s//{\n  "\/\/": "steps probe '"$nonce"'",/' "$copy/$manifest" ;;
go.mod) printf '\n// steps probe %s\n' "$nonce" >>"$copy/$manifest" ;;
*) printf '\n# steps probe %s\n' "$nonce" >>"$copy/$manifest" ;;
esac
build "original after dependency change" "$copy" "$orig"
build "optimized after dependency change" "$copy" "$opt"
rm -rf "$(dirname "$copy")" "$(dirname "$steps")"
