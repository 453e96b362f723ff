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
# The multi-process tests (kill -9, restarts, two servers, a database outage) spend most
# of their time waiting on processes and timers, and all live in internal/server, the
# longest package: they run beside the rest, so the second core is not idle while they
# wait. Extra arguments go to both runs.
slow='^(TestWebhooksSurviveKill9|TestKill9LosesNothing|TestCrashSoak|TestTwoServersShareOnePostgres|TestDatabaseOutageAnswers503AndRecovers|TestJourneyStepsSurviveKill9|TestCampaignKill9|TestCampaignTenThousand|TestAcceptedBeforeCrashIsNotSentAgain|TestSIGTERMDrainsAndLosesNothing)$'
slowlog=$(mktemp)
go test -count=1 -timeout 20m "$@" -run "$slow" ./internal/server/ >"$slowlog" 2>&1 &
slowpid=$!
status=0
go test -count=1 -timeout 20m "$@" -skip "$slow" ./... || status=$?
slowstatus=0
wait "$slowpid" || slowstatus=$?
sed 's/^/[multi-process] /' "$slowlog"
rm -f "$slowlog"
[ "$status" = 0 ] && [ "$slowstatus" = 0 ] || exit 1
scripts/test-typescript.sh build/sealpost
scripts/test-packaging.sh build/sealpost
