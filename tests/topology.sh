#!/usr/bin/env bash
# The production topology on loopback, with the real programs: the shipped
# nginx config (paths and upstreams moved), two `swiper serve` instances and
# one `swiper worker` on PostgreSQL + Redis, reaching the primary through
# PgBouncer in transaction mode (DATABASE_PREPARED_STATEMENTS=false), a
# streaming read replica of the local PostgreSQL (pg_basebackup -R into a
# second cluster), and an SMTP sink (aiosmtpd). Each point of the topology issue is an assertion below.
# Usage: tests/topology.sh BINARY   (run by .ci/run; needs root for the
# replica cluster's postgres user and nginx)
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
chmod 755 "$work"
pids=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && nginx -c "$work/nginx/nginx.conf" -p "$work/nginx/" -s stop 2>/dev/null || true
  [ -f "$work/pgbouncer/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer/pgbouncer.pid")" 2>/dev/null || true
  [ -d "$work/replica" ] && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/replica" stop -m immediate >/dev/null 2>&1 || true
  psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db" 2>/dev/null || true
  if [ -n "${added_hba:-}" ]; then
    sed -i '/^host replication all 127.0.0.1\/32 trust$/d' "$hba"
    psql -h 127.0.0.1 -U postgres -Atc 'select pg_reload_conf()' >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "topology: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { local limit=$1; shift; local end=$((SECONDS + limit)); until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done; }

db="swiper_topology_$$"
psql -h 127.0.0.1 -U postgres -d postgres -qc "create database $db"
primary="postgres://postgres@127.0.0.1:5432/$db"

# --- the replica ---------------------------------------------------------------
hba=$(psql -h 127.0.0.1 -U postgres -Atc 'show hba_file')
if ! grep -Eq '^host[[:space:]]+replication' "$hba"; then
  echo "host replication all 127.0.0.1/32 trust" >> "$hba"
  added_hba=1
  psql -h 127.0.0.1 -U postgres -Atc 'select pg_reload_conf()' >/dev/null
fi
replica_port=$(free_port)
install -d -o postgres -m 700 "$work/replica"
install -d -o postgres "$work/pglog"
runuser -u postgres -- pg_basebackup -h 127.0.0.1 -U postgres -D "$work/replica" -R -X stream -c fast
cat > "$work/replica/postgresql.conf" <<EOF
port = $replica_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work/pglog'
hot_standby = on
EOF
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$work/replica/pg_hba.conf"
touch "$work/replica/pg_ident.conf"
chown -R postgres "$work/replica"
chmod 700 "$work/replica"
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/replica" -l "$work/pglog/replica.log" start >/dev/null \
  || { cat "$work/pglog/replica.log" >&2; fail "the replica did not start"; }
wait_for 30 psql -h 127.0.0.1 -p "$replica_port" -U postgres -d "$db" -Atc 'select 1' || fail "the replica did not start"
[ "$(psql -h 127.0.0.1 -p "$replica_port" -U postgres -Atc 'select pg_is_in_recovery()')" = t ] || fail "not a standby"
replica="postgres://postgres@127.0.0.1:$replica_port/$db"
ok "streaming replica on port $replica_port"

# --- PgBouncer in transaction mode in front of the primary ---------------------
# Each transaction may get another server connection: the instances send
# unnamed statements (DATABASE_PREPARED_STATEMENTS=false), see the README.
pgb_port=$(free_port)
install -d -o postgres "$work/pgbouncer"
cat > "$work/pgbouncer/pgbouncer.ini" <<EOF
[databases]
$db = host=127.0.0.1 port=5432 dbname=$db user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgb_port
unix_socket_dir =
auth_type = trust
auth_file = $work/pgbouncer/users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
logfile = $work/pgbouncer/pgbouncer.log
pidfile = $work/pgbouncer/pgbouncer.pid
EOF
echo '"postgres" ""' > "$work/pgbouncer/users.txt"
chown -R postgres "$work/pgbouncer"
runuser -u postgres -- pgbouncer -d "$work/pgbouncer/pgbouncer.ini" \
  || fail "PgBouncer did not start"
