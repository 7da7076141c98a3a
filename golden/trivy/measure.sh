#!/usr/bin/env bash
# Counts trivy's HIGH/CRITICAL misconfiguration findings on every original
# Dockerfile of the golden cases and on the Dockerfile.optimized composeopt
# writes for it (apply on a copy of each case), and lists what is left.
# Not part of `make test`: trivy is not installed by CI. Build it with
#   GOEXPERIMENT=jsonv2 GOBIN=/tmp/trivybin go install github.com/aquasecurity/trivy/cmd/trivy@v0.68.0
# and run: TRIVY=/tmp/trivybin/trivy golden/trivy/measure.sh
# trivy runs offline (--skip-check-update) with the checks built into it.
set -euo pipefail
cd "$(dirname "$0")/../.."
TRIVY=${TRIVY:-trivy}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/composeopt" ./cmd/composeopt
for d in golden/testdata/*/in; do
	n=$(basename "$(dirname "$d")")
	cp -r "$d" "$work/tree/$n" 2>/dev/null || { mkdir -p "$work/tree"; cp -r "$d" "$work/tree/$n"; }
	(cd "$work/tree/$n" && git init -q . && { "$work/composeopt" apply -r >/dev/null 2>&1 || "$work/composeopt" apply >/dev/null 2>&1 || true; })
done
"$TRIVY" config --quiet --skip-check-update --severity HIGH,CRITICAL --format json -o "$work/out.json" "$work/tree"
python3 - "$work/out.json" <<'PY'
import json, sys, collections
per = {}
for r in json.load(open(sys.argv[1])).get("Results", []):
    per[r["Target"]] = [m for m in r.get("Misconfigurations", []) if m["Status"] == "FAIL"]
pairs = before = after = 0
left = []
for t, f in sorted(per.items()):
    o = t[: -len(".optimized")]
    if t.endswith(".optimized") and o in per:
        pairs += 1
        before += len(per[o])
        after += len(f)
        left += [(t, m["ID"], m["Title"]) for m in f]
print(f"{pairs} original/optimized pairs: {before} HIGH/CRITICAL findings before, {after} after ({100*after/max(before,1):.0f}% left)")
for t, i, title in left:
    print(f"  left: {t}: {i} {title}")
PY
