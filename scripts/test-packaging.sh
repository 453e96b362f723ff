#!/usr/bin/env bash
# Tests the packaging as far as this machine allows, and says what it skipped and why:
#   - the release binary is static (no ELF interpreter, CGO_ENABLED=0), and the image
#     builds it with the Go release go.mod names;
#   - the systemd unit passes `systemd-analyze verify`, keeps its hardening and scores
#     at most 2.0 on `systemd-analyze security` (lower is safer);
#   - the settings the image (Dockerfile ENV) and compose.yaml give Sealpost are accepted:
#     `sealpost serve` starts with exactly those variables, as an unprivileged user (when
#     run as root), and answers /readyz;
#   - with a running container engine: the image builds, runs as non-root and answers
#     /healthz and /readyz.
# Usage: scripts/test-packaging.sh [SEALPOST_BINARY] (default: builds build/sealpost).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'packaging: %s\n' "$*"; }
fail() { printf 'packaging: FAIL: %b\n' "$*" >&2; exit 1; }

bin=${1:-}
if [ -z "$bin" ]; then
  mkdir -p build
  CGO_ENABLED=0 go build -trimpath -o build/sealpost ./cmd/sealpost
  bin=build/sealpost
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- static binary -----------------------------------------------------------------
if readelf -l "$bin" | grep -q 'INTERP'; then fail "$bin is dynamically linked"; fi
go version -m "$bin" | grep -qE '^[[:space:]]+build[[:space:]]+CGO_ENABLED=0$' || fail "$bin was not built with CGO_ENABLED=0"
say "ok: $bin is a static binary built with CGO_ENABLED=0"

# --- the image builds with the Go release go.mod names -----------------------------------
gomod=$(awk '$1 == "go" { print $2; exit }' go.mod)
grep -qx "ARG GO_VERSION=$gomod" Dockerfile || fail "Dockerfile's GO_VERSION is not go.mod's go $gomod"
say "ok: Dockerfile builds with Go $gomod, as go.mod says"

# --- systemd unit ------------------------------------------------------------------
unit=deploy/systemd/sealpost.service
for d in DynamicUser=yes ProtectSystem=strict StateDirectory=sealpost NoNewPrivileges=yes PrivateTmp=yes \
  ProtectHome=yes CapabilityBoundingSet= RestrictAddressFamilies= SystemCallFilter=@system-service \
  ProtectKernelTunables=yes ProtectKernelModules=yes ProtectControlGroups=yes MemoryDenyWriteExecute=yes; do
  grep -q "^$d" "$unit" || fail "$unit lacks $d"
done
if ! command -v systemd-analyze >/dev/null; then
  say "SKIP: systemd-analyze verify/security: systemd-analyze is not installed (scripts/deps.sh installs the systemd package)"
else
  # verify checks that ExecStart exists: point it at the binary under test.
  sed "s|/usr/local/bin/sealpost|$bin|g" "$unit" >"$tmp/sealpost.service"
  out=$(systemd-analyze verify "$tmp/sealpost.service" 2>&1) || fail "systemd-analyze verify $unit:\n$out"
  [ -z "$out" ] || fail "systemd-analyze verify $unit warns:\n$out"
  score=$(systemd-analyze security --offline=true "$tmp/sealpost.service" 2>&1 | sed -n 's/.*Overall exposure level for sealpost.service: \([0-9.]*\).*/\1/p')
  [ -n "$score" ] || fail "systemd-analyze security gave no exposure level"
  awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "$unit exposure level $score is above 2.0"
  say "ok: $unit passes systemd-analyze verify; exposure level $score (at most 2.0)"
fi

# --- the image's and compose's settings, applied to the binary ------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db=sqlite:$tmp/data/sealpost.db # the variable names are what is tested, not the database
/usr/bin/python3 - "$db" "$tmp/data" "$port" >"$tmp/env" <<'PY'
import re, sys, yaml
db, data, port = sys.argv[1:]
env = {}
# Dockerfile: the ENV lines of the final stage.
text = open("Dockerfile").read().replace("\\\n", " ")
stage = text[text.rindex("\nFROM "):]
for line in stage.splitlines():
    if line.startswith("ENV "):
        for k, v in re.findall(r'(\w+)=(\S+)', line[4:]):
            env[k] = v
svc = yaml.safe_load(open("compose.yaml"))["services"]["sealpost"]
env.update(svc["environment"])
for k in env:
    if not k.startswith("SEALPOST_"):
        sys.exit(f"unexpected variable {k}")
# What differs on this machine: the database, the data directory, a free loopback port.
assert "SEALPOST_DATABASE_URL" in env and "SEALPOST_DATA_DIR" in env and "SEALPOST_API_LISTEN" in env, env
env["SEALPOST_DATABASE_URL"] = db
env["SEALPOST_DATA_DIR"] = data
env["SEALPOST_API_LISTEN"] = "127.0.0.1:" + port
for k, v in env.items():
    v = re.sub(r"\$\{(\w+):-([^}]*)\}", r"\2", str(v))
    if "${" in v:
        sys.exit(f"{k}: unresolved {v}")
    print(f"{k}={v}")
PY
mapfile -t vars <"$tmp/env"
as=() who="this user"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  # As in the image: an unprivileged user that owns only its data directory.
  chmod 0755 "$tmp"
  install -d -m 0700 -o 65532 -g 65532 "$tmp/data"
  as=(setpriv --reuid=65532 --regid=65532 --clear-groups --no-new-privs)
  who="user 65532"
fi
base=("${as[@]}" env -i PATH="$PATH" HOME="$tmp/data" "${vars[@]}")
"${base[@]}" "$bin" masterkey init >/dev/null 2>>"$tmp/serve.log" || fail "masterkey init with the image's settings:\n$(cat "$tmp/serve.log")"
"${base[@]}" "$bin" migrate >/dev/null 2>>"$tmp/serve.log" || fail "migrate with the image's settings:\n$(cat "$tmp/serve.log")"
"${base[@]}" "$bin" serve 2>"$tmp/serve.log" &
pids+=($!)
ready=
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || fail "serve with the image's and compose's settings did not become ready:\n$(cat "$tmp/serve.log")"
say "ok: serve as $who with the Dockerfile's and compose.yaml's settings (${#vars[@]} variables) answers /readyz"

# --- the image, where a container engine runs -----------------------------------------
if ! command -v docker >/dev/null; then
  say "SKIP: image build and container smoke test: no docker command"
  exit 0
fi
if ! why=$(docker info 2>&1 >/dev/null); then
  say "SKIP: image build and container smoke test: docker answers but no container engine runs here ($(printf '%s' "$why" | grep -m1 -i 'cannot\|error' || echo 'docker info failed'))"
  exit 0
fi
tag=sealpost:packaging-test
docker build -q -t "$tag" . >/dev/null || fail "docker build"
user=$(docker image inspect -f '{{.Config.User}}' "$tag")
case "$user" in ""|0|0:*|root|root:*) fail "the image runs as root ($user)";; esac
docker run --rm "$tag" version >/dev/null || fail "the image does not run sealpost"
key=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
cid=$(docker run -d -e SEALPOST_MASTER_KEY="$key" -p 127.0.0.1::8080 "$tag")
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; cleanup' EXIT
hostport=$(docker port "$cid" 8080/tcp | head -n 1)
ready=
for _ in $(seq 1 100); do
  if curl -fsS "http://$hostport/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
[ -n "$ready" ] || fail "the container did not become ready:\n$(docker logs "$cid" 2>&1 | tail -n 20)"
say "ok: image $tag builds, runs as $user and answers /readyz"
