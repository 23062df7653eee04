//! Login defence: captcha after failures, shared counters, rate limits, the
//! escalating wait, and refusals that all look alike.

use crate::helpers::*;
use swiper::accounts::captcha;

fn captcha_id(html: &str) -> Option<String> {
    let marker = "name=\"captcha_id\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_string())
}

async fn answer(app: &TestApp, id: &str) -> String {
    captcha::answer(&app.state.counters, id)
        .await
        .expect("a live captcha answer in the server-side store")
}

async fn set(app: &TestApp, key: &str, value: i64) {
    let now = app.state.clock.now();
    app.state
        .runtime
        .set(key, value, now)
        .await
        .unwrap()
        .unwrap();
}

/// A login attempt; the form as answered.
async fn attempt(
    b: &Browser,
    email: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let res = b.login_with(email, password, extra).await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn three_failures_ask_for_a_captcha_that_is_single_use_and_resets_on_success() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "ada@example.com").await;
    let b = app.new_browser();
    let mut last = String::new();
    for i in 1..=3 {
        let (status, body) = attempt(&b, "ada@example.com", "wrong password!", &[]).await;
        assert_eq!(status, 401);
        assert!(body.contains("data-error-code=\"invalid_credentials\""));
        assert_eq!(
            captcha_id(&body).is_some(),
            i == 3,
            "captcha from the 3rd failure on"
        );
        last = body;
    }
    let id = captcha_id(&last).unwrap();
    let png = b.get(&format!("/captcha/{id}.png")).await;
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // The right password without the captcha is refused.
    let (status, body) = attempt(&b, "ada@example.com", GOOD_PASSWORD, &[]).await;
    assert_eq!(status, 401);
    assert!(
        body.contains("data-error-code=\"captcha_required\""),
        "{body}"
    );
    // With a wrong answer.
    let id = captcha_id(&body).unwrap();
    let (status, body) = attempt(
        &b,
        "ada@example.com",
        GOOD_PASSWORD,
        &[("captcha_id", &id), ("captcha", "zzzzz")],
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body.contains("data-error-code=\"captcha_invalid\""),
        "{body}"
    );
    // With an answer already used (by a failed attempt).
    let id = captcha_id(&body).unwrap();
    let right = answer(&app, &id).await;
    attempt(
        &b,
        "ada@example.com",
        "wrong again!!",
        &[("captcha_id", &id), ("captcha", &right)],
    )
    .await;
    let (status, body) = attempt(
        &b,
        "ada@example.com",
        GOOD_PASSWORD,
        &[("captcha_id", &id), ("captcha", &right)],
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body.contains("data-error-code=\"captcha_invalid\""),
        "{body}"
    );
    assert!(!b.is_logged_in().await);

    // The right answer (case does not matter) and the right password.
    let id = captcha_id(&body).unwrap();
    let right = answer(&app, &id).await.to_uppercase();
    let res = b
        .login_with(
            "ada@example.com",
            GOOD_PASSWORD,
            &[("captcha_id", &id), ("captcha", &right)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(b.is_logged_in().await);

    // The account's counter started again: one failure asks for no captcha.
    let other = app.new_browser();
    let (_, body) = attempt(&other, "ada@example.com", "wrong password!", &[]).await;
    assert!(
        captcha_id(&body).is_none(),
        "the counter was reset by the success"
    );
}

#[tokio::test]
async fn ten_failures_from_one_ip_ask_every_login_from_it_for_a_captcha() {
    let app = spawn_app().await;
    let b = app.new_browser();
    assert!(captcha_id(&b.html("/login").await).is_none());
    for i in 0..10 {
        attempt(
            &b,
            &format!("nobody{i}@example.com"),
            "wrong password!",
            &[],
        )
        .await;
    }
    assert!(
        captcha_id(&b.html("/login").await).is_some(),
        "the IP is asked"
    );
    let (status, body) = attempt(
        &app.new_browser(),
        "fresh@example.com",
        "whatever password",
        &[],
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body.contains("data-error-code=\"captcha_required\""),
        "{body}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn two_instances_share_the_failure_counters() {
    require_postgres_and_redis();
    let (a, b) = spawn_two().await;
    a.member(&a.new_browser(), "bo@example.com").await;
    let on_a = a.new_browser();
    let on_b = on_a.on(&b.base);
    attempt(&on_a, "bo@example.com", "wrong password!", &[]).await;
    attempt(&on_a, "bo@example.com", "wrong password!", &[]).await;
    // The third failure, counted on the other instance, reaches the threshold.
    let (_, body) = attempt(&on_b, "bo@example.com", "wrong password!", &[]).await;
    assert!(captcha_id(&body).is_some(), "{body}");
    let (_, body) = attempt(&on_a, "bo@example.com", GOOD_PASSWORD, &[]).await;
    assert!(body.contains("data-error-code=\"captcha_required\""));
}

async fn assert_limited(res: reqwest::Response) {
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body = res.text().await.unwrap();
    assert!(body.contains("data-error-code=\"rate_limited\""), "{body}");
}

#[tokio::test]
async fn floods_on_login_signup_and_reset_get_429_with_retry_after() {
    let app = spawn_app().await;
    for key in [
        "rate_login_per_ip",
        "rate_signup_per_ip",
        "rate_reset_per_ip",
    ] {
        set(&app, key, 3).await;
    }
    let b = app.new_browser();
    for i in 0..3 {
        let email = format!("flood{i}@example.com");
        assert_eq!(b.login(&email, "wrong password!").await.status(), 401);
    }
    assert_limited(b.login("another@example.com", "wrong password!").await).await;

    let signup = |i: usize| {
        let b = b.clone();
        async move {
            let email = format!("new{i}@example.com");
            b.post(
                "/signup",
                &[
                    ("email", email.as_str()),
                    ("password", GOOD_PASSWORD),
                    ("nickname", "New"),
                    ("sex", "male"),
                    ("birthday", "1990-01-01"),
                ],
            )
            .await
        }
    };
    for i in 0..3 {
        assert_eq!(signup(i).await.status(), 303);
    }
    assert_limited(signup(9).await).await;

    for i in 0..3 {
        let email = format!("reset{i}@example.com");
        assert_eq!(
            b.post("/password-reset", &[("email", &email)])
                .await
                .status(),
            303
        );
    }
    assert_limited(
        b.post("/password-reset", &[("email", "x@example.com")])
            .await,
    )
    .await;
    // JSON when asked.
    let res = b
        .client
        .post(b.url("/password-reset"))
        .header("accept", "application/json")
        .form(&[("email", "y@example.com"), ("csrf_token", &b.csrf().await)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["error"]["code"], "rate_limited", "{json}");
}

#[tokio::test]
async fn a_forged_forwarded_header_does_not_change_the_bucket() {
    // No trusted proxy: the peer address is the key, whatever the headers say.
    let app = spawn_app().await;
    set(&app, "rate_login_per_ip", 3).await;
    for i in 0..3 {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            format!("198.51.100.{i}").parse().unwrap(),
        );
        h.insert("x-real-ip", format!("198.51.100.{i}").parse().unwrap());
        let b = Browser::with_headers(&app.base, h);
        assert_eq!(
            b.login("a@example.com", "wrong password!").await.status(),
            401
        );
    }
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-forwarded-for", "203.0.113.99".parse().unwrap());
    assert_limited(
        Browser::with_headers(&app.base, h)
            .login("a@example.com", "wrong password!")
            .await,
    )
    .await;
}

#[tokio::test]
async fn an_ipv6_64_shares_one_bucket() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    set(&app, "rate_login_per_ip", 3).await;
    let from = |ip: &str| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-real-ip", ip.parse().unwrap());
        Browser::with_headers(&app.base, h)
    };
    for i in 1..=3 {
        let b = from(&format!("2001:db8:1:2::{i}"));
        assert_eq!(
            b.login("a@example.com", "wrong password!").await.status(),
            401
        );
    }
    assert_limited(
        from("2001:db8:1:2:ffff::9")
            .login("a@example.com", "wrong password!")
            .await,
    )
    .await;
    // The next /64 is another subscriber.
    let res = from("2001:db8:1:3::1")
        .login("a@example.com", "wrong password!")
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn beyond_ten_failures_the_wait_engages_is_mailed_and_a_reset_lifts_it() {
    let app = spawn_app().await;
    // Captchas out of the way: this is about the wait.
    set(&app, "captcha_after_failures", 100).await;
    set(&app, "captcha_after_ip_failures", 1000).await;
    app.member(&app.new_browser(), "cy@example.com").await;
    let b = app.new_browser();
    for _ in 0..11 {
        assert_eq!(
            attempt(&b, "cy@example.com", "wrong password!", &[])
                .await
                .0,
            401
        );
    }
    let mail = app.mail.next_mail().await;
    assert!(mail.contains("Several failed logins"), "{mail}");
    // Waiting now: even the right password is refused, exactly like a wrong one.
    let locked = attempt(&b, "cy@example.com", GOOD_PASSWORD, &[]).await;
    assert_eq!(locked.0, 401);
    let app = &app;
    let count = |kind| {
        let id_email = "cy@example.com";
        async move {
            app.db(move |c| {
                let user = swiper::auth::User::find_by_email(c, id_email)?.unwrap();
                swiper::auth::events::count(c, user.id, kind)
            })
            .await
        }
    };
    assert_eq!(count(swiper::auth::events::AuthEvent::Locked).await, 1);
    assert!(count(swiper::auth::events::AuthEvent::LoginFailure).await >= 11);

    // A completed reset lifts it.
    b.post("/password-reset", &[("email", "cy@example.com")])
        .await;
    let link = link_in(
        &app.mail.next_mail().await,
        "/password-reset/confirm?token=",
    );
    let path = link.trim_start_matches(&app.base).to_string();
    let res = b
        .post(&path, &[("password", "a brand new passphrase")])
        .await;
    assert_eq!(res.status(), 303);
    let res = b.login("cy@example.com", "a brand new passphrase").await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_locked_account_an_unknown_email_and_a_wrong_password_answer_alike() {
    let app = spawn_app().await;
    set(&app, "captcha_after_failures", 100).await;
    set(&app, "captcha_after_ip_failures", 1000).await;
    set(&app, "rate_login_per_email", 1000).await;
    set(&app, "rate_login_per_ip", 1000).await;
    app.member(&app.new_browser(), "locked@example.com").await;
    app.member(&app.new_browser(), "plain@example.com").await;
    app.member(&app.new_browser(), "imported@example.com").await;
    // An account imported from Django with more iterations than configured.
    let slow = swiper::security::password::hash(
        GOOD_PASSWORD,
        TEST_ITERATIONS.parse::<u32>().unwrap() * 10,
    );
    app.db(move |c| {
        use diesel::prelude::*;
        use swiper::db::schema::users;
        diesel::update(users::table.filter(users::email.eq("imported@example.com")))
            .set(users::password_hash.eq(slow))
            .execute(c)
    })
    .await;
    let b = app.new_browser();
    for _ in 0..11 {
        attempt(&b, "locked@example.com", "wrong password!", &[]).await;
    }
    let locked = attempt(&b, "locked@example.com", GOOD_PASSWORD, &[]).await;
    let unknown = attempt(&b, "nobody@example.com", GOOD_PASSWORD, &[]).await;
    let wrong = attempt(&b, "plain@example.com", "not the password", &[]).await;
    let imported = attempt(&b, "imported@example.com", "not the password", &[]).await;
    assert_eq!(locked.0, 401);
    assert_eq!(locked, unknown);
    assert_eq!(unknown, wrong);
    assert_eq!(wrong, imported);
}

#[tokio::test]
async fn the_sessions_page_shows_recent_security_activity() {
    let app = spawn_app().await;
    let b = app.new_browser();
    let link = app.sign_up(&b, "ev@example.com", "Ev").await;
    b.get(&link).await;
    assert_eq!(
        b.login("ev@example.com", "wrong password!").await.status(),
        401
    );
    assert_eq!(b.login("ev@example.com", GOOD_PASSWORD).await.status(), 303);
    let page = b.html("/settings/sessions").await;
    assert!(page.contains("Recent security activity"), "{page}");
    let failure = page
        .find("data-event=\"login_failure\"")
        .expect("the failure is listed");
    let success = page
        .find("data-event=\"login_success\"")
        .expect("the login is listed");
    assert!(success < failure, "newest first");
    assert!(!page.contains("wrong password!"), "no secret is recorded");
}

/// A page view stores no captcha answer: the form of an address past its
/// threshold carries a fresh id, the answer is made when the image is asked
/// for, and one address makes only a handful of answers at a time.
#[tokio::test]
async fn login_page_views_store_no_captcha_and_one_address_makes_only_a_handful() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "ada@example.com").await;
    let b = app.new_browser();
    for i in 0..10 {
        let email = format!("nobody{i}@example.com");
        attempt(&b, &email, "wrong password!", &[]).await;
    }
    let mut viewed = Vec::new();
    for _ in 0..30 {
        viewed.push(captcha_id(&b.html("/login").await).expect("the IP is asked"));
    }
    for id in &viewed {
        assert!(
            captcha::answer(&app.state.counters, id).await.is_none(),
            "a page view stored an answer"
        );
    }
    // The image makes the answer, and the form works with it.
    let png = b.get(&format!("/captcha/{}.png", viewed[0])).await;
    assert_eq!(png.status(), 200);
    let right = answer(&app, &viewed[0]).await;
    let (status, _) = attempt(
        &b,
        "ada@example.com",
        GOOD_PASSWORD,
        &[("captcha_id", &viewed[0]), ("captcha", &right)],
    )
    .await;
    assert_eq!(status, 303);
    // At most a handful of live answers per address (the refused logins
    // above made some of them).
    let mut refused = 0;
    for id in &viewed[1..] {
        let png = b.get(&format!("/captcha/{id}.png")).await;
        match png.status().as_u16() {
            200 => {}
            429 => refused += 1,
            other => panic!("captcha image answered {other}"),
        }
    }
    assert!(refused >= 29 - captcha::LIVE_PER_IP as usize, "{refused}");
}
