#!/usr/bin/env bash
# Redis without a single point of failure: a primary, a replica and three
# Sentinels on loopback, plus a hung one listed first (Debian's redis-server and redis-sentinel), two `swiper serve` instances configured with
# REDIS_SENTINELS and REDIS_SENTINEL_MASTER only. Under load (logins, page
# views, readiness checks, chat messages from one instance to a socket on the
# other) the primary is killed with SIGKILL, and the driver measures:
#   - how long the Sentinels take to promote the replica;
#   - how long after the promotion a login (a session written and read back)
#     works on each instance, and a chat message crosses instances: at most
#     5 s each;
#   - that no request started more than 5 s after the promotion gets a 5xx;
#   - that /readyz tells the truth throughout: it says 503 while the primary
#     is gone, and whenever it says 200 a logged-in page right after it is
#     served logged in.
# Usage: tests/failover.sh BINARY   (run by .ci/run)
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${db:-}" ] && { psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "failover: $*" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done
  exit 1
}
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { local limit=$1; shift; local end=$((SECONDS + limit)); until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done; }

# --- Redis: a primary, a replica, three Sentinels --------------------------------
primary_port=$(free_port); replica_port=$(free_port)
redis_node() { exec redis-server --bind 127.0.0.1 --port "$1" --save "" --appendonly no --dir "$work" "${@:2}"; }
redis_node "$primary_port" >"$work/primary.log" 2>&1 &
primary_pid=$!; pids+=("$primary_pid")
redis_node "$replica_port" --replicaof 127.0.0.1 "$primary_port" >"$work/replica.log" 2>&1 &
pids+=($!)
wait_for 20 redis-cli -p "$primary_port" ping || fail "the primary did not start"
synced() { redis-cli -p "$replica_port" info replication | grep -q 'master_link_status:up'; }
wait_for 30 synced || fail "the replica did not sync"
sentinels=()
for i in 1 2 3; do
  port=$(free_port)
  mkdir -p "$work/sentinel$i"
  cat > "$work/sentinel$i/sentinel.conf" <<EOF
bind 127.0.0.1
port $port
dir $work/sentinel$i
sentinel monitor swiper 127.0.0.1 $primary_port 2
sentinel down-after-milliseconds swiper 1000
sentinel failover-timeout swiper 10000
sentinel parallel-syncs swiper 1
EOF
  redis-sentinel "$work/sentinel$i/sentinel.conf" >"$work/sentinel$i.log" 2>&1 &
  pids+=($!)
  sentinels+=("$port")
done
# Each Sentinel must know the replica and the two other Sentinels before a
# failover can be agreed.
knows_all() {
  local s
  for s in "${sentinels[@]}"; do
    [ "$(redis-cli -p "$s" sentinel replicas swiper | grep -c "^$replica_port\$")" -ge 1 ] || return 1
    [ "$(redis-cli -p "$s" sentinel sentinels swiper | grep -c '^runid$')" -eq 2 ] || return 1
  done
}
wait_for 60 knows_all || fail "the Sentinels did not find each other and the replica"
# First in the list: a "Sentinel" that accepts connections and never
# answers (a hung host). It must delay neither the start nor the failover.
hung_port=$(free_port)
python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $hung_port)); s.listen(128); held = []
while True: held.append(s.accept()[0])
" &
pids+=($!)
wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $hung_port))" || fail "no hung Sentinel"
sentinel_list="127.0.0.1:$hung_port"$(printf ',127.0.0.1:%s' "${sentinels[@]}")
ok "primary $primary_port, replica $replica_port, Sentinels $sentinel_list (the first one hung)"

# --- the application -------------------------------------------------------------
db="swiper_failover_$$"
psql -h 127.0.0.1 -U postgres -d postgres -qc "create database $db"
a_port=$(free_port); b_port=$(free_port)
"$bin" jwt-key > "$work/jwt.pem"
common=(PATH="$PATH" APP_ENV=production JWT_KEY_FILE="$work/jwt.pem" DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
  REDIS_SENTINELS="$sentinel_list" REDIS_SENTINEL_MASTER=swiper REDIS_PREFIX="failover$$"
  SMTP_URL="smtp://127.0.0.1:9" MAIL_FROM="Swiper <no-reply@swiper.test>"
  SECRET_KEY="$(head -c 48 /dev/urandom | base64 -w0)" BASE_URL="http://127.0.0.1:$a_port"
  DEMO_DATA=false RUN_WORKER=false VAR_DIR="$work/var")
env -i "${common[@]}" "$bin" migrate >/dev/null
env -i "${common[@]}" "$bin" seed --users 40 --avatars 0 >/dev/null
# The load logs in far more often than a person would.
psql -h 127.0.0.1 -U postgres -d "$db" -qc "insert into runtime_settings (key, value, updated_at) values
  ('rate_login_per_ip', '100000', now()), ('rate_login_per_email', '100000', now()),
  ('rate_posts_per_ip', '100000', now()), ('rate_messages_per_member', '100000', now())"
