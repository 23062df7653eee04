#!/usr/bin/env bash
# Greps a whole run's log: `swiper serve` with LOG_FORMAT=json on SQLite,
# driven through sign-up, verification, a failed and a good login, a
# profile with a position and a password reset request. Every line must be
# JSON, every line logged inside a request must carry its request id, and no
# email, password, token or position may appear. Usage: tests/logs.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
email="log-canary-7731@example.com"
password="Velvet-Harbor-Quartz-5512!"
(cd "$dir" && exec env -i PATH="$PATH" BIND="127.0.0.1:$port" BASE_URL="$base" \
  LOG_FORMAT=json DEMO_DATA=false PASSWORD_ITERATIONS=1000 RUST_LOG=debug,diesel=info \
  "$bin" serve) >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
jar="$dir/cookies"
token() { curl -fsS -c "$jar" -b "$jar" "$base$1" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1; }
post() { local path=$1; shift; curl -sS -o /dev/null -c "$jar" -b "$jar" -H "Origin: $base" "$base$path" --data-urlencode "csrf_token=$(token /password-reset)" "$@"; }
post /signup --data-urlencode "email=$email" --data-urlencode "password=$password" \
  --data-urlencode nickname=Canary --data-urlencode sex=female --data-urlencode birthday=1990-05-17
for _ in $(seq 100); do ls "$dir"/var/mail/*.eml >/dev/null 2>&1 && break; sleep 0.1; done
mail=$(cat "$dir"/var/mail/*.eml | tr -d '\r' | sed -e ':a' -e '/=$/N; s/=\n//; ta' | sed 's/=3D/=/g')
link_token=$(printf '%s' "$mail" | grep -o 'token=[A-Za-z0-9_-]*' | head -n 1 | cut -d= -f2)
[ -n "$link_token" ] || { echo "no verification link in the mail" >&2; exit 1; }
curl -fsS -o /dev/null -c "$jar" -b "$jar" "$base/verify-email?token=$link_token"
post /login --data-urlencode "email=$email" --data-urlencode "password=wrong-$password"
post /login --data-urlencode "email=$email" --data-urlencode "password=$password"
post /profile --data-urlencode nickname=Canary --data-urlencode city=Paris \
  --data-urlencode latitude=48.856613 --data-urlencode longitude=2.352222 \
  --data-urlencode want_sex=any --data-urlencode min_age=18 --data-urlencode max_age=99 \
  --data-urlencode max_distance_km=50 --data-urlencode time_zone=Europe/Paris
post /logout
post /password-reset --data-urlencode "email=$email"
for _ in $(seq 100); do [ "$(ls "$dir"/var/mail/*.eml | wc -l)" -ge 2 ] && break; sleep 0.1; done
# An admin page refused by the guard before its route's parameters are read.
curl -sS -o /dev/null "$base/admin/users/1"
kill -TERM "$pid"; wait "$pid" || true
log="$dir/log"
if grep -q "mixed cardinality" "$log"; then
  echo "actix-web-prom's cardinality warning is in the log" >&2; exit 1
fi
lines=$(wc -l < "$log")
[ "$lines" -gt 10 ] || { cat "$log"; echo "too few log lines" >&2; exit 1; }
python3 - "$log" <<'PY'
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        entry = json.loads(line)
    except ValueError:
        print(f"line {n} is not JSON: {line[:120]}", file=sys.stderr); bad += 1; continue
    span = entry.get("span") or {}
    if span.get("name") == "request" and not span.get("request_id"):
        print(f"line {n} is in a request without its id: {line[:160]}", file=sys.stderr); bad += 1
sys.exit(1 if bad else 0)
PY
requests=$(grep -c '"request_id"' "$log" || true)
[ "$requests" -gt 5 ] || { echo "request ids missing from the log" >&2; exit 1; }
for secret in "log-canary-7731" "$password" "$link_token" "48.856613" "2.352222"; do
  if grep -qF -- "$secret" "$log"; then
    grep -nF -- "$secret" "$log" | head -n 3 >&2
    echo "the log contains something it must not: ${secret:0:6}…" >&2
    exit 1
  fi
done
echo "$lines JSON lines, $requests with a request id; no email, password, token or position"
