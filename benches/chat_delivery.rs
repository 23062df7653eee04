//! Chat delivery across two instances on PostgreSQL + Redis, and the memory
//! of idle sockets. Starts two `swiper serve` processes (this build's
//! binary) on the seeded database, logs in seeded matched pairs, puts one
//! member of each pair on each instance, sends `RATE` messages a second for
//! `SEND_SECONDS` seconds over the sockets, and measures each message from send
//! to delivery on the other instance. Then opens `IDLE` idle sockets to one
//! instance and reads its resident memory. With `BENCH_SOCKETS_URL` (a
//! front such as nginx) and `BENCH_LOGIN_URL` (an instance: nginx limits
//! logins) it starts nothing and opens every socket through the front
//! (bench/chat.sh does this with one or two instances behind the shipped
//! nginx config; the idle-socket figure is skipped). Run after seeding:
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench swiper seed --users 100000
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench \
//!   BENCH_REDIS_URL=redis://127.0.0.1:6379 cargo bench --bench chat_delivery
//! ```

// A benchmark whose setup fails should stop loudly, as a test does.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str, redis: &str, port: u16, secret: &str) -> Instance {
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_swiper"))
        .arg("serve")
        .env("DATABASE_URL", db)
        .env("REDIS_URL", redis)
        .env("REDIS_PREFIX", "bench-chat")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("BASE_URL", &base)
        .env("SECRET_KEY", secret)
        .env("RUN_WORKER", "false")
        // The idle-socket figure opens them all as one member.
        .env("CHAT_SOCKETS_PER_MEMBER", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("swiper serve starts");
    Instance { child, base }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Logs in through the form; returns the cookie header for sockets.
async fn login(base: &str, email: &str) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .unwrap_or_default();
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_string();
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", swiper::seed::SEED_PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 303, "login of {email}");
    use reqwest::cookie::CookieStore;
    let url = url::Url::parse(base).expect("url");
    jar.cookies(&url)
        .and_then(|h| h.to_str().ok().map(str::to_string))
        .unwrap_or_default()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(base: &str, cookie: &str) -> Ws {
    let mut req = format!("{}/ws/chat", base.replacen("http", "ws", 1))
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("cookie"));
    req.headers_mut()
        .insert("origin", base.parse().expect("origin"));
    tokio_tungstenite::connect_async(req)
        .await
        .expect("socket")
        .0
}

