#!/usr/bin/env bash
# The whole test suite, against SQLite and PostgreSQL, with the portal in Chromium, plus
# static analysis and the release binary's SBOM (in build/). Installs and starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

url=$(scripts/deps.sh | tail -n 1)
export SEALPOST_TEST_POSTGRES="$url"
export SEALPOST_REQUIRE_POSTGRES=1
export SEALPOST_REQUIRE_BROWSER=1

unformatted=$(gofmt -l $(git ls-files -c -o --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
go vet ./...
scripts/lint.sh
scripts/sbom.sh build
go test -count=1 -timeout 30m "$@" ./...
scripts/test-typescript.sh build/sealpost
scripts/test-packaging.sh build/sealpost
