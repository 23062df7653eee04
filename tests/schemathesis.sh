#!/usr/bin/env bash
# A real client checks /api/v1 against its own OpenAPI document:
# schemathesis (PyPI) runs every operation with property-based bodies and
# parameters (its coverage, fuzzing and stateful phases; a fixed seed and a
# bounded number of examples) and checks for server errors, status codes,
# content types, headers and response bodies against the document.
#
# The instance runs on PostgreSQL + Redis in development mode (demo data,
# so the feed, likes and matches have people in them; texts go to
# var/sms/). The per-IP and per-account limits are raised for the run, so
# the logic behind them is exercised rather than a wall of 429s (the limits
# themselves have their own tests). The bearer token is a member who signs
# up by text message through the API, reading the code from the sink, and
# completes the profile; what ends that token's session runs last.
# Usage: tests/schemathesis.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
pids=()
db="swiper_schemathesis_$$"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { local limit=$1; shift; local end=$((SECONDS + limit)); until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done; }


psql -h 127.0.0.1 -U postgres -d postgres -qc "create database $db"
port=$(free_port)
base="http://127.0.0.1:$port"
common=(PATH="$PATH" APP_ENV=development DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
  REDIS_URL="redis://127.0.0.1:6379" REDIS_PREFIX="schemathesis$$" BIND="127.0.0.1:$port"
  BASE_URL="$base" VAR_DIR="$work/var" PASSWORD_ITERATIONS=1000 LOG_FORMAT=text)
env -i "${common[@]}" "$bin" migrate >/dev/null
psql -h 127.0.0.1 -U postgres -d "$db" -qc "insert into runtime_settings (key, value, updated_at) values
  ('rate_login_per_ip', '1000000', now()), ('rate_login_per_email', '1000000', now()),
  ('rate_posts_per_ip', '1000000', now()), ('rate_messages_per_member', '1000000', now()),
  ('rate_reads_per_member', '1000000', now()), ('captcha_after_ip_failures', '1000', now()),
  ('captcha_after_failures', '100', now()), ('lock_after_failures', '1000', now())"
env -i "${common[@]}" "$bin" serve >"$work/serve.log" 2>&1 &
pids+=($!)
if ! wait_for 180 curl -fsS "$base/readyz"; then
  tail -n 40 "$work/serve.log"; echo "schemathesis: swiper did not serve" >&2; exit 1
fi
wait_for 180 grep -q "demo data created" "$work/serve.log" || { echo "no demo data" >&2; exit 1; }

# A member of a phone app: a code by text message, then tokens.
phone="+8613800138000"
curl -fsS -o /dev/null -X POST "$base/api/v1/auth/sms" -H 'content-type: application/json' \
  -d "{\"phone\":\"$phone\"}"
wait_for 30 sh -c "grep -l '^To: $phone' '$work/var/sms/'*.txt"
code=$(grep -h -A3 "^To: $phone" "$work/var/sms/"*.txt | grep -oE '\b[0-9]{6}\b' | head -n 1)
tokens=$(curl -fsS -X POST "$base/api/v1/auth/sms/verify" -H 'content-type: application/json' \
  -d "{\"phone\":\"$phone\",\"code\":\"$code\",\"device\":\"schemathesis\"}")
token=$(printf '%s' "$tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -fsS -o /dev/null -X PUT "$base/api/v1/me/profile" -H "Authorization: Bearer $token" \
  -H 'content-type: application/json' \
  -d '{"nickname":"Mei","sex":"female","birthday":"1995-03-08","city":"Paris","latitude":48.86,"longitude":2.35,"want_sex":"any","max_distance_km":500}'
echo "ok: a member signed up by text message through the API"

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
run() {
  schemathesis run "$base/api/v1/openapi.json" -H "Authorization: Bearer $token" \
    --checks "$checks" --seed 20261206 --max-examples 25 --workers 1 --no-shrink \
    --request-timeout 20 --report junit --report-dir "$work/report" "$@"
}
# Ending a session (logout, or DELETE of the session the list calls
# `current`, which the stateful phase finds) ends the token: those run last.
ends='/api/v1/(auth/logout|sessions/\{id\})$'
run --exclude-path-regex "$ends"
run --include-path-regex "$ends"
if grep -E '\b(panicked|ERROR)\b' "$work/serve.log" | grep -v 'rate limited' | head -n 20 | grep -q .; then
  grep -E '\b(panicked|ERROR)\b' "$work/serve.log" | head -n 20
  echo "schemathesis: the server logged errors" >&2
  exit 1
fi
echo "ok: schemathesis found nothing"
