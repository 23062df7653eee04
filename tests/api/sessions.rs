use diesel::prelude::*;
use swiper::db::schema::user_sessions;

use crate::helpers::*;

async fn age_sessions(app: &TestApp, last_seen_hours_ago: i64) {
    app.db(move |c| {
        diesel::update(user_sessions::table)
            .set(
                user_sessions::last_seen_at.eq(swiper::clock::Clock::system().now()
                    - chrono::TimeDelta::hours(last_seen_hours_ago)),
            )
            .execute(c)
    })
    .await;
    // Rows edited behind the app's back: what it keeps of them goes too,
    // as it would once time had really passed.
    app.state.principals.clear();
}

#[tokio::test]
async fn a_session_idle_longer_than_the_idle_timeout_ends() {
    let app = spawn_app().await;
    app.member(&app.browser, "idle@example.com").await;
    age_sessions(&app, 1).await;
    assert!(
        app.browser.is_logged_in().await,
        "an hour idle is within the default two hours"
    );
    age_sessions(&app, 3).await;
    assert!(
        !app.browser.is_logged_in().await,
        "three hours idle ends the session"
    );
}

#[tokio::test]
async fn a_remembered_session_survives_idleness_but_not_its_absolute_lifetime() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "rem@example.com").await;
    app.browser
        .login_with("rem@example.com", GOOD_PASSWORD, &[("remember", "on")])
        .await;
    age_sessions(&app, 24 * 5).await;
    assert!(
        app.browser.is_logged_in().await,
        "remembered sessions do not end when idle"
    );
    app.db(|c| {
        diesel::update(user_sessions::table)
            .set(
                user_sessions::expires_at
                    .eq(swiper::clock::Clock::system().now() - chrono::TimeDelta::seconds(1)),
            )
            .execute(c)
    })
    .await;
    app.state.principals.clear();
    assert!(
        !app.browser.is_logged_in().await,
        "past its lifetime the session ends"
    );
}

#[tokio::test]
async fn log_out_everywhere_else_ends_every_other_session_and_keeps_this_one() {
    let app = spawn_app().await;
    app.member(&app.browser, "ivy@example.com").await;
    let phone = app.new_browser();
    let tablet = app.new_browser();
    phone.login("ivy@example.com", GOOD_PASSWORD).await;
    tablet.login("ivy@example.com", GOOD_PASSWORD).await;

    let page = app.browser.html("/settings/sessions").await;
    assert_eq!(page.matches("data-session=").count(), 3, "{page}");

    let res = app
        .browser
        .post("/settings/sessions/revoke-others", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(app.browser.is_logged_in().await);
    assert!(!phone.is_logged_in().await);
    assert!(!tablet.is_logged_in().await);
    assert_eq!(
        app.browser
            .html("/settings/sessions")
            .await
            .matches("data-session=")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_logged_out_visitor_is_sent_to_the_login_page_and_back() {
    let app = spawn_app().await;
    let res = app.browser.get("/settings").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fsettings");
    let page = app.browser.html("/login?next=%2Fsettings").await;
    assert!(page.contains("name=\"next\" value=\"/settings\""), "{page}");

    app.member(&app.new_browser(), "jo@example.com").await;
    let res = app
        .browser
        .login_with("jo@example.com", GOOD_PASSWORD, &[("next", "/settings")])
        .await;
    assert_eq!(location(&res), "/settings");
}

#[tokio::test]
async fn login_never_redirects_to_another_site() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "kai@example.com").await;
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n",
    ] {
        let browser = app.new_browser();
        let res = browser
            .login_with("kai@example.com", GOOD_PASSWORD, &[("next", next)])
            .await;
        assert_eq!(location(&res), "/discover", "{next}");
    }
}

