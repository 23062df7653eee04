#!/usr/bin/env bash
# POST /swipes (dislike, each request a new pair) against seeded members on
# PostgreSQL + Redis, 64 connections (DESIGN.md §6: ≥ 5,000/s, no duplicate rows).
#   bash bench/swipe.sh                          # one instance, direct
#   INSTANCES=2 FRONT=nginx bash bench/swipe.sh  # two behind the shipped nginx
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
# Every swipe is a POST from loopback: the per-address limit on POSTs
# (300 a minute) would refuse all but the first few hundred.
lift_limit rate_posts_per_ip
start_server
login_members "${LOGGED_IN:-64}"
range=$(psql "$DATABASE_URL" -Atc "select min(id) || ' ' || max(id) from users where email like 'member%@seed.swiper.test'")
before=$(psql "$DATABASE_URL" -Atc "select count(*) from swipes")
# The run's swipes (dislikes: nothing else is written) are removed at the
# end, so the next run sends the same new pairs.
last=$(psql "$DATABASE_URL" -Atc "select coalesce(max(id), 0) from swipes")
at_exit+=("psql \"\$DATABASE_URL\" -qc 'delete from swipes where id > $last'")
echo "== POST /swipes, $CONNECTIONS connections, $DURATION; $(describe)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/bench/swipe.lua" "$BASE" -- "$work/sessions" $range 2
after=$(psql "$DATABASE_URL" -Atc "select count(*) from swipes")
dups=$(psql "$DATABASE_URL" -Atc "select count(*) - count(distinct (swiper_id, target_id)) from swipes")
echo "swipe rows added: $((after - before)); duplicate pairs in the table: $dups"
