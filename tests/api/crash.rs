//! The `swiper` binary killed with `kill -9` while members swipe: a swipe
//! the server answered 303 was committed, so it is in the database when
//! read straight after the crash, once. The kill comes under load: it is
//! sent when the answered swipes reach a count, and every swiping task must
//! end on a failed connection after it, none having run out of people.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::discovery::feed;
use crate::helpers::{free_port, run_on, swiper_binary, wait_until, Browser, TestDb, WAIT_LIMIT};

/// Seeded members in all (a few seconds): among 20 cities, the first
/// members' feeds hold [`CANDIDATES`] people (with 3,000 they held 5 to 28,
/// and logins are limited to 30 an IP in five minutes).
const SEEDED: usize = 10000;
/// Members swiping at once, one task each.
const SWIPERS: usize = 8;
/// Candidates each swiper needs, so that none runs out before the kill.
const CANDIDATES: usize = 40;
/// Swipes answered 303, across all swipers, before the kill.
const KILL_AFTER: usize = 80;

/// The binary on this database, Redis (when the tests have one) and `VAR_DIR`.
fn swiper(db: &TestDb, prefix: &str) -> Command {
    let mut cmd = swiper_binary();
    cmd.env("DATABASE_URL", &db.url)
        .env("VAR_DIR", db.dir.join("var"))
        .env("MEDIA_DIR", db.dir.join("var").join("media"))
        .env("DEMO_DATA", "false")
        .env("REDIS_PREFIX", prefix);
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        if !redis.is_empty() {
            cmd.env("REDIS_URL", redis);
        }
    }
    cmd
}

/// The server process; killed if the test fails before it does.
struct Server(Child);

