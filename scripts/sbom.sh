#!/usr/bin/env bash
# Builds the static release binary into build/ and writes a CycloneDX SBOM of the Go
# modules compiled into it (read from the binary's own build information), then checks
# that the SBOM lists every one of them. Usage: scripts/sbom.sh [OUTDIR] (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}
scripts/tools.sh
mkdir -p "$out"
CGO_ENABLED=0 go build -trimpath -o "$out/sealpost" ./cmd/sealpost
bin/cyclonedx-gomod bin -json -output "$out/sbom.cdx.json" "$out/sealpost" 2>/dev/null

# Every module in the binary's build information must be a component of the SBOM.
go version -m "$out/sealpost" | awk '$1 == "dep" || $1 == "=>" { print $2 "@" $3 }' | sort -u >"$out/modules.txt"
python3 - "$out/sbom.cdx.json" "$out/modules.txt" <<'PY'
import json, sys
bom = json.load(open(sys.argv[1]))
have = set()
def walk(cs):
    for c in cs or []:
        have.add(c["name"] + "@" + c.get("version", ""))
        walk(c.get("components"))
walk(bom.get("components"))
want = [l.strip() for l in open(sys.argv[2]) if l.strip()]
missing = [m for m in want if m not in have]
if bom.get("bomFormat") != "CycloneDX" or not want or missing:
    sys.exit("sbom: %s does not list %d of the binary's %d modules: %s" % (sys.argv[1], len(missing), len(want), ", ".join(missing[:10])))
print("sbom: %s lists all %d modules of the binary" % (sys.argv[1], len(want)))
PY