wait_for 20 psql -h 127.0.0.1 -p "$pgb_port" -U postgres -d "$db" -Atc 'select 1' || fail "PgBouncer does not answer"
primary="postgres://postgres@127.0.0.1:$pgb_port/$db"
ok "PgBouncer (transaction mode) on port $pgb_port"

# --- SMTP sink ---------------------------------------------------------------------
smtp_port=$(free_port)
mkdir -p "$work/mail/tmp" "$work/mail/new" "$work/mail/cur"
python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$work/mail" &
pids+=($!)
wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $smtp_port))" || fail "no SMTP sink"

# --- the application -------------------------------------------------------------
a_port=$(free_port); b_port=$(free_port); front_port=$(free_port)
base="http://127.0.0.1:$front_port"
"$bin" jwt-key > "$work/jwt.pem"
common=(PATH="$PATH" APP_ENV=production JWT_KEY_FILE="$work/jwt.pem" DATABASE_URL="$primary" DATABASE_PREPARED_STATEMENTS=false DATABASE_REPLICA_URL="$replica"
  REDIS_URL=redis://127.0.0.1:6379 REDIS_PREFIX="topology$$" SMTP_URL="smtp://127.0.0.1:$smtp_port"
  MAIL_FROM="Swiper <no-reply@swiper.test>" SECRET_KEY="$(head -c 48 /dev/urandom | base64 -w0)"
  BASE_URL="$base" TRUSTED_PROXIES=127.0.0.1 DEMO_DATA=false
  LOG_FORMAT=json VAR_DIR="$work/var")
env -i "${common[@]}" "$bin" migrate >/dev/null
# Seeded members (matched pairs among them) for the chat check.
env -i "${common[@]}" "$bin" seed --users 40 --avatars 0 >/dev/null
start() { env -i "${common[@]}" BIND="127.0.0.1:$1" RUN_WORKER=false "$bin" serve >"$work/serve-$1.log" 2>&1 & echo $!; }
a_pid=$(start "$a_port"); pids+=("$a_pid")
b_pid=$(start "$b_port"); pids+=("$b_pid")
env -i "${common[@]}" "$bin" worker >"$work/worker.log" 2>&1 &
pids+=($!)
wait_for 60 curl -fsS "http://127.0.0.1:$a_port/healthz" || fail "instance A did not start"
wait_for 60 curl -fsS "http://127.0.0.1:$b_port/healthz" || fail "instance B did not start"

# --- nginx: the shipped config, paths and upstreams moved --------------------------
ngx="$work/nginx"
mkdir -p "$ngx/srv/nginx" "$ngx/srv/var/media" "$ngx/logs"
cp -r "$root/static" "$ngx/srv/static"
sed -e "s#/srv/swiper#$ngx/srv#g" -e "s#127.0.0.1:8081#127.0.0.1:$a_port#" \
  -e "s#127.0.0.1:8082#127.0.0.1:$b_port#" -e "s#listen 80;#listen 127.0.0.1:$front_port;#" \
  "$root/nginx/swiper.conf" > "$ngx/srv/nginx/swiper.conf"
cp "$root/nginx/proxy_params.conf" "$ngx/srv/nginx/"
printf 'pid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents {}\nhttp { include /etc/nginx/mime.types; access_log off; include %s/srv/nginx/swiper.conf; }\n' \
  "$ngx" "$ngx" "$ngx" > "$ngx/nginx.conf"
nginx -c "$ngx/nginx.conf" -p "$ngx/"
wait_for 20 curl -fsS "$base/healthz" || fail "nginx does not answer"
ok "nginx on $front_port in front of $a_port and $b_port"

# --- a member through nginx: sign up, verify (mail from the sink), log in ---------
jar="$work/cookies"
token() { curl -fsS -c "$jar" -b "$jar" "$base/password-reset" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1; }
post() { local path=$1; shift; curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -H "Origin: $base" "$base$path" --data-urlencode "csrf_token=$(token)" "$@"; }
email="topology@example.com"; password="Orchard-Lantern-Violet-88"
code=$(post /signup --data-urlencode "email=$email" --data-urlencode "password=$password" \
  --data-urlencode nickname=Topo --data-urlencode sex=female --data-urlencode birthday=1990-05-17)
