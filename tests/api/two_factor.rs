//! TOTP two-factor: enrolment, the second login step, single use of codes,
//! recovery codes, turning it off, and the staff gate.

use swiper::clock::Clock;
use swiper::security::otp;

use crate::helpers::*;

fn noon() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a date")
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).map(|i| i + start.len()).expect(start);
    let len = html[from..].find(end).expect(end);
    &html[from..from + len]
}

fn code_now(clock: &Clock, secret: &[u8]) -> String {
    otp::code_at(secret, clock.now().and_utc().timestamp())
}

/// Enrols the logged-in member of `b`; returns the secret and the recovery codes.
async fn enrol(b: &Browser, clock: &Clock) -> (Vec<u8>, Vec<String>) {
    let page = b.html("/settings/2fa").await;
    let secret_text = between(&page, "data-totp-secret>", "<").to_string();
    let secret = otp::base32_decode(&secret_text).expect("a base32 secret");
    let qr = b.get("/settings/2fa/qr.svg").await;
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));

    let res = b.post("/settings/2fa", &[("code", "000000")]).await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"invalid_code\""));

    let res = b
        .post("/settings/2fa", &[("code", &code_now(clock, &secret))])
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let codes: Vec<String> = between(&page, "data-recovery-codes>", "</ul>")
        .split("<code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(b
        .html("/settings/2fa")
        .await
        .contains("data-two-factor=\"on\""));
    (secret, codes)
}

#[tokio::test]
async fn a_member_enrols_and_logs_in_with_a_code_that_works_once() {
    let clock = Clock::manual(noon());
    let app = spawn_app_with_clock(clock.clone()).await;
    app.member(&app.browser, "tia@example.com").await;
    let (secret, _) = enrol(&app.browser, &clock).await;
    let stored = app
        .db(|c| {
            use diesel::prelude::*;
            use swiper::db::schema::users;
            users::table
                .filter(users::email.eq("tia@example.com"))
                .select(users::totp_secret)
                .first::<Option<String>>(c)
        })
        .await
        .expect("a stored secret");
    assert!(stored.starts_with("v1."), "sealed");
    assert!(!stored.contains(&otp::base32_encode(&secret)));

    let b = app.new_browser();
    let res = b.login("tia@example.com", GOOD_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login/2fa");
    assert!(!b.is_logged_in().await, "not before the second step");
    assert!(b.html("/login/2fa").await.contains("name=\"code\""));

    // The code used to enrol is spent.
    let res = b
        .post("/login/2fa", &[("code", &code_now(&clock, &secret))])
        .await;
    assert_eq!(res.status(), 401);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"invalid_code\""));

    clock.advance(chrono::TimeDelta::seconds(30));
    let code = code_now(&clock, &secret);
    let res = b.post("/login/2fa", &[("code", &code)]).await;
    assert_eq!(res.status(), 303);
    assert!(b.is_logged_in().await);

    // The same code again, in another browser: refused.
    let other = app.new_browser();
    other.login("tia@example.com", GOOD_PASSWORD).await;
    let res = other.post("/login/2fa", &[("code", &code)]).await;
    assert_eq!(res.status(), 401);
    assert!(!other.is_logged_in().await);
    // The next step's code works.
    clock.advance(chrono::TimeDelta::seconds(30));
    let res = other
        .post("/login/2fa", &[("code", &code_now(&clock, &secret))])
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_recovery_code_works_once_and_2fa_turns_off_with_password_and_code() {
    let clock = Clock::manual(noon());
    let app = spawn_app_with_clock(clock.clone()).await;
    app.member(&app.browser, "rex@example.com").await;
    let (secret, codes) = enrol(&app.browser, &clock).await;

    let b = app.new_browser();
    b.login("rex@example.com", GOOD_PASSWORD).await;
    let res = b
        .post("/login/2fa", &[("code", &codes[0].to_uppercase())])
        .await;
    assert_eq!(res.status(), 303);
    assert!(b.is_logged_in().await);

    let c = app.new_browser();
    c.login("rex@example.com", GOOD_PASSWORD).await;
    let res = c.post("/login/2fa", &[("code", &codes[0])]).await;
    assert_eq!(res.status(), 401, "a recovery code works once");
    let res = c.post("/login/2fa", &[("code", &codes[1])]).await;
    assert_eq!(res.status(), 303);

    // Off: needs the password and a code.
    clock.advance(chrono::TimeDelta::seconds(30));
    let res = b
        .post(
            "/settings/2fa/disable",
            &[
                ("password", "wrong password!"),
                ("code", &code_now(&clock, &secret)),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = b
        .post(
            "/settings/2fa/disable",
            &[
                ("password", GOOD_PASSWORD),
                ("code", &code_now(&clock, &secret)),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let d = app.new_browser();
    let res = d.login("rex@example.com", GOOD_PASSWORD).await;
    assert_eq!(location(&res), "/discover", "no second step any more");
}

#[tokio::test]
async fn staff_without_two_factor_are_sent_to_enrolment_by_the_guard() {
    let clock = Clock::manual(noon());
    let app = spawn_app_with_clock(clock.clone()).await;
    app.member(&app.browser, "staff@example.com").await;
    let member = app.new_browser();
    app.member(&member, "member@example.com").await;
    app.db(|c| {
        let user = swiper::auth::User::find_by_email(c, "staff@example.com")?.expect("staff");
        swiper::auth::rbac::assign(c, user.id, "superadmin", chrono::Utc::now().naive_utc())
    })
    .await;

    assert_eq!(
        app.new_browser().get("/admin").await.status(),
        404,
        "visitor"
    );
    assert_eq!(member.get("/admin").await.status(), 404, "member");
    let res = app.browser.get("/admin/users").await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/settings/2fa"));

    let (secret, _) = enrol(&app.browser, &clock).await;
    assert_eq!(app.browser.get("/admin").await.status(), 200);

    // Optional rotation: with a 90-day period, an older password must change first.
    let now = app.state.clock.now();
    app.state
        .runtime
        .set("staff_password_max_age_days", 90, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.browser.get("/admin").await.status(),
        200,
        "a fresh password"
    );
    clock.advance(chrono::TimeDelta::days(91));
    let b = app.new_browser();
    assert_eq!(
        location(&b.login("staff@example.com", GOOD_PASSWORD).await),
        "/login/2fa"
    );
    let res = b
        .post("/login/2fa", &[("code", &code_now(&clock, &secret))])
        .await;
    assert_eq!(res.status(), 303);
    let res = b.get("/admin").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/settings?notice=staff_password_expired");
}
