#!/usr/bin/env bash
# Installs the pinned Go tools the test command uses into ./bin (gitignored), idempotently:
# a tool is rebuilt only when it is missing or not at its pinned version.
# Change a version here and nowhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=(
  "honnef.co/go/tools/cmd/staticcheck honnef.co/go/tools v0.8.2"
  "github.com/securego/gosec/v2/cmd/gosec github.com/securego/gosec/v2 v2.30.0"
  "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod github.com/CycloneDX/cyclonedx-gomod v1.10.0"
)

mkdir -p bin
for t in "${tools[@]}"; do
  read -r pkg mod ver <<<"$t"
  exe="bin/${pkg##*/}"
  if [ -x "$exe" ] && go version -m "$exe" 2>/dev/null |
    awk -v m="$mod" -v v="$ver" '$1 == "mod" && $2 == m && $3 == v { found = 1 } END { exit !found }'; then
    continue
  fi
  printf 'tools: installing %s@%s\n' "$pkg" "$ver" >&2
  GOBIN="$PWD/bin" go install "$pkg@$ver"
done
