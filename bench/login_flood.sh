#!/usr/bin/env bash
# GET /discover as logged-in members (64 connections) while an attacker floods
# POST /login from one address with wrong passwords for random emails (64
# more connections, valid CSRF token, so each request is a real login
# attempt, each claiming another address in X-Forwarded-For). Behind nginx
# the header is overwritten and the flood meets limit_req (429) before the
# app; straight to an instance that trusts the generator as a proxy, it is a
# flood from thousands of addresses and every request is a full password
# check (DESIGN.md §6: the discovery page's p99 rises less than 2×).
#   bash bench/login_flood.sh                          # one instance, direct
#   INSTANCES=2 FRONT=nginx bash bench/login_flood.sh  # two behind the shipped nginx
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
FLOOD=${FLOOD:-64}
start_server
login_members "${LOGGED_IN:-64}"
# The attacker: a visitor's cookie and CSRF token from the login form.
jar="$work/attacker"
token=$(curl -s -c "$jar" -b "$jar" "$BASE/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
cookie=$(cookie_header "$jar")
printf '%s\t%s\n' "$cookie" "$token" > "$work/attacker.tsv"
echo "== GET /discover, $CONNECTIONS connections, $DURATION, under a login flood of $FLOOD connections; $(describe)"
wrk -t1 -c"$FLOOD" -d"$DURATION" -s "$root/bench/login_flood.lua" "$BASE" -- "$work/attacker.tsv" "$BASE" > "$work/flood.txt" &
flood=$!
pids+=("$flood")
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/bench/discovery.lua" "$BASE" -- "$work/sessions"
wait "$flood"
echo "-- the flood (POST /login):"
cat "$work/flood.txt"