/// Two instances behind one load balancer share PostgreSQL and Redis: a
/// session made on one is valid on the other, and revoking on one ends it on both.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn two_instances_share_sessions_and_log_out_everywhere() {
    require_postgres_and_redis();
    let (a, b) = spawn_two().await;
    assert_ne!(a.port, b.port);

    // Log in on A; the same browser is logged in on B.
    let link = a.sign_up(&a.browser, "lea@example.com", "Lea").await;
    a.browser.get(&link).await;
    assert_eq!(
        a.browser
            .login("lea@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    let on_b = a.browser.on(&b.base);
    assert!(
        on_b.is_logged_in().await,
        "a session made on A is valid on B"
    );

    // A second device logs in through B; "log out everywhere else" on A ends it on both.
    let phone = b.new_browser();
    assert_eq!(
        phone.login("lea@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    assert!(phone.is_logged_in().await);
    assert!(phone.on(&a.base).is_logged_in().await);
    let revoked = std::time::Instant::now();
    assert_eq!(
        a.browser
            .post("/settings/sessions/revoke-others", &[])
            .await
            .status(),
        303
    );
    logged_out_within_a_second(&phone, revoked, "ended on B").await;
    assert!(!phone.on(&a.base).is_logged_in().await, "ended on A");
    assert!(
        on_b.is_logged_in().await,
        "the session that asked stays, on both"
    );

    // Logging out on B ends the session on A too.
    let out = std::time::Instant::now();
    assert_eq!(on_b.post("/logout", &[]).await.status(), 303);
    logged_out_within_a_second(&a.browser, out, "logged out on A too").await;
}

#[tokio::test]
async fn one_other_session_can_be_ended_from_the_list_but_not_someone_elses() {
    let app = spawn_app().await;
    app.member(&app.browser, "una@example.com").await;
    let phone = app.new_browser();
    phone.login("una@example.com", GOOD_PASSWORD).await;
    let stranger = app.new_browser();
    app.member(&stranger, "zed@example.com").await;

    let revoke_path = |page: &str| {
        let start = page.find("/settings/sessions/").expect("a revoke form");
        page[start..].split('"').next().unwrap().to_string()
    };
    // The stranger cannot end Una's phone session with its handle.
    let phones = revoke_path(&app.browser.html("/settings/sessions").await);
    assert_eq!(stranger.post(&phones, &[]).await.status(), 303);
    assert!(phone.is_logged_in().await);
    // Una can.
    assert_eq!(app.browser.post(&phones, &[]).await.status(), 303);
    assert!(!phone.is_logged_in().await);
    assert!(app.browser.is_logged_in().await);
}

/// A warm page takes its session state from what the process read in the
/// last second (no Redis round trip); a request that changes something
/// always reads Redis, so it never acts on a state another instance
/// (or, here, the test) has since changed.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn warm_pages_read_the_session_in_process_and_changes_read_redis() {
    require_postgres_and_redis();
    let app = spawn_app().await;
    app.member(&app.browser, "wes@example.com").await;
    let store = &app.state.accounts.sessions;
    assert_eq!(app.browser.get("/settings").await.status(), 200);
    let before = store.redis_loads();
    for _ in 0..20 {
        assert_eq!(app.browser.get("/settings").await.status(), 200);
    }
    let loads = store.redis_loads() - before;
    assert!(
        loads < 20,
        "20 warm pages read the session from Redis {loads} times"
    );

    // The session goes from Redis behind the app's back: a state-changing
    // request reads Redis, finds none, and is a visitor's.
    let url = app.state.settings.redis.url.clone().expect("Redis");
    let mut conn = redis::Client::open(url.expose())
        .and_then(|c| c.get_connection())
        .expect("Redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:session:*", app.state.settings.redis.prefix))
        .query(&mut conn)
        .expect("KEYS");
    assert!(!keys.is_empty());
    let _: () = redis::cmd("DEL").arg(keys).query(&mut conn).expect("DEL");
    let before = store.redis_loads();
    let res = app
        .browser
        .post("/settings/sessions/revoke-others", &[])
        .await;
    assert_eq!(store.redis_loads() - before, 1, "the POST read Redis");
    assert!(
        !(res.status() == 303 && location(&res).starts_with("/settings")),
        "acted on a session Redis no longer has: {} {}",
        res.status(),
        location(&res)
    );
}

#[tokio::test]
async fn without_redis_sessions_are_kept_in_the_database_and_survive_a_restart() {
    // The embedded default: no REDIS_URL, even when the suite has one.
    let no_redis = [("REDIS_URL", "")];
    let app = spawn_app_with(&no_redis).await;
    let link = app.sign_up(&app.browser, "stay@example.com", "Stay").await;
    assert_eq!(app.browser.get(&link).await.status(), 200);
    app.browser
        .login_with("stay@example.com", GOOD_PASSWORD, &[("remember", "on")])
        .await;
    assert!(app.browser.is_logged_in().await);
    let cookie = app
        .browser
        .cookie("swiper_session")
        .expect("a session cookie");

    // The key is stored hashed: the table alone gives no cookie.
    let keys: Vec<String> = app
        .db(|c| {
            swiper::db::schema::web_sessions::table
                .select(swiper::db::schema::web_sessions::key_hash)
                .load(c)
        })
        .await;
    assert_eq!(keys.len(), 1, "one session row: {keys:?}");
    assert!(keys.iter().all(|k| !cookie.contains(k.as_str())));

    // A new process on the same database (a restart) knows the session.
    let prefix = app.state.settings.redis.prefix.clone();
    let restarted = spawn_on(app.db.clone(), &prefix, &no_redis).await;
    assert!(
        cookie_is_logged_in(&restarted.base, &cookie).await,
        "the remembered session outlives the process that made it"
    );

    // Logging out deletes the row: the cookie is worthless after a restart too.
    assert_eq!(logout_from(&app.browser, &app.base).await.status(), 303);
    assert_eq!(app.count("web_sessions").await, 0);
    let again = spawn_on(app.db.clone(), &prefix, &no_redis).await;
    assert!(!cookie_is_logged_in(&again.base, &cookie).await);
}
