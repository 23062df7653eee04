#!/usr/bin/env bash
# Logged-in GET /discover against MEMBERS (default 100,000) seeded members on
# PostgreSQL + Redis, 64 connections (DESIGN.md §6: ≥ 10,000 req/s, p99 ≤ 10 ms).
#   bash bench/discovery.sh                          # one instance, direct
#   INSTANCES=2 FRONT=nginx bash bench/discovery.sh  # two behind the shipped nginx
#   CASE=many|hot|cold                               # which members ask (below)
# (MEMBERS=… DURATION=… CONNECTIONS=… to change; PAUSE_MS=5 makes each
# connection wait 5 ms between an answer and its next request: a fixed
# offered load, about 10,000/s on 64 connections, instead of saturation)
# Cases: many: 64 members share the connections (each member's feed is built
# once, then paged from the cache); hot: one member on every connection; cold:
# 64 members with the feed cache off (FEED_CACHE_SECONDS=0), so every page
# builds the feed.
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
CASE=${CASE:-many}
case $CASE in
  many) members=${LOGGED_IN:-64} ;;
  hot) members=1 ;;
  cold) members=${LOGGED_IN:-64}; export FEED_CACHE_SECONDS=0 ;;
  *) echo "CASE is many, hot or cold" >&2; exit 1 ;;
esac
start_server
login_members "$members"
# Warm: each member's feed is built once before the clock starts (the cold
# case measures the builds); the pages themselves still expire and are
# rebuilt every second or two during the run.
if [ "$CASE" != cold ]; then
  while IFS=$'\t' read -r cookie _; do
    curl -s -o /dev/null -H "Cookie: $cookie" "$BASE/discover"
  done <"$work/sessions"
fi
echo "== GET /discover ($CASE: $members member(s)), $CONNECTIONS connections${PAUSE_MS:+, ${PAUSE_MS} ms pause}, $DURATION; $(describe)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/bench/discovery.lua" "$BASE" -- "$work/sessions"
