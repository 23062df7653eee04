use diesel::prelude::*;
use swiper::db::schema::users;

use crate::helpers::*;

/// Made by Django 5.2: `make_password("correct horse", "seasalt", "pbkdf2_sha256")`.
const DJANGO_HASH: &str =
    "pbkdf2_sha256$1000000$seasalt$eDeT2Bk71DYBhUNxsvTfOL61wQ+l2yaHzCst8hDsfHQ=";

async fn set_hash(app: &TestApp, email: &'static str, hash: String) {
    app.db(move |c| {
        diesel::update(users::table.filter(users::email.eq(email)))
            .set(users::password_hash.eq(hash))
            .execute(c)
    })
    .await;
}

async fn stored_hash(app: &TestApp, email: &'static str) -> String {
    app.db(move |c| {
        users::table
            .filter(users::email.eq(email))
            .select(users::password_hash)
            .first(c)
    })
    .await
}

#[tokio::test]
async fn an_account_imported_from_django_logs_in_with_its_password() {
    let app = spawn_app().await;
    app.member(&app.browser, "django@example.com").await;
    app.browser.post("/logout", &[]).await;
    set_hash(&app, "django@example.com", DJANGO_HASH.to_string()).await;

    let res = app
        .browser
        .login("django@example.com", "correct horse")
        .await;
    assert_eq!(res.status(), 303);
    assert!(app.browser.is_logged_in().await);
    // 1,000,000 iterations is more than configured: the hash is kept as it is.
    assert_eq!(stored_hash(&app, "django@example.com").await, DJANGO_HASH);
}

