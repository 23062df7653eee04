#!/usr/bin/env bash
# POST /swipes (dislike, each request a new pair) against seeded members on
# PostgreSQL + Redis, 64 connections (DESIGN.md §6: ≥ 5,000/s, no duplicate rows).
#   bash bench/swipe.sh                          # one instance, direct
#   INSTANCES=2 FRONT=nginx bash bench/swipe.sh  # two behind the shipped nginx
#   CASE=many|hot|cold                           # 64 members; one member on every
#                                                # connection; 64 with the feed cache off
# A swipe is accepted only on someone the feed rules allow or who liked the
# member, so every pair sent is one the app accepts: before the run, PER_MEMBER
# (default 2,000) seeded members in the feed like each logged-in member, and
# the members swipe those (the "who liked me" path: the feed re-check runs
# first, then the like is found).
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
CASE=${CASE:-many}
case $CASE in
  many) members=${LOGGED_IN:-64}; PER_MEMBER=${PER_MEMBER:-2000} ;;
  hot) members=1; PER_MEMBER=${PER_MEMBER:-60000} ;;
  cold) members=${LOGGED_IN:-64}; PER_MEMBER=${PER_MEMBER:-2000}; export FEED_CACHE_SECONDS=0 ;;
  *) echo "CASE is many, hot or cold" >&2; exit 1 ;;
esac
# Every swipe is a POST from loopback: the per-address limit on POSTs
# (300 a minute) would refuse all but the first few hundred.
lift_limit rate_posts_per_ip
start_server
login_members "$members"
# The run's rows (the likes below, then the dislikes) are removed at the end.
last=$(psql "$DATABASE_URL" -Atc "select coalesce(max(id), 0) from swipes")
at_exit+=("psql \"\$DATABASE_URL\" -qc 'delete from swipes where id > $last'")
ids=$(cut -f3 "$work/sessions" | paste -sd,)
psql "$DATABASE_URL" -qc "insert into swipes (swiper_id, target_id, kind, created_at)
  select t.id, m.id, 'like', now() - interval '1 day'
  from unnest(array[$ids]::bigint[]) with ordinality as m(id, n)
  cross join lateral (
    select p.user_id as id from profiles p
    where p.in_feed and p.user_id <> m.id
      and not exists (select 1 from swipes s where s.swiper_id = p.user_id and s.target_id = m.id)
      and not exists (select 1 from swipes s where s.swiper_id = m.id and s.target_id = p.user_id)
      and not exists (select 1 from blocks b where (b.blocker_id, b.blocked_id) in ((m.id, p.user_id), (p.user_id, m.id)))
    order by p.user_id offset m.n * 997 % 50000 limit $PER_MEMBER) t"
# "<line of the member in sessions><TAB><target>" for the Lua script.
psql "$DATABASE_URL" -Atc "select m.n, s.swiper_id from unnest(array[$ids]::bigint[]) with ordinality as m(id, n)
  join swipes s on s.target_id = m.id and s.id > $last order by m.n, s.id" -F $'\t' > "$work/targets"
before=$(psql "$DATABASE_URL" -Atc "select count(*) from swipes")
echo "== POST /swipes ($CASE: $members member(s)), $CONNECTIONS connections, $DURATION; $(describe); $(wc -l < "$work/targets") allowed pairs"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/bench/swipe.lua" "$BASE" -- "$work/sessions" "$work/targets" 2
after=$(psql "$DATABASE_URL" -Atc "select count(*) from swipes")
dups=$(psql "$DATABASE_URL" -Atc "select count(*) - count(distinct (swiper_id, target_id)) from swipes")
echo "swipe rows added: $((after - before)); duplicate pairs in the table: $dups"
