#!/usr/bin/env bash
# Installs what `sealpost bench --compare postfix` runs against, idempotently: Debian's
# postfix (with smtp-source) and opendkim, and an empty /etc/postfix/main.cf so that
# postconf works. Postfix is installed without a mail configuration and left stopped;
# the bench writes its own settings each run and stops it afterwards.
set -euo pipefail

log() { printf 'postfix-bench: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

need=()
command -v postfix >/dev/null || need+=(postfix)
command -v smtp-source >/dev/null || need+=(postfix)
command -v opendkim >/dev/null || need+=(opendkim)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  as_root apt-get update -qq >&2
  as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
[ -f /etc/postfix/main.cf ] || as_root touch /etc/postfix/main.cf
log "ready: postfix $(postconf -h mail_version), $(opendkim -V 2>&1 | head -1)"