for port in "$a_port" "$b_port"; do
  env -i "${common[@]}" BIND="127.0.0.1:$port" "$bin" serve >"$work/serve-$port.log" 2>&1 &
  pids+=($!)
done
wait_for 60 curl -fsS "http://127.0.0.1:$a_port/readyz" || fail "instance A is not ready"
wait_for 60 curl -fsS "http://127.0.0.1:$b_port/readyz" || fail "instance B is not ready"
ok "two instances on $a_port and $b_port, Redis through the Sentinels"

pair=$(psql -h 127.0.0.1 -U postgres -d "$db" -Atc "select m.id, ua.email, ub.email from matches m
  join users ua on ua.id = m.user_a join users ub on ub.id = m.user_b limit 1")
others=$(psql -h 127.0.0.1 -U postgres -d "$db" -Atc "select email from users u where not exists
  (select 1 from matches m where u.id in (m.user_a, m.user_b)) order by id limit 3" | paste -sd,)
[ -n "$pair" ] && [ -n "$others" ] || fail "no seeded members"

python3 - "$a_port" "$b_port" "$primary_pid" "$replica_port" "${sentinels[0]}" "$pair" "$others" <<'PY' || fail "the failover broke a rule"
import http.cookiejar, json, os, re, signal, socket, sys, threading, time, urllib.error, urllib.parse, urllib.request
from websockets.sync.client import connect

a_port, b_port, primary_pid, replica_port, sentinel_port, pair, others = sys.argv[1:]
match_id, email_a, email_b = pair.split("|")
email_c, email_d, email_e = others.split(",")
PASSWORD = "swiper seed member"
ports = {"A": a_port, "B": b_port}
ORIGIN = f"http://127.0.0.1:{a_port}"  # BASE_URL of both instances
now = time.monotonic
lock = threading.Lock()
records = []  # (kind, instance, started, ended, status, ok)
stop = threading.Event()

def record(*r):
    with lock:
        records.append(r)

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None

class Client:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
    def request(self, path, data=None):
        req = urllib.request.Request(self.base + path, data=data, headers={"Origin": ORIGIN})
        try:
            with self.op.open(req, timeout=10) as r:
                return r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace"), e.headers
        except (urllib.error.URLError, OSError) as e:
            return 599, str(e), {}
    def token(self):
        _, page, _ = self.request("/password-reset")
        m = re.search(r'name="csrf_token" value="([^"]+)"', page)
        return m.group(1) if m else ""
    def post(self, path, fields):
        fields = dict(fields, csrf_token=self.token())
        return self.request(path, urllib.parse.urlencode(fields).encode())
    def login(self, email):
        status, _, _ = self.post("/login", {"email": email, "password": PASSWORD})
        return status
    def logged_in(self):
        status, page, _ = self.request("/settings")
        return status, status == 200 and 'data-testid="nav-settings"' in page
    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

def sentinel_primary_port():
    with socket.create_connection(("127.0.0.1", int(sentinel_port)), timeout=1) as s:
        s.sendall(b"*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$6\r\nswiper\r\n")
        data = b""
        while data.count(b"\r\n") < 5:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n")[4].decode()

# --- load -----------------------------------------------------------------------
def logins(name, email):
    while not stop.is_set():
        c = Client(ports[name])
        t = now()
        status = c.login(email)
        if status == 303:
            page_status, inside = c.logged_in()
            record("login", name, t, now(), page_status, inside)
        else:
            record("login", name, t, now(), status, False)

def pages(name, member):
    while not stop.is_set():
        t = now()
        status, inside = member.logged_in()
        record("page", name, t, now(), status, inside)

def readiness(name, member):
    while not stop.is_set():
        t = now()
        status, _, _ = member.request("/readyz")
        t1 = now()
        page_status, inside = member.logged_in()
        record("readyz", name, t, t1, status, status == 200)
        record("ready-page", name, t, now(), page_status, (status == 200, inside))

def probe(name):
    c = Client(ports[name])
    while not stop.is_set():
        t = now()
        status, _, _ = c.request("/readyz")
        record("probe", name, t, now(), status, status == 200)

def chat(sender, receiver_cookie):
    n = 0
    ws = None
    while not stop.is_set():
        if ws is None:
            try:
                ws = connect(f"ws://127.0.0.1:{b_port}/ws/chat", additional_headers={"Cookie": receiver_cookie, "Origin": ORIGIN}, open_timeout=2).__enter__()
            except Exception as e:
                ws = None
                # A refused handshake carries its status (a 4xx is no 5xx).
                status = getattr(getattr(e, "response", None), "status_code", 599)
                record("chat", "A->B", now(), now(), status, False)
                stop.wait(0.2)
                continue
        n += 1
        body = f"probe {n}"
        t = now()
        status, _, _ = sender.post(f"/matches/{match_id}/messages", {"body": body})
        delivered = False
        try:
            deadline = now() + 0.5
            while now() < deadline:
                frame = json.loads(ws.recv(timeout=max(0.01, deadline - now())))
                if frame.get("type") == "message" and frame.get("body") == body:
                    delivered = True
                    break
        except TimeoutError:
            pass
        except Exception:
            ws = None
        record("chat", "A->B", t, now(), status, delivered)

members = {}
for name, email in (("A", email_c), ("B", email_d)):
    members[name] = Client(ports[name])
    assert members[name].login(email) == 303, f"{name}: no login before the failover"
    assert members[name].logged_in()[1], f"{name}: not logged in before the failover"
sender = Client(a_port)
assert sender.login(email_a) == 303
receiver = Client(b_port)
assert receiver.login(email_b) == 303

threads = [threading.Thread(target=logins, args=(n, email_e)) for n in ports]
threads += [threading.Thread(target=pages, args=(n, members[n])) for n in ports]
threads += [threading.Thread(target=readiness, args=(n, members[n])) for n in ports]
threads += [threading.Thread(target=probe, args=(n,)) for n in ports]
threads += [threading.Thread(target=chat, args=(sender, receiver.cookie_header()))]
for th in threads:
    th.daemon = True
    th.start()

def wait_until(what, limit, cond):
    end = now() + limit
    while now() < end:
        if cond():
            return True
        stop.wait(0.05)
    raise SystemExit(f"timed out waiting for {what}")

# A calm start: every kind of request has worked on both instances.
def warmed():
    with lock:
        good = {(r[0], r[1]) for r in records if r[5] is True}
    return all((k, n) in good for k in ("login", "page", "readyz") for n in ports) and ("chat", "A->B") in good
wait_until("a calm start", 30, warmed)
with lock:
    calm = [r for r in records if r[4] >= 500]
assert not calm, f"5xx before the failover: {calm[:5]}"

t_kill = now()
os.kill(int(primary_pid), signal.SIGKILL)
def promoted():
    try:
        return sentinel_primary_port() == replica_port
    except OSError:
        return False
wait_until("the promotion", 60, promoted)
t_promote = now()
def recovered():
    with lock:
        return all(any(r[0] == "login" and r[1] == n and r[2] >= t_promote and r[5] is True for r in records) for n in ports) \
            and any(r[0] == "chat" and r[2] >= t_promote and r[5] is True for r in records)
wait_until("logins and chat after the promotion", 30, recovered)
# Five more seconds of load after the 5 s window.
stop.wait(max(0.0, t_promote + 10 - now()))
stop.set()
for th in threads:
    th.join(timeout=15)

with lock:
    rs = list(records)
figures = {"requests": len(rs), "promotion_after_kill_s": round(t_promote - t_kill, 2)}
worst = 0.0
for n in ports:
    back = min(r[3] for r in rs if r[0] == "login" and r[1] == n and r[2] >= t_promote and r[5] is True) - t_promote
    figures[f"login_on_{n}_after_promotion_s"] = round(max(back, 0.0), 2)
    worst = max(worst, back)
chat_back = min(r[3] for r in rs if r[0] == "chat" and r[2] >= t_promote and r[5] is True) - t_promote
figures["chat_after_promotion_s"] = round(max(chat_back, 0.0), 2)
late_5xx = [r for r in rs if r[2] >= t_promote + 5 and r[4] >= 500]
outage_5xx = [r for r in rs if t_kill <= r[2] < t_promote + 5 and r[4] >= 500]
figures["5xx_during_outage"] = {f"{r[0]} {r[4]}": sum(1 for o in outage_5xx if (o[0], o[4]) == (r[0], r[4])) for r in outage_5xx}
figures["5xx_after_window"] = len(late_5xx)
# Readiness: 503 seen while the primary was gone; no "ready" followed by a
# logged-out page (pairs that straddle the kill excepted).
pairs = [r for r in rs if r[0] == "ready-page"]
lies = [r for r in pairs if r[5][0] and not r[5][1] and not (r[2] < t_kill <= r[3])]
down_seen = {n: sum(1 for r in rs if r[0] in ("readyz", "probe") and r[1] == n and t_kill < r[2] < t_promote and r[4] == 503) for n in ports}
figures["readyz_503_during_outage"] = down_seen
figures["readyz_ready_but_logged_out"] = len(lies)
print("failover figures: " + json.dumps(figures))
assert worst <= 5, f"a login took {worst:.2f}s after the promotion"
assert chat_back <= 5, f"chat took {chat_back:.2f}s after the promotion"
assert not late_5xx, f"5xx after the window: {late_5xx[:5]}"
assert not lies, f"/readyz said ready but the page was logged out: {lies[:5]}"
assert all(v > 0 for v in down_seen.values()), f"/readyz never said 503 during the outage: {down_seen}"
final = {n: Client(ports[n]).request("/readyz")[0] for n in ports}
assert all(s == 200 for s in final.values()), f"not ready after the failover: {final}"
PY
ok "Sentinel failover under load: logins and chat back within 5 s of the promotion, no 5xx after, /readyz truthful"
