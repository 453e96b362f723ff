#!/usr/bin/env bash
# Installs and starts what the test suite needs, idempotently: Debian packages for the
# independent checkers (gnupg, openssl, python3-dkim, swaks, postfix), Chromium for the portal's
# browser tests, Node.js and npm for the TypeScript client, curl, systemd-analyze and
# python3-yaml for the packaging checks, a PostgreSQL server,
# and the pinned Go linters and SBOM tool (scripts/tools.sh).
# Prints the PostgreSQL URL the tests should use as its last line.
set -euo pipefail

log() { printf 'deps: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

need=()
command -v gpg >/dev/null || need+=(gnupg)
command -v openssl >/dev/null || need+=(openssl)
command -v swaks >/dev/null || need+=(swaks)
# swaks speaks TLS (STARTTLS on 587, implicit on 465) only with these Perl modules, which
# it merely recommends.
perl -MNet::SSLeay -MIO::Socket::SSL -e1 2>/dev/null || need+=(libnet-ssleay-perl libio-socket-ssl-perl)
# Debian's Postfix as an organisation's relay in front of the SMTP gateway (its own
# private instance per test; the system instance is left alone).
[ -x /usr/sbin/postfix ] || need+=(postfix)
command -v curl >/dev/null || need+=(curl)
command -v systemd-analyze >/dev/null || need+=(systemd)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
/usr/bin/python3 -c 'import dkim' 2>/dev/null || need+=(python3-dkim)
command -v pg_ctlcluster >/dev/null || command -v pg_ctl >/dev/null || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# dkimpy's ARC signer (the ARC tests' independent implementation) needs authres.
/usr/bin/python3 -c 'import authres' 2>/dev/null || need+=(python3-authres)

if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2
  as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# PostgreSQL: start the local cluster if it is down.
url="${SEALPOST_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  log "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$ver" ] || { log "no PostgreSQL cluster found under /etc/postgresql"; exit 1; }
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not start on 127.0.0.1:5432"; exit 1; }
fi

# A fresh Debian cluster asks for passwords over TCP: make a test role that has one.
if ! psql "$url" -qtAc 'select 1' >/dev/null 2>&1; then
  log "creating test role and database"
  as_root runuser -u postgres -- psql -qc "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='sealpost') THEN CREATE ROLE sealpost LOGIN SUPERUSER PASSWORD 'sealpost'; END IF; END\$\$;" >&2
  as_root runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='sealpost_test'" | grep -q 1 ||
    as_root runuser -u postgres -- createdb -O sealpost sealpost_test >&2
  url="postgres://sealpost:sealpost@127.0.0.1:5432/sealpost_test?sslmode=disable"
  psql "$url" -qtAc 'select 1' >/dev/null || { log "cannot connect to PostgreSQL as $url"; exit 1; }
fi

# The independent webhook verifier (standardwebhooks), pinned by its lock file.
verifier=internal/webhook/testdata/verifier
if [ ! -d "$verifier/node_modules/standardwebhooks" ]; then
  log "installing the webhook verifier's packages"
  (cd "$verifier" && npm ci --no-audit --no-fund --silent >&2)
fi

# The access tests' independent checkers (jose, http-message-signatures), pinned by
# their lock file.
checker=internal/server/testdata/access
if [ ! -d "$checker/node_modules/http-message-signatures" ] || [ ! -d "$checker/node_modules/jose" ]; then
  log "installing the access checker's packages"
  (cd "$checker" && npm ci --no-audit --no-fund --silent >&2)
fi
# axe-core for the browser tests' accessibility checks (dashboard, forms), pinned by its lock file.
axe=internal/browsertest/testdata/axe
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ]; then
  log "installing axe-core for the accessibility checks"
  (cd "$axe" && npm ci --no-audit --no-fund --silent >&2)
fi

for tool in gpg openssl swaks; do command -v $tool >/dev/null || { log "$tool missing after install"; exit 1; }; done
/usr/bin/python3 -c 'import dkim' || { log "python3-dkim missing after install"; exit 1; }
[ -x /usr/bin/chromium ] || { log "chromium missing after install"; exit 1; }
for tool in node npm curl; do command -v $tool >/dev/null || { log "$tool missing after install"; exit 1; }; done
/usr/bin/python3 -c 'import authres' || { log "python3-authres missing after install"; exit 1; }
"$(dirname "$0")/tools.sh"
echo "$url"
