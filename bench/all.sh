#!/usr/bin/env bash
# Every load benchmark in three shapes: one instance reached directly, one
# behind the shipped nginx config, two behind it. Raw output goes to
# target/bench/<bench>-<shape>.txt; bench/RESULTS.md is written from it.
#   bash bench/all.sh            # MEMBERS=100000 by default
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/bench"
mkdir -p "$out"
for shape in "1 direct" "1 nginx" "2 nginx"; do
  read -r n front <<<"$shape"
  for b in discovery login_flood chat swipe; do
    echo "== $b, $n instance(s), $front"
    INSTANCES=$n FRONT=$front bash "$root/bench/$b.sh" 2>&1 | tee "$out/$b-$n-$front.txt"
  done
# The discovery page and swipes in their other cases (one instance, direct).
for case in hot cold; do
  for b in discovery swipe; do
    echo "== $b, $case"
    CASE=$case bash "$root/bench/$b.sh" 2>&1 | tee "$out/$b-$case.txt"
  done
done
done
