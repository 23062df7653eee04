#!/usr/bin/env bash
# The browser journeys (tests/browser/journeys.mjs) in Debian's headless
# Chromium: the site on PostgreSQL + Redis with its worker, an SMTP sink
# (aiosmtpd), seeded members and a staff account from create-admin.
# The journeys run twice, in English and then in a Chinese browser
# (LANG_UNDER_TEST=zh-CN: every page must be in Chinese).
# Screenshots of every step go to target/browser-journeys/ and
# target/browser-journeys-zh-CN/ (CI artifacts).
# Usage: tests/browser.sh BINARY   (run by .ci/run, which installs chromium,
# node and npm; `npm ci` here installs playwright-core, which downloads no browser)
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${dbs[@]}"; do
    psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "browser: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { local limit=$1; shift; local end=$((SECONDS + limit)); until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done; }

(cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

smtp_port=$(free_port)
mkdir -p "$work/mail/tmp" "$work/mail/new" "$work/mail/cur"
python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$work/mail" &
pids+=($!)
wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $smtp_port))" || fail "no SMTP sink"

shots="$root/target/browser-journeys"
rm -rf "$shots" "$shots-zh-CN"

# One run of the journeys in a language: its own database, Redis prefix and
# VAR_DIR (the same members, numbers and staff account sign up again), the
# site started for it and stopped after.
journeys() {
  local lang=$1 db="swiper_browser_$$_${1//-/_}"
  db=${db,,} # unquoted in psql: lower case
  dbs+=("$db")
  psql -h 127.0.0.1 -U postgres -d postgres -qc "create database $db"
  local database="postgres://postgres@127.0.0.1:5432/$db" port base var="$work/var-$lang"
  port=$(free_port)
  base="http://127.0.0.1:$port"
  local app=(PATH="$PATH" DATABASE_URL="$database" REDIS_URL=redis://127.0.0.1:6379 REDIS_PREFIX="browser$$-$lang"
    SMTP_URL="smtp://127.0.0.1:$smtp_port" MAIL_FROM="Swiper <no-reply@swiper.test>"
    BASE_URL="$base" BIND="127.0.0.1:$port" DEMO_DATA=false PASSWORD_ITERATIONS=1000
    VAR_DIR="$var" LOG_FORMAT=text)
  env -i "${app[@]}" "$bin" migrate >/dev/null
  # Seeded members around Paris and elsewhere, a few with generated photos.
  env -i "${app[@]}" "$bin" seed --users 400 --avatars 12 >/dev/null
  local mod_email="moderator@swiper.test" mod_password
  mod_password=$(env -i "${app[@]}" "$bin" create-admin --email "$mod_email" | sed -n 's/^password (shown once.*): \(.*\)$/\1/p' | head -n 1)
  [ -n "$mod_password" ] || fail "create-admin printed no password"
  env -i "${app[@]}" "$bin" serve >"$work/serve-$lang.log" 2>&1 &
  local server=$!
  pids+=($server)
  wait_for 60 curl -fsS "$base/healthz" || { cat "$work/serve-$lang.log" >&2; fail "the site did not start"; }
  echo "browser: the journeys in $lang"
  if ! (cd "$root/tests/browser" && BASE="$base" MAILDIR="$work/mail" SHOTS="$shots" DATABASE="$database" \
    MOD_EMAIL="$mod_email" MOD_PASSWORD="$mod_password" VARDIR="$var" LANG_UNDER_TEST="$lang" node journeys.mjs); then
    echo "--- the site's log" >&2; tail -n 60 "$work/serve-$lang.log" >&2
    fail "a journey in $lang failed (screenshots so far in $shots$([ "$lang" = en ] || echo "-$lang"))"
  fi
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
# English, then every page again in Chinese (a zh-CN browser);
# BROWSER_LANGS="zh-CN" runs one.
for lang in ${BROWSER_LANGS:-en zh-CN}; do journeys "$lang"; done