fn main() {
    let db_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/swiper_bench".into());
    let redis_url =
        std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let pairs_wanted = env_or("PAIRS", 50);
    let rate = env_or("RATE", 1000);
    let seconds = env_or("SEND_SECONDS", 10);
    let idle = env_or("IDLE", 10_000);
    let Some((mut conn, _)) = common::connect(&db_url) else {
        return;
    };
    // Seeded matched pairs: (match id, email a, email b, id a, id b).
    use swiper::db::schema::{matches, users};
    let (ua, ub) = diesel::alias!(users as ua, users as ub);
    let pairs: Vec<(i64, String, String, i64, i64)> = matches::table
        .inner_join(ua.on(ua.field(users::id).eq(matches::user_a)))
        .inner_join(ub.on(ub.field(users::id).eq(matches::user_b)))
        .filter(ua.field(users::email).like("member%"))
        .filter(ub.field(users::email).like("member%"))
        .select((
            matches::id,
            ua.field(users::email),
            ub.field(users::email),
            matches::user_a,
            matches::user_b,
        ))
        .limit(pairs_wanted as i64 * 20)
        .load(&mut conn)
        .unwrap_or_default();
    // Each member in one pair only, so every delivery crosses instances once.
    let mut seen = std::collections::HashSet::new();
    let pairs: Vec<_> = pairs
        .into_iter()
        .filter(|p| {
            let fresh = !seen.contains(&p.3) && !seen.contains(&p.4);
            if fresh {
                seen.insert(p.3);
                seen.insert(p.4);
            }
            fresh
        })
        .take(pairs_wanted)
        .collect();
    if pairs.is_empty() {
        eprintln!("no seeded matches in {db_url}: run `swiper seed --users N` first");
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        // Limits high enough for the load (restored below).
        let pool = swiper::db::pool(&db_url, 2, swiper::db::Statements::Prepared).expect("pool");
        let runtime = swiper::runtime::RuntimeSettings::new(swiper::db::Db::new(pool));
        let now = chrono::Utc::now().naive_utc();
        for key in [
            "rate_messages_per_member",
            "rate_login_per_ip",
            "rate_login_per_email",
            "rate_posts_per_ip",
        ] {
            let _ = runtime.set(key, 1_000_000, now).await;
        }
        let front = std::env::var("BENCH_SOCKETS_URL").ok();
        let secret = "bench-secret-key-for-two-chat-instances-0123456789abcdef0123456789abcdef";
        let instances = match front {
            Some(_) => Vec::new(),
            None => vec![
                start(&db_url, &redis_url, 18181, secret),
                start(&db_url, &redis_url, 18182, secret),
            ],
        };
        // (sockets, logins) for the A side and the B side.
        let (a, b) = match &front {
            Some(front) => {
                let login = std::env::var("BENCH_LOGIN_URL").unwrap_or_else(|_| front.clone());
                ((front.clone(), login.clone()), (front.clone(), login))
            }
            None => (
                (instances[0].base.clone(), instances[0].base.clone()),
                (instances[1].base.clone(), instances[1].base.clone()),
            ),
        };
        for inst in &instances {
            let mut up = false;
            for _ in 0..300 {
                if reqwest::get(format!("{}/healthz", inst.base)).await.is_ok() {
                    up = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(up, "{} did not start", inst.base);
        }
        println!("logging in {} pairs…", pairs.len());
        let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
        let sent_at = Arc::new(Mutex::new(HashMap::<String, Instant>::new()));
        let mut senders = Vec::new();
        for (match_id, email_a, email_b, id_a, id_b) in &pairs {
            let cookie_a = login(&a.1, email_a).await;
            let cookie_b = login(&b.1, email_b).await;
            for (base, cookie, me) in [(&a.0, cookie_a, *id_a), (&b.0, cookie_b, *id_b)] {
                let ws = socket(base, &cookie).await;
                let (sink, mut stream) = ws.split();
                senders.push((*match_id, sink));
                let (latencies, sent_at) = (latencies.clone(), sent_at.clone());
                tokio::spawn(async move {
                    while let Some(Ok(msg)) = stream.next().await {
                        let Message::Text(text) = msg else { continue };
                        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                            continue;
                        };
                        // Count a message on the other member's socket only.
                        if v["type"] != "message" || v["from"].as_i64() == Some(me) {
                            continue;
                        }
                        let key = v["client_id"].as_str().unwrap_or("").to_string();
                        if let Some(t) = sent_at.lock().expect("lock").get(&key) {
                            let ms = t.elapsed().as_secs_f64() * 1e3;
                            latencies.lock().expect("lock").push(ms);
                        }
                    }
                });
            }
        }
        let total = rate * seconds;
        println!("sending {total} messages at {rate}/s from the instance-A side…");
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
        let a_senders: Vec<usize> = (0..senders.len()).step_by(2).collect();
        let started = Instant::now();
        for n in 0..total {
            tick.tick().await;
            let i = a_senders[n % a_senders.len()];
            let (match_id, sink) = &mut senders[i];
            let key = format!("bench-{}-{n}", std::process::id());
            sent_at.lock().expect("lock").insert(key.clone(), Instant::now());
            let frame = serde_json::json!({
                "type": "send", "match_id": *match_id, "body": "bench", "client_id": key,
            });
            let _ = sink.send(Message::Text(frame.to_string().into())).await;
        }
        let send_secs = started.elapsed().as_secs_f64();
        // Let the last deliveries arrive (a bound, not a measurement).
        for _ in 0..100 {
            if latencies.lock().expect("lock").len() >= total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut l = latencies.lock().expect("lock").clone();
        l.sort_by(|x, y| x.total_cmp(y));
        let pct = |p: f64| l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
        println!(
            "delivered {}/{} to the other member's socket ({:.0} msg/s sent): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            l.len(),
            total,
            total as f64 / send_secs,
            pct(0.50),
            pct(0.99),
            l.last().copied().unwrap_or(f64::NAN),
        );
        drop(senders);

        // Idle sockets on instance A, all one member's tabs.
        if let Some(first) = instances.first().filter(|_| idle > 0) {
            let cookie = login(&first.base, &pairs[0].1).await;
            let pid = first.child.id();
            let before = rss_kib(pid);
            let mut idle_sockets = Vec::with_capacity(idle);
            for _ in 0..idle {
                idle_sockets.push(socket(&first.base, &cookie).await);
            }
            let after = rss_kib(pid);
            println!(
                "{idle} idle sockets on one instance: resident {:.1} MiB (was {:.1} MiB; {:.1} KiB a socket)",
                after as f64 / 1024.0,
                before as f64 / 1024.0,
                (after.saturating_sub(before)) as f64 / idle as f64,
            );
        }
        let now = chrono::Utc::now().naive_utc();
        for (key, default) in [
            ("rate_messages_per_member", 60),
            ("rate_login_per_ip", 30),
            ("rate_login_per_email", 20),
            ("rate_posts_per_ip", 300),
        ] {
            let _ = runtime.set(key, default, now).await;
        }
    });
}
