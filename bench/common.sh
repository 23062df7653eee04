# Shared by the benchmark scripts: a PostgreSQL database with seeded members,
# release `swiper serve` instances on PostgreSQL + Redis, optionally the
# shipped nginx config in front of them, and logged-in members.
# Loopback only; everything started here is stopped on exit.
#
#   INSTANCES=1|2      app instances (default 1)
#   FRONT=direct|nginx clients talk to the instance itself (INSTANCES=1
#                      only) or to nginx/swiper.conf in front (default direct)
#   MEMBERS=100000     seeded members (database BENCH_DB, default swiper_bench)
#   BIN=path           a swiper binary to run instead of this tree's release build
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
chmod 755 "$work"
pids=()
lifted=()
at_exit=()
cleanup() {
  for c in "${at_exit[@]}"; do eval "$c" || true; done
  for k in "${lifted[@]}"; do psql "$DATABASE_URL" -qc "$k" || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && nginx -c "$work/nginx/nginx.conf" -p "$work/nginx/" -s stop 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

MEMBERS=${MEMBERS:-100000}
INSTANCES=${INSTANCES:-1}
FRONT=${FRONT:-direct}
DB=${BENCH_DB:-swiper_bench}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
REDIS=${BENCH_REDIS:-redis://127.0.0.1:6379/3}
PORT=${BENCH_PORT:-18180}
# The first instance, for logins (nginx limits POST /login per address, as
# it should) and for what the scripts read directly.
DIRECT="http://127.0.0.1:$((PORT + 1))"
if [ "$FRONT" = nginx ]; then BASE="http://127.0.0.1:$PORT"; else BASE=$DIRECT; fi
if [ "$FRONT" = direct ] && [ "$INSTANCES" != 1 ]; then
  echo "FRONT=direct is for one instance; use FRONT=nginx for $INSTANCES" >&2; exit 1
fi
export DATABASE_URL="$PG/$DB" REDIS_URL="$REDIS" DEMO_DATA=false
# BIN=path runs another build (an earlier commit's, for a comparison).
bin=${BIN:-"$root/target/release/swiper"}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -n "${BIN:-}" ] || (cd "$root" && cargo build --release --bin swiper >/dev/null)
if ! psql "$PG/postgres" -Atc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
  psql "$PG/postgres" -qc "create database $DB"
fi
# No ANALYZE of our own: the seed ends with one (VACUUM ANALYZE), and a
# run right after it must be as fast as one an hour later.
(cd "$work" && "$bin" migrate >/dev/null && "$bin" seed --users "$MEMBERS" --avatars 0)

# Turns a runtime rate limit off for this run and puts back what was there
# on exit (a value staff set, or none): all the load comes from one address,
# where a real site's members have their own.
lift_limit() {
  local old
  old=$(psql "$DATABASE_URL" -Atc "select value from runtime_settings where key = '$1'")
  if [ -n "$old" ]; then
    lifted+=("update runtime_settings set value = '$old', updated_at = now() where key = '$1'")
  else
    lifted+=("delete from runtime_settings where key = '$1'")
  fi
  psql "$DATABASE_URL" -qc "insert into runtime_settings (key, value, updated_at) values ('$1', '0', now())
    on conflict (key) do update set value = '0', updated_at = now()"
}

describe() { echo "$INSTANCES instance(s), front: $FRONT, $MEMBERS members, $(nproc) cores"; }

wait_up() {
  for _ in $(seq 1 300); do curl -fs "$1/healthz" >/dev/null && return 0; sleep 0.1; done
  cat "$work"/server*.log >&2; echo "$1 did not start" >&2; exit 1
}

# Starts the instances (all from $work, so they share its var/secret_key),
# then nginx when FRONT=nginx.
start_server() {
  local i
  for i in $(seq 1 "$INSTANCES"); do
    (cd "$work" && exec env BIND="127.0.0.1:$((PORT + i))" BASE_URL="$BASE" TRUSTED_PROXIES=127.0.0.1 \
      RUN_WORKER=false LOG_FORMAT=text RUST_LOG=warn "$bin" serve) >"$work/server$i.log" 2>&1 &
    pids+=($!)
    wait_up "http://127.0.0.1:$((PORT + i))"
  done
  [ "$FRONT" = nginx ] || return 0
  local ngx="$work/nginx" upstreams=""
  mkdir -p "$ngx/srv/nginx" "$ngx/srv/var/media" "$ngx/logs"
  cp -r "$root/static" "$ngx/srv/static"
  for i in $(seq 1 "$INSTANCES"); do
    upstreams+="    server 127.0.0.1:$((PORT + i)) max_fails=3 fail_timeout=10s;\n"
  done
  # The shipped config with only its paths, upstreams and port changed.
  sed -e "s#/srv/swiper#$ngx/srv#g" -e '/server 127.0.0.1:8082/d' \
    -e "s#^    server 127.0.0.1:8081.*#$upstreams#" -e "s#listen 80;#listen 127.0.0.1:$PORT;#" \
    "$root/nginx/swiper.conf" > "$ngx/srv/nginx/swiper.conf"
  cp "$root/nginx/proxy_params.conf" "$ngx/srv/nginx/"
  printf 'worker_processes auto;\npid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents { worker_connections 4096; }\nhttp { include /etc/nginx/mime.types; access_log off; include %s/srv/nginx/swiper.conf; }\n' \
    "$ngx" "$ngx" "$ngx" > "$ngx/nginx.conf"
  nginx -c "$ngx/nginx.conf" -p "$ngx/"
  wait_up "$BASE"
}

# A curl cookie jar as one Cookie header (the session and the CSRF cookie).
cookie_header() { awk -F'\t' 'NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$1"; }

# Logs in seeded members 0..n-1 on the first instance (sessions are in Redis,
# so every instance knows them), each from its own claimed address (the
# instance trusts loopback's X-Forwarded-For, and allows 30 logins an address
# in five minutes, as a real site would for one client); writes "Cookie header<TAB>csrf<TAB>user id"
# lines to $work/sessions.
login_members() {
  local n=$1 i jar token ip
  : >"$work/sessions"
  for i in $(seq 0 $((n - 1))); do
    jar="$work/jar$i" ip="10.9.$((i / 250)).$((i % 250 + 1))"
    token=$(curl -s -c "$jar" -b "$jar" -H "X-Forwarded-For: $ip" "$DIRECT/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
    curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: $BASE" -H "X-Forwarded-For: $ip" --data-urlencode "csrf_token=$token" \
      --data-urlencode "email=member$i@seed.swiper.test" --data-urlencode "password=swiper seed member" "$DIRECT/login"
    token=$(curl -s -c "$jar" -b "$jar" "$DIRECT/settings" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
    grep -q swiper_session "$jar" || { echo "login of member$i failed" >&2; exit 1; }
    cookie=$(cookie_header "$jar")
    id=$(psql "$DATABASE_URL" -Atc "select id from users where email = 'member$i@seed.swiper.test'")
    printf '%s\t%s\t%s\n' "$cookie" "$token" "$id" >>"$work/sessions"
  done
}
