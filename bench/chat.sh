#!/usr/bin/env bash
# Chat delivery through the front: one or two instances (behind the shipped
# nginx config with FRONT=nginx) on PostgreSQL + Redis; 50 seeded matched
# pairs with a socket each, 1,000 messages/s for 10 s, send → delivery on the
# other member's socket (DESIGN.md §6: p99 < 50 ms). The sockets go through
# the front; logins go to the first instance (nginx limits login POSTs).
#   INSTANCES=2 FRONT=nginx bash bench/chat.sh
# (`cargo bench --bench chat_delivery` alone starts two instances itself,
# sockets straight to them, and adds the idle-socket memory figure.)
source "$(dirname "$0")/common.sh"
start_server
echo "== chat delivery, ${RATE:-1000} msg/s for ${SEND_SECONDS:-10} s; $(describe)"
(cd "$root" && BENCH_DATABASE_URL="$DATABASE_URL" BENCH_REDIS_URL="$REDIS" \
  BENCH_SOCKETS_URL="$BASE" BENCH_LOGIN_URL="$DIRECT" IDLE=0 SEND_SECONDS="${SEND_SECONDS:-10}" \
  cargo bench -q --bench chat_delivery)
