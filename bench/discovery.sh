#!/usr/bin/env bash
# Logged-in GET /discover against MEMBERS (default 100,000) seeded members on
# PostgreSQL + Redis, 64 connections (DESIGN.md §6: ≥ 10,000 req/s, p99 ≤ 10 ms).
#   bash bench/discovery.sh                          # one instance, direct
#   INSTANCES=2 FRONT=nginx bash bench/discovery.sh  # two behind the shipped nginx
# (MEMBERS=… DURATION=… CONNECTIONS=… to change)
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
start_server
login_members "${LOGGED_IN:-64}"
echo "== GET /discover, $CONNECTIONS connections, $DURATION; $(describe)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/bench/discovery.lua" "$BASE" -- "$work/sessions"
