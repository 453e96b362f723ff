#!/usr/bin/env bash
# The TypeScript client's tests: installs its locked dependencies (npm ci), checks that
# schema.d.ts is what the generator makes from internal/api/openapi.json, and sends a
# message through the client to a `sealpost dev` started from the built binary.
# Usage: scripts/test-typescript.sh [SEALPOST_BINARY] (default: builds build/sealpost).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
  mkdir -p build
  CGO_ENABLED=0 go build -trimpath -o build/sealpost ./cmd/sealpost
  bin=build/sealpost
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
cd clients/typescript
npm ci --no-audit --no-fund --loglevel=error
SEALPOST_BIN="$bin" npm test --silent