[ "$code" = 303 ] || fail "sign-up answered $code"
wait_for 30 sh -c "ls '$work/mail/new/'* " || fail "no mail reached the SMTP sink"
link=$(cat "$work"/mail/new/* | tr -d '\r' | sed -e ':a' -e '/=$/N; s/=\n//; ta' | sed 's/=3D/=/g' | grep -o '/verify-email?token=[A-Za-z0-9_-]*' | head -n 1)
[ -n "$link" ] || fail "no verification link in the mail"
[ "$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" "$base$link")" = 200 ] || fail "verification failed"
[ "$(post /login --data-urlencode "email=$email" --data-urlencode "password=$password")" = 303 ] || fail "login failed"
ok "signed up, verified through the SMTP sink, logged in through nginx"

# --- 20 requests alternate instances and all stay logged in ----------------------
served() { curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^swiper_http_requests_total\{.*endpoint="\/settings".*status="200"/ { n += $NF } END { print n + 0 }'; }
a0=$(served "$a_port"); b0=$(served "$b_port")
for _ in $(seq 20); do
  page=$(curl -fsS -c "$jar" -b "$jar" "$base/settings")
  grep -q 'data-testid="nav-settings"' <<<"$page" || fail "a request was not logged in"
done
a1=$(served "$a_port"); b1=$(served "$b_port")
[ $((a1 - a0)) -gt 0 ] && [ $((b1 - b0)) -gt 0 ] || fail "requests did not reach both instances ($((a1 - a0)) and $((b1 - b0)))"
[ $((a1 - a0 + b1 - b0)) -eq 20 ] || fail "lost requests"
ok "20 logged-in requests: $((a1 - a0)) on A, $((b1 - b0)) on B"
# The discovery feed is a read that may lag: it is served by the replica.
for _ in 1 2; do curl -fsS -o /dev/null -c "$jar" -b "$jar" "$base/discover"; done
on_replica=$(psql -h 127.0.0.1 -p "$replica_port" -U postgres -d postgres -Atc \
  "select count(*) from pg_stat_activity where datname = '$db' and backend_type = 'client backend'")
[ "$on_replica" -gt 0 ] || fail "no reads reached the replica"
ok "feed reads reached the replica ($on_replica connections)"

# --- a static file from nginx with the immutable header ---------------------------
css=$(curl -fsS "$base/login" | grep -o '/static/app\.[0-9a-f]*\.css' | head -n 1)
headers=$(curl -fsS -D - -o /dev/null "$base$css")
grep -qi 'cache-control: public, max-age=31536000, immutable' <<<"$headers" || fail "no immutable header on $css"
ok "static $css is immutable"

# --- a forged X-Forwarded-For never reaches the app's rate-limit key -------------
# Password-reset requests are limited per client IP by the app (20 an hour).
last=""
for i in $(seq 21); do
  last=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -H "Origin: $base" \
    -H "X-Forwarded-For: 203.0.113.$i" -H "X-Real-IP: 198.51.100.$i" \
    "$base/password-reset" --data-urlencode "csrf_token=$(token)" --data-urlencode "email=x$i@example.com")
done
[ "$last" = 429 ] || fail "forged addresses escaped the app's limit (last answer $last)"
ok "forged X-Forwarded-For/X-Real-IP share one rate-limit bucket"

# --- a chat message crosses instances ----------------------------------------------
pair=$(psql -h 127.0.0.1 -U postgres -d "$db" -Atc "select m.id, ua.email, ub.email from matches m
  join users ua on ua.id = m.user_a join users ub on ub.id = m.user_b limit 1")
[ -n "$pair" ] || fail "no seeded match"
python3 - "$a_port" "$b_port" "$base" "$pair" <<'PY' || fail "the chat message did not cross instances"
import asyncio, http.cookiejar, json, re, sys, urllib.parse, urllib.request
import websockets
a_port, b_port, base, pair = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
match_id, email_a, email_b = pair.split("|")
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
def login(email):
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = op.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": email, "password": "swiper seed member", "csrf_token": token}).encode()
    try:
        op.open(urllib.request.Request(base + "/login", data=data, headers={"Origin": base}))
    except urllib.error.HTTPError as e:
        assert e.code == 303, e.code
    return op, "; ".join(f"{c.name}={c.value}" for c in jar)
op_a, cookie_a = login(email_a)
_, cookie_b = login(email_b)
async def main():
    # B listens on instance B; A sends with the form on instance A.
    uri = f"ws://127.0.0.1:{b_port}/ws/chat"
    async with websockets.connect(uri, additional_headers={"Cookie": cookie_b, "Origin": base}) as ws:
        a = f"http://127.0.0.1:{a_port}"
        page = op_a.open(base + "/password-reset").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"body": "across instances", "csrf_token": token}).encode()
        try:
            op_a.open(urllib.request.Request(f"{a}/matches/{match_id}/messages", data=data, headers={"Origin": base}))
        except urllib.error.HTTPError as e:
            assert e.code == 303, e.code
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame["type"] == "message" and frame["body"] == "across instances", frame
asyncio.run(main())
PY
ok "a message sent on A reached a socket on B"

# --- a login flood gets 429 from nginx --------------------------------------------
flood=$(for _ in $(seq 12); do curl -sS -o /dev/null -w '%{http_code}\n' -X POST "$base/login"; done | sort | uniq -c)
grep -q ' 429$' <<<"$flood" || fail "no 429 from nginx in a login flood: $flood"
ok "login flood: $(tr '\n' ' ' <<<"$flood")"

# --- killing an instance loses no idempotent request ------------------------------
kill -9 "$b_pid"
codes=$(for _ in $(seq 20); do curl -sS -o /dev/null -w '%{http_code}\n' -c "$jar" -b "$jar" "$base/settings"; done | sort | uniq -c)
grep -vq ' 200$' <<<"$codes" && fail "requests failed after B died: $codes"
ok "B killed: 20 of 20 requests answered 200"

# --- SIGTERM to an instance under load gives no 5xx ---------------------------------
b_pid=$(start "$b_port"); pids+=("$b_pid")
wait_for 60 curl -fsS "http://127.0.0.1:$b_port/healthz" || fail "B did not restart"
# nginx leaves a failed server out for fail_timeout: wait until it sends B
# requests again, so A's stop has somewhere to fail over to.
logins_on_b() { curl -fsS "http://127.0.0.1:$b_port/metrics" | awk '/^swiper_http_requests_total\{.*endpoint="\/login"/ { n += $NF } END { print n + 0 }'; }
b_is_back() { curl -fsS -o /dev/null "$base/login"; [ "$(logins_on_b)" -gt 0 ]; }
wait_for 30 b_is_back || fail "nginx did not take B back"
(for _ in $(seq 200); do curl -sS -o /dev/null -w '%{http_code}\n' "$base/login"; done) > "$work/load.txt" &
load=$!
wait_for 30 sh -c "[ \$(wc -l < '$work/load.txt') -ge 20 ]" || fail "no load"
kill -TERM "$a_pid"
wait "$load"
if grep -q '^5' "$work/load.txt"; then fail "5xx under SIGTERM: $(sort "$work/load.txt" | uniq -c | tr '\n' ' ')"; fi
ok "SIGTERM to A under load: $(sort "$work/load.txt" | uniq -c | tr '\n' ' ')"
# --- everything above went through PgBouncer, in transaction mode -----------------
pgb() { psql -h 127.0.0.1 -p "$pgb_port" -U postgres -d pgbouncer -Atc "$1"; }
mode=$(pgb 'show pools' | awk -F'|' -v db="$db" '$1 == db { print $NF }' | head -n 1)
[ "$mode" = transaction ] || fail "PgBouncer pool mode is '$mode'"
xacts=$(pgb 'show stats' | awk -F'|' -v db="$db" '$1 == db { print $2 }')
[ "${xacts:-0}" -gt 100 ] || fail "too few transactions went through PgBouncer: ${xacts:-0}"
if grep -qi 'prepared statement' "$work"/serve-*.log "$work/worker.log"; then
  fail "prepared-statement errors through PgBouncer: $(grep -hi 'prepared statement' "$work"/serve-*.log | head -n 3)"
fi
ok "$xacts transactions through PgBouncer in transaction mode, no prepared-statement error"
echo "topology: every check passed"