#[tokio::test]
async fn a_hash_with_fewer_iterations_than_configured_is_upgraded_at_login() {
    let app = spawn_app().await;
    app.member(&app.browser, "old@example.com").await;
    app.browser.post("/logout", &[]).await;
    set_hash(
        &app,
        "old@example.com",
        swiper::security::password::hash(GOOD_PASSWORD, 500),
    )
    .await;

    assert_eq!(
        app.browser
            .login("old@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    let upgraded = stored_hash(&app, "old@example.com").await;
    assert!(
        upgraded.starts_with(&format!("pbkdf2_sha256${TEST_ITERATIONS}$")),
        "{upgraded}"
    );

    // The upgraded hash still logs in.
    let again = app.new_browser();
    assert_eq!(
        again.login("old@example.com", GOOD_PASSWORD).await.status(),
        303
    );
}

/// A login whose hash check finished after a password reset must not open a
/// session: the reset already ended every session.
#[tokio::test]
async fn a_login_racing_a_password_reset_opens_no_session() {
    use swiper::accounts::login::{check_credentials, open_session, LoginContext};
    use swiper::auth::sessions::Lifetimes;
    let app = spawn_app().await;
    app.member(&app.browser, "race@example.com").await;
    let user = check_credentials(
        &app.state.accounts,
        "race@example.com",
        &GOOD_PASSWORD.to_string().into(),
    )
    .await
    .unwrap()
    .expect("valid credentials");
    // The reset lands while that login is between its check and its session.
    set_hash(
        &app,
        "race@example.com",
        swiper::security::password::hash("the new secret phrase", 1000),
    )
    .await;
    let lifetimes = Lifetimes::from_settings(&app.state.settings.sessions);
    let opened = app
        .db(move |c| {
            let login = LoginContext {
                remember: false,
                ip: "127.0.0.1",
                user_agent: "test",
                replaces: None,
                lifetimes,
            };
            open_session(c, &user, &login, swiper::clock::Clock::system().now())
        })
        .await;
    assert!(opened.is_none());
}

#[tokio::test]
async fn passwords_are_stored_as_pbkdf2_hashes_never_in_clear() {
    let app = spawn_app().await;
    app.member(&app.browser, "clear@example.com").await;
    let hash = stored_hash(&app, "clear@example.com").await;
    assert!(hash.starts_with("pbkdf2_sha256$"));
    assert!(!hash.contains(GOOD_PASSWORD));
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    app.member(&app.browser, "chg@example.com").await;
    let laptop = app.new_browser();
    laptop.login("chg@example.com", GOOD_PASSWORD).await;

    let res = app
        .browser
        .change_password("wrong wrong wrong", "a brand new passphrase")
        .await;
    assert_error(res, 422, "wrong_password").await;
    assert!(laptop.is_logged_in().await);

    let res = app
        .browser
        .change_password(GOOD_PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(res.status(), 303);
    assert!(app.browser.is_logged_in().await, "this session stays");
    assert!(!laptop.is_logged_in().await, "the other session ended");
    assert_eq!(
        app.new_browser()
            .login("chg@example.com", "a brand new passphrase")
            .await
            .status(),
        303
    );
    assert_eq!(
        app.new_browser()
            .login("chg@example.com", GOOD_PASSWORD)
            .await
            .status(),
        401
    );
}

/// The same race with real concurrency on PostgreSQL: the login's check runs
/// while the reset's transaction is still open, and must lose once it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (row locks): set TEST_DATABASE_URL and run with -- --include-ignored"]
async fn a_login_blocked_behind_an_uncommitted_reset_opens_no_session() {
    require_postgres();
    use std::sync::mpsc;
    use swiper::accounts::login::{check_credentials, open_session, LoginContext};
    use swiper::auth::sessions::{self, Lifetimes};
    let app = spawn_app().await;
    app.member(&app.browser, "race2@example.com").await;
    let user = check_credentials(
        &app.state.accounts,
        "race2@example.com",
        &GOOD_PASSWORD.to_string().into(),
    )
    .await
    .unwrap()
    .expect("valid");
    let id = user.user_id();
    let pool = app.state.db.pool().clone();
    let (opened_tx, opened_rx) = mpsc::channel();
    let (commit_tx, commit_rx) = mpsc::channel::<()>();
    // The reset: new hash, every session ended, not committed until told.
    let reset = std::thread::spawn(move || {
        let mut c = pool.get().unwrap();
        swiper::db::transaction(&mut c, |c| {
            diesel::update(users::table.find(id.0))
                .set(users::password_hash.eq(swiper::security::password::hash(
                    "the new secret phrase",
                    1000,
                )))
                .execute(c)?;
            sessions::revoke_all(c, id)?;
            opened_tx.send(()).unwrap();
            commit_rx.recv().unwrap();
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    });
    opened_rx.recv().unwrap();
    let pool = app.state.db.pool().clone();
    let lifetimes = Lifetimes::from_settings(&app.state.settings.sessions);
    let login = std::thread::spawn(move || {
        let mut c = pool.get().unwrap();
        let ctx = LoginContext {
            remember: false,
            ip: "127.0.0.1",
            user_agent: "race",
            replaces: None,
            lifetimes,
        };
        open_session(&mut c, &user, &ctx, swiper::clock::Clock::system().now())
            .unwrap()
            .is_some()
    });
    // Wait until the login is blocked on the reset's row lock, then commit.
    app.db(|c| {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        wait_until_blocking("the login waits for the reset's lock", || {
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            .get_result::<N>(c)
            .is_ok_and(|r| r.n > 0)
        });
        Ok(())
    })
    .await;
    commit_tx.send(()).unwrap();
    reset.join().unwrap();
    assert!(
        !login.join().unwrap(),
        "no session may open after the reset"
    );
    assert_eq!(
        app.count("user_sessions WHERE user_agent = 'race'").await,
        0
    );
}

/// Every rule of the policy has its own code on the sign-up form, and a
/// 64-character passphrase is accepted untruncated (the login needs all of it).
#[tokio::test]
async fn the_password_policy_explains_each_refusal_on_the_form() {
    let app = spawn_app().await;
    let sign_up = |password: String| {
        let b = app.new_browser();
        async move {
            let res = b
                .post(
                    "/signup",
                    &[
                        ("email", "grace@example.com"),
                        ("password", password.as_str()),
                        ("nickname", "Grace Hopper"),
                        ("sex", "female"),
                        ("birthday", "1990-01-01"),
                    ],
                )
                .await;
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let cases = [
        ("             ".to_string(), "password_only_whitespace"),
        ("short pw".to_string(), "password_too_short"),
        ("x".repeat(129), "password_too_long"),
        ("98765432109876".to_string(), "password_all_digits"),
        ("qwerty12345".to_string(), "password_too_common"),
        ("1234567890a".to_string(), "password_too_common"),
        ("abcdefghijk".to_string(), "password_too_common"),
        ("grace hopper 1906".to_string(), "password_too_similar"),
    ];
    for (password, code) in cases {
        let (status, body) = sign_up(password.clone()).await;
        assert_eq!(status, 422, "{password}");
        assert!(
            body.contains(&format!("data-error-code=\"{code}\"")),
            "{password}: {code}"
        );
    }
    assert_eq!(app.count("users").await, 0);

    let passphrase = "correct horse battery staple and a violet tram that sings at 9!!";
    assert_eq!(passphrase.chars().count(), 64);
    let (status, _) = sign_up(passphrase.to_string()).await;
    assert_eq!(status, 303);
    let b = app.new_browser();
    assert_eq!(
        b.login("grace@example.com", &passphrase[..63])
            .await
            .status(),
        401
    );
    assert_eq!(b.login("grace@example.com", passphrase).await.status(), 303);
}

/// The minimum is a runtime setting: raised by staff, in force at once.
#[tokio::test]
async fn the_minimum_length_is_a_runtime_setting() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    app.state
        .runtime
        .set("password_min_length", 24, now)
        .await
        .unwrap()
        .unwrap();
    let res = app
        .browser
        .post(
            "/signup",
            &[
                ("email", "short@example.com"),
                ("password", "violet tram 42 sings"),
                ("nickname", "Shorty"),
                ("sex", "male"),
                ("birthday", "1990-01-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"password_too_short\""));
}

/// A password typed again (to change it, to turn 2FA off, for a staff
/// action) counts on the account like a failed login: each wrong one is a
/// security event, and past `lock_after_failures` in a day even the right
/// one waits, wherever it is typed.
#[tokio::test]
async fn a_re_entered_password_is_counted_like_a_login_and_waits_past_the_limit() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    app.state
        .runtime
        .set("lock_after_failures", 3, now)
        .await
        .expect("runtime")
        .expect("in range");
    let admin = crate::admin::staff(&app, "boss@example.com", "superadmin").await;
    let change = |current: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .post(
                    "/settings/password",
                    &[
                        ("current_password", current),
                        ("new_password", "another fine passphrase"),
                    ],
                )
                .await
        }
    };
    for _ in 0..3 {
        assert_eq!(change("not my password").await.status(), 422);
    }
    // A staff action's re-entered password counts on the same account.
    let res = admin
        .post(
            "/admin/settings",
            &[("rewind_daily_limit", "4"), ("password", "still not it")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        app.count("auth_events WHERE kind = 'reauth_failure'").await,
        4
    );
    let res = change(GOOD_PASSWORD).await;
    assert_eq!(res.status(), 429, "the wait is on");
    assert!(res.headers().contains_key("retry-after"));
    let res = admin
        .post(
            "/admin/settings",
            &[("rewind_daily_limit", "4"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 429);
    let fresh = app.new_browser();
    assert_ne!(
        fresh
            .login("boss@example.com", "another fine passphrase")
            .await
            .status(),
        303,
        "the password did not change"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn a_password_changed_on_one_instance_ends_other_sessions_on_the_other_at_once() {
    require_postgres_and_redis();
    let (app, b) = spawn_two().await;
    app.member(&app.browser, "two@example.com").await;
    let laptop = b.new_browser();
    assert_eq!(
        laptop
            .login("two@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    // B has just served the laptop's page: its principal is in B's cache.
    assert!(laptop.is_logged_in().await);

    let changed = std::time::Instant::now();
    let res = app
        .browser
        .change_password(GOOD_PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(res.status(), 303, "on A");
    logged_out_within_a_second(&laptop, changed, "the laptop's pages on B are refused").await;
    assert!(
        app.browser.on(&b.base).is_logged_in().await,
        "the session that changed it stays"
    );
}
