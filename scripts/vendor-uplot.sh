#!/usr/bin/env bash
# Fetches uPlot (MIT) with npm and copies the files the dashboard embeds into
# internal/web/static/uplot. The files are committed: go build needs neither Node nor
# the network. Run it only to move to another 1.6.x release.
set -euo pipefail
version="${1:-1.6.32}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "uplot@${version}" >/dev/null && tar xzf "uplot-${version}.tgz")
dest="$root/internal/web/static/uplot"
mkdir -p "$dest"
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$tmp/package/LICENSE" "$dest/"
echo "uPlot ${version} copied to ${dest}"
