use crate::helpers::*;

/// Every state-changing form, with fields that would otherwise succeed.
fn forms() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "/signup",
            vec![
                ("email", "new@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "New"),
                ("sex", "male"),
                ("birthday", "1990-01-01"),
            ],
        ),
        (
            "/login",
            vec![("email", "member@example.com"), ("password", GOOD_PASSWORD)],
        ),
        ("/logout", vec![]),
        ("/password-reset", vec![("email", "member@example.com")]),
        ("/verify-email/resend", vec![]),
        (
            "/settings/password",
            vec![
                ("current_password", GOOD_PASSWORD),
                ("new_password", "another fine passphrase"),
            ],
        ),
        ("/settings/language", vec![("language", "en")]),
        ("/settings/sessions/revoke-others", vec![]),
    ]
}

async fn snapshot(app: &TestApp) -> [i64; 4] {
    [
        app.count("users").await,
        app.count("user_sessions").await,
        app.count("jobs WHERE kind LIKE 'mail.%'").await,
        app.count("account_tokens").await,
    ]
}

#[tokio::test]
async fn a_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.member(&app.browser, "member@example.com").await;
    let other = app.new_browser();
    other.login("member@example.com", GOOD_PASSWORD).await;
    let before = snapshot(&app).await;
    let page = app.browser.html("/settings/sessions").await;
    let handle = page
        .split("data-session=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_string())
        .find(|h| page.contains(&format!("/settings/sessions/{h}/revoke")))
        .expect("the other session has a revoke form");
    let revoke_one: &'static str =
        Box::leak(format!("/settings/sessions/{handle}/revoke").into_boxed_str());
    let mut all = forms();
    all.push((revoke_one, vec![]));
    for (path, fields) in all {
        for browser in [&app.browser, &app.new_browser()] {
            browser.csrf().await;
            let res = browser.post_raw(path, &fields).await;
            assert_eq!(res.status(), 403, "{path}");
            let h = res.headers();
            assert!(
                h.get("content-security-policy").is_some() && h.get("x-request-id").is_some(),
                "{path}: refusals carry the security headers"
            );
            assert_eq!(h.get("cache-control").unwrap(), "no-store");
            let body = res.text().await.unwrap();
            assert!(
                body.contains("data-error-code=\"csrf_failed\""),
                "{path}: {body}"
            );
        }
    }
    assert_eq!(snapshot(&app).await, before);
    assert!(
        app.browser.is_logged_in().await,
        "logout without a token did nothing"
    );
    assert!(
        other.is_logged_in().await,
        "revoke-others without a token did nothing"
    );
}

#[tokio::test]
async fn a_wrong_token_or_another_sessions_token_is_refused() {
    let app = spawn_app().await;
    app.member(&app.browser, "member@example.com").await;
    let attacker = app.new_browser();
    let attackers_token = attacker.csrf().await;
    for token in ["", "nope", attackers_token.as_str()] {
        let res = app
            .browser
            .post_raw("/logout", &[("csrf_token", token)])
            .await;
        assert_eq!(res.status(), 403);
    }
    assert!(app.browser.is_logged_in().await);
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_even_with_a_token() {
    let app = spawn_app().await;
    app.member(&app.browser, "member@example.com").await;
    let res = logout_from(&app.browser, "https://evil.example").await;
    assert_eq!(res.status(), 403);
    assert!(app.browser.is_logged_in().await);

    // The same request from our own origin goes through.
    let res = logout_from(&app.browser, &app.base).await;
    assert_eq!(res.status(), 303);
    assert!(!app.browser.is_logged_in().await);
}

#[tokio::test]
async fn the_token_may_come_in_the_x_csrf_token_header() {
    let app = spawn_app().await;
    app.member(&app.browser, "member@example.com").await;
    let token = app.browser.csrf().await;
    let res = app
        .browser
        .client
        .post(app.browser.url("/logout"))
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(!app.browser.is_logged_in().await);
}

/// Keys the app under test has in Redis (0 without Redis).
async fn redis_keys(app: &TestApp) -> usize {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        return 0;
    };
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let pattern = format!("{}:*", app.state.settings.redis.prefix);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.len()
}

#[tokio::test]
async fn a_thousand_anonymous_page_views_leave_no_state_on_the_server() {
    let app = spawn_app().await;
    let tables = [
        "users",
        "user_sessions",
        "account_tokens",
        "jobs",
        "runtime_settings",
    ];
    // The worker's start-time run (the daily statistics) is enqueued once,
    // at its own pace: it is there before counting, so it is not counted
    // as the visitors' doing.
    wait_until("the start-time statistics job is queued", || async {
        app.count("jobs WHERE kind = 'admin.daily_stats'").await > 0
    })
    .await;
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }
    let keys_before = redis_keys(&app).await;
    // No cookie jar: every request is a new visitor, as in a flood.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pages = ["/", "/login", "/signup", "/password-reset"];
    for i in 0..1000 {
        let res = client
            .get(format!("{}{}", app.base, pages[i % pages.len()]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            !set_cookies(&res)
                .iter()
                .any(|c| c.starts_with("swiper_session=")),
            "no session cookie for a visitor"
        );
        if (1..4).contains(&i) {
            let body = res.text().await.unwrap();
            assert!(!csrf_in(&body).is_empty(), "the form still has a token");
        }
    }
    let mut after = Vec::new();
    for t in tables {
        after.push(app.count(t).await);
    }
    assert_eq!(after, before, "no row written");
    assert_eq!(redis_keys(&app).await, keys_before, "no key in Redis");
}

#[tokio::test]
async fn anonymous_forms_work_and_refuse_a_token_from_another_browser() {
    let app = spawn_app().await;
    let link = app
        .sign_up(&app.browser, "member@example.com", "Member")
        .await;
    assert_eq!(app.browser.get(&link).await.status(), 200);

    let victim = app.new_browser();
    let attacker = app.new_browser();
    let attackers_token = attacker.csrf().await;
    victim.csrf().await;
    let fields = [
        ("email", "member@example.com"),
        ("password", GOOD_PASSWORD),
        ("csrf_token", attackers_token.as_str()),
    ];
    let res = victim.post_raw("/login", &fields).await;
    assert_error(res, 403, "csrf_failed").await;
    // A browser with no cookie at all, holding someone else's token.
    let res = app.new_browser().post_raw("/login", &fields).await;
    assert_error(res, 403, "csrf_failed").await;
    assert!(!victim.is_logged_in().await);

    // The victim's own form works, and the token changes at login.
    let before = victim.csrf().await;
    let res = victim.login("member@example.com", GOOD_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert!(victim.is_logged_in().await);
    assert_ne!(
        victim.csrf().await,
        before,
        "the token is bound to the session"
    );
}

#[tokio::test]
async fn on_https_the_cookies_take_the_host_prefix() {
    let app = spawn_app_with(&[("BASE_URL", "https://swiper.example")]).await;
    assert_eq!(
        swiper::web::session_cookie_name(&app.state.settings),
        "__Host-swiper_session"
    );
    let res = app.browser.get("/login").await;
    let cookies = set_cookies(&res);
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("__Host-swiper_csrf="))
        .expect("the CSRF cookie carries the __Host- prefix");
    assert!(csrf.contains("Secure") && csrf.contains("Path=/"), "{csrf}");
    assert!(!csrf.contains("Domain="), "{csrf}");
}
