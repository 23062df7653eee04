#!/usr/bin/env bash
# Peak memory of one `swiper serve` (worker included) while 8 members upload
# a photo each at once and the jobs process them (DESIGN.md §6: a decode
# under ~150 MB, 8 uploads at once under 600 MB). SQLite in a fresh var
# directory, no Redis; the figure is the process's VmHWM from /proc.
#   bash bench/upload_memory.sh                # the issue's PNG: 8000×8000, 16-bit RGBA
#   SIDE=4000x3000 bash bench/upload_memory.sh # 16-bit RGBA of another size
#   BIN=/path/to/swiper bash bench/upload_memory.sh  # an older build, for comparison
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

UPLOADS=${UPLOADS:-8}
SIDE=${SIDE:-8000x8000}
PORT=${BENCH_PORT:-18190}
BASE="http://127.0.0.1:$PORT"
if [ -z "${BIN:-}" ]; then
  (cd "$root" && cargo build --release --bin swiper >/dev/null)
  BIN="${CARGO_TARGET_DIR:-$root/target}/release/swiper"
fi
export DEMO_DATA=false LOG_FORMAT=text RUST_LOG=warn

# A 16-bit RGBA PNG, transparent black but for a gradient in the first rows:
# 8 bytes a pixel once decoded, one or two megabytes as a file.
python3 - "$SIDE" "$work/photo.png" <<'EOF'
import struct, sys, zlib
w, h = map(int, sys.argv[1].split("x"))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
z, idat = zlib.compressobj(9), []
blank = b"\0" * (1 + w * 8)
for y in range(h):
    if y < 64:
        row = b"\0" + b"".join(struct.pack(">4H", x * 8, y * 1000, 0, 65535) for x in range(w))
    else:
        row = blank
    idat.append(z.compress(row))
idat.append(z.flush())
with open(sys.argv[2], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0)))
    f.write(chunk(b"IDAT", b"".join(idat)) + chunk(b"IEND", b""))
EOF

(cd "$work" && "$BIN" migrate >/dev/null && "$BIN" seed --users "$UPLOADS" --avatars 0 >/dev/null)
(cd "$work" && exec env BIND="127.0.0.1:$PORT" BASE_URL="$BASE" "$BIN" serve) >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "$BASE/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }
rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' "/proc/$pid/status"; }
idle=$(rss VmRSS)

# Logs in the seeded members, then sends their uploads all at once.
for i in $(seq 0 $((UPLOADS - 1))); do
  jar="$work/jar$i"
  token=$(curl -s -c "$jar" -b "$jar" "$BASE/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: $BASE" --data-urlencode "csrf_token=$token" \
    --data-urlencode "email=member$i@seed.swiper.test" --data-urlencode "password=swiper seed member" "$BASE/login"
  token=$(curl -s -c "$jar" -b "$jar" "$BASE/settings" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  [ -n "$token" ] || { echo "login of member$i failed" >&2; exit 1; }
  echo "$token" >"$work/token$i"
done
started=$(date +%s.%N)
uploads=()
for i in $(seq 0 $((UPLOADS - 1))); do
  curl -s -o /dev/null -w "%{http_code}\n" -c "$work/jar$i" -b "$work/jar$i" -H "Origin: $BASE" \
    -F "photo=@$work/photo.png;type=image/png" "$BASE/profile/photos?csrf_token=$(cat "$work/token$i")" >"$work/status$i" &
  uploads+=($!)
done
wait "${uploads[@]}"
db="$work/var/swiper.sqlite3"
for _ in $(seq 1 1200); do
  [ "$(sqlite3 "$db" "select count(*) from photos where status = 'processing'")" = 0 ] && break
  sleep 0.25
done
took=$(echo "$(date +%s.%N) - $started" | bc)

echo "== $UPLOADS uploads at once of a ${SIDE} 16-bit RGBA PNG ($(stat -c %s "$work/photo.png") bytes); $(nproc) cores"
echo "answers: $(sort "$work"/status* | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')"
echo "photos: $(sqlite3 "$db" "select group_concat(n || ' ' || status, ', ') from (select status, count(*) n from photos group by status)")"
printf 'idle RSS %s MiB; peak RSS (VmHWM) %s MiB; all answered and processed in %.1f s\n' "$idle" "$(rss VmHWM)" "$took"
