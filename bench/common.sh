# Shared by the benchmark scripts: a PostgreSQL database with seeded members,
# a release `swiper serve` on PostgreSQL + Redis, and logged-in members.
# Loopback only; everything started here is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

MEMBERS=${MEMBERS:-100000}
DB=${BENCH_DB:-swiper_bench}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
REDIS=${BENCH_REDIS:-redis://127.0.0.1:6379/3}
PORT=${BENCH_PORT:-18181}
BASE="http://127.0.0.1:$PORT"
export DATABASE_URL="$PG/$DB" REDIS_URL="$REDIS" DEMO_DATA=false
bin="$root/target/release/swiper"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
(cd "$root" && cargo build --release --bin swiper >/dev/null)
if ! psql "$PG/postgres" -Atc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
  psql "$PG/postgres" -qc "create database $DB"
fi
(cd "$work" && "$bin" migrate >/dev/null && "$bin" seed --users "$MEMBERS" --avatars 0)
psql "$DATABASE_URL" -qc "analyze" >/dev/null

start_server() {
  (cd "$work" && exec env BIND="127.0.0.1:$PORT" RUN_WORKER=false LOG_FORMAT=text RUST_LOG=warn "$bin" serve) >"$work/server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do curl -fs "$BASE/healthz" >/dev/null && return 0; sleep 0.1; done
  cat "$work/server.log" >&2; exit 1
}

# Logs in seeded members 0..n-1; writes "cookie<TAB>csrf<TAB>user id" lines to $work/sessions.
login_members() {
  local n=$1 i jar token
  : >"$work/sessions"
  for i in $(seq 0 $((n - 1))); do
    jar="$work/jar$i"
    token=$(curl -s -c "$jar" -b "$jar" "$BASE/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
    curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$token" \
      --data-urlencode "email=member$i@seed.swiper.test" --data-urlencode "password=swiper seed member" "$BASE/login"
    token=$(curl -s -c "$jar" -b "$jar" "$BASE/settings" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
    cookie=$(awk '$6 == "swiper_session" { print $7 }' "$jar")
    id=$(psql "$DATABASE_URL" -Atc "select id from users where email = 'member$i@seed.swiper.test'")
    printf '%s\t%s\t%s\n' "$cookie" "$token" "$id" >>"$work/sessions"
  done
}