impl Server {
    /// `kill -9`, through the shell as an operator (or the OOM killer) would.
    fn kill_9(&mut self) {
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -KILL {}", self.0.id())])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = self.0.wait().unwrap();
        assert!(!status.success(), "killed, not exited: {status:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A seeded member, logged in, and the people on the first pages of their feed.
struct Swiper {
    id: i64,
    browser: Browser,
    csrf: String,
    candidates: Vec<i64>,
}

/// Logs `email` in and reads their feed until it has [`CANDIDATES`]
/// people or no page adds anyone.
async fn log_in(base: &str, id: i64, email: &str) -> Swiper {
    let browser = Browser::new(base);
    let res = browser.login(email, swiper::seed::SEED_PASSWORD).await;
    assert_eq!(res.status(), 303, "login of {email}");
    let mut candidates = Vec::new();
    let mut seen = HashSet::new();
    for page in 1.. {
        let before = candidates.len();
        for target in feed(&browser, page).await {
            if seen.insert(target) {
                candidates.push(target);
            }
        }
        if candidates.len() >= CANDIDATES || candidates.len() == before {
            break;
        }
    }
    let csrf = browser.csrf().await;
    Swiper {
        id,
        browser,
        csrf,
        candidates,
    }
}

/// What the load shares: the swipes answered 303, their count, and
/// whether the kill was sent.
#[derive(Default)]
struct Load {
    answered: Mutex<Vec<(i64, i64)>>,
    count: AtomicUsize,
    reached: tokio::sync::Notify,
    killed: AtomicBool,
}

/// Swipes every candidate in turn (a like every third, dislikes between),
/// until a request fails at the connection level: its error, or a panic
/// if the server answered anything but a swipe's 303, or if the
/// candidates ran out while the server was still up.
async fn swipe_until_gone(me: Swiper, load: Arc<Load>) -> reqwest::Error {
    let url = me.browser.url("/swipes");
    for (i, target) in me.candidates.iter().enumerate() {
        let kind = if i % 3 == 0 { "like" } else { "dislike" };
        let sent = me
            .browser
            .client
            .post(&url)
            .form(&[
                ("target", target.to_string().as_str()),
                ("kind", kind),
                ("csrf_token", me.csrf.as_str()),
            ])
            .send()
            .await;
        let res = match sent {
            Ok(res) => res,
            Err(e) => {
                assert!(
                    load.killed.load(Ordering::SeqCst),
                    "member {} swiping {target}: the connection failed before the kill: {e:?}",
                    me.id
                );
                return e;
            }
        };
        let location = crate::helpers::location(&res);
        assert!(
            res.status() == 303 && location.starts_with("/discover"),
            "member {} swiping {target} ({kind}): {} to {location:?}",
            me.id,
            res.status()
        );
        load.answered.lock().unwrap().push((me.id, *target));
        if load.count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
            load.reached.notify_one();
        }
    }
    panic!(
        "member {} swiped all {} candidates before the kill",
        me.id,
        me.candidates.len()
    );
}

#[tokio::test]
async fn a_kill_9_under_swipe_load_loses_no_swipe_that_was_answered_303() {
    let db = TestDb::new();
    let prefix = format!("swiper-crash-{}", swiper::security::random::token(6));
    let seeded = swiper(&db, &prefix)
        .args(["seed", "--users", &SEEDED.to_string(), "--avatars", "0"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");

    let port = free_port();
    let mut server = Server(
        swiper(&db, &prefix)
            .arg("serve")
            .env("BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_until("the seeded site answers", || async {
        reqwest::get(format!("{base}/healthz")).await.is_ok()
    })
    .await;

    // The first seeded members whose feeds are long enough to outlast the kill.
    let pool = db.pool();
    let ids: Vec<(String, i64)> = run_on(&pool, |c| {
        use diesel::prelude::*;
        use swiper::db::schema::users;
        Ok(users::table
            .filter(users::email.like(format!("%@{}", swiper::seed::EMAIL_DOMAIN)))
            .select((users::email, users::id))
            .load(c)?)
    })
    .await
    .unwrap();
    let mut swipers = Vec::new();
    for n in 0..SEEDED {
        let email = swiper::seed::email(n);
        let id = ids.iter().find(|(e, _)| *e == email).unwrap().1;
        let me = log_in(&base, id, &email).await;
        if me.candidates.len() >= CANDIDATES {
            swipers.push(me);
        }
        if swipers.len() == SWIPERS {
            break;
        }
    }
    assert_eq!(swipers.len(), SWIPERS, "seeded members with full feeds");

    let load = Arc::new(Load::default());
    let tasks: Vec<_> = swipers
        .into_iter()
        .map(|me| tokio::spawn(swipe_until_gone(me, load.clone())))
        .collect();
    tokio::time::timeout(WAIT_LIMIT, load.reached.notified())
        .await
        .expect("swipes answered before the kill");
    load.killed.store(true, Ordering::SeqCst);
    server.kill_9();

    // Every swiper was still posting: each ended on a failed connection
    // after the kill (a swiper that ran out or failed earlier panicked).
    for task in tasks {
        let error = tokio::time::timeout(WAIT_LIMIT, task)
            .await
            .expect("a swiper ends once the server is gone")
            .expect("a swiper ends on a failed connection");
        assert!(!error.is_timeout(), "{error:?}");
    }
    let answered = load.answered.lock().unwrap().clone();
    assert!(answered.len() >= KILL_AFTER, "{}", answered.len());

    // Read straight from the database the dead server wrote.
    let swiper_ids: Vec<i64> = answered
        .iter()
        .map(|(s, _)| *s)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<(i64, i64)> = run_on(&pool, move |c| {
        use diesel::prelude::*;
        use swiper::db::schema::swipes;
        Ok(swipes::table
            .filter(swipes::swiper_id.eq_any(swiper_ids))
            .select((swipes::swiper_id, swipes::target_id))
            .load(c)?)
    })
    .await
    .unwrap();
    let stored: HashSet<(i64, i64)> = rows.iter().copied().collect();
    let lost: Vec<_> = answered.iter().filter(|p| !stored.contains(p)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} swipes answered 303 are not in the database: {lost:?}",
        lost.len(),
        answered.len()
    );
    let duplicated = run_on(&pool, |c| {
        use diesel::prelude::*;
        use swiper::db::schema::swipes;
        Ok(swipes::table
            .group_by((swipes::swiper_id, swipes::target_id))
            .having(diesel::dsl::count_star().gt(1))
            .select((swipes::swiper_id, swipes::target_id))
            .load::<(i64, i64)>(c)?)
    })
    .await
    .unwrap();
    assert!(duplicated.is_empty(), "swiped twice: {duplicated:?}");
    drop(pool);
    drop(server);
    clear_redis(&prefix);
}

/// The sessions the dead server left in the shared Redis.
fn clear_redis(prefix: &str) {
    let Some(url) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return;
    };
    if let Ok(mut conn) = redis::Client::open(url).and_then(|c| c.get_connection()) {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}
