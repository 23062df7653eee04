use crate::helpers::*;

#[tokio::test]
async fn a_member_signs_up_verifies_by_mail_logs_in_and_out_and_the_old_cookie_is_dead() {
    let app = spawn_app().await;
    let browser = &app.browser;

    // Sign up: the verification mail reaches a real SMTP server.
    let link = app.sign_up(browser, "Ada@Example.com", "Ada").await;
    assert!(link.starts_with(&app.base), "{link}");

    // The link verifies the address, once.
    let page = browser.html(&link).await;
    assert!(page.contains("data-testid=\"email-verified\""), "{page}");
    let again = browser.get(&link).await;
    assert_error(again, 400, "invalid_token").await;

    // Log in (the email was normalised at sign-up) and see a logged-in page.
    let res = browser.login("ada@example.com", GOOD_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/discover");
    let discover = browser.html("/discover").await;
    assert!(discover.contains("Welcome, Ada!"), "{discover}");
    assert!(
        !discover.contains("email_not_verified"),
        "a verified member sees no banner"
    );

    // Keep the cookie as it was before logging out.
    let cookie = browser.cookie("swiper_session").expect("a session cookie");
    let res = browser.post("/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(!browser.is_logged_in().await);

    // Replaying the pre-logout cookie in another client does not authenticate.
    assert!(!cookie_is_logged_in(&app.base, &cookie).await);
}

#[tokio::test]
async fn login_renews_the_session_so_a_cookie_planted_before_login_stays_anonymous() {
    let app = spawn_app().await;
    app.member(&app.browser, "bea@example.com").await;
    app.browser.post("/logout", &[]).await;

    // Visitors get no session; an attacker plants a session cookie of their
    // own (one that was valid once) in the victim's browser.
    let attacker = app.new_browser();
    attacker.login("bea@example.com", GOOD_PASSWORD).await;
    let before = attacker.cookie("swiper_session").expect("a session cookie");
    attacker.post("/logout", &[]).await;
    let browser = app.new_browser();
    let url = url::Url::parse(&app.base).unwrap();
    browser
        .jar
        .add_cookie_str(&format!("swiper_session={before}; Path=/"), &url);
    browser.csrf().await;
    assert!(
        browser.cookie("swiper_session").is_some(),
        "the planted cookie is sent"
    );
    let res = browser.login("bea@example.com", GOOD_PASSWORD).await;
    assert_eq!(res.status(), 303);
    let after = browser.cookie("swiper_session").expect("a session cookie");
    assert_ne!(before, after, "login sets a new session cookie");
    assert!(browser.is_logged_in().await);

    // An attacker who planted (or read) the pre-login cookie gets nothing.
    assert!(
        !cookie_is_logged_in(&app.base, &before).await,
        "the pre-login session id must not be logged in"
    );
    assert!(cookie_is_logged_in(&app.base, &after).await);
}

#[tokio::test]
async fn logging_in_again_in_the_same_browser_replaces_its_session() {
    let app = spawn_app().await;
    app.member(&app.browser, "rep@example.com").await;
    assert_eq!(
        app.browser
            .login("rep@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    let page = app.browser.html("/settings/sessions").await;
    assert_eq!(page.matches("data-session=").count(), 1, "{page}");
}

#[tokio::test]
async fn a_member_whose_session_was_revoked_can_log_in_again_from_the_same_tab() {
    let app = spawn_app().await;
    app.member(&app.browser, "tab@example.com").await;
    let other = app.new_browser();
    other.login("tab@example.com", GOOD_PASSWORD).await;
    other.post("/settings/sessions/revoke-others", &[]).await;
    assert!(!app.browser.is_logged_in().await);
    // The login form shown now works (its CSRF token survived the revocation).
    let res = app.browser.login("tab@example.com", GOOD_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert!(app.browser.is_logged_in().await);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.member(&app.browser, "cyd@example.com").await;
    let browser = app.new_browser();
    let wrong = browser
        .login("cyd@example.com", "not the password at all")
        .await;
    let (s1, b1) = (wrong.status(), wrong.text().await.unwrap());
    let unknown = browser
        .login("nobody@example.com", "not the password at all")
        .await;
    let (s2, b2) = (unknown.status(), unknown.text().await.unwrap());
    assert_eq!(s1, s2);
    assert_eq!(b1, b2);
    assert!(
        b1.contains("data-error-code=\"invalid_credentials\""),
        "{b1}"
    );
    assert!(b1.contains("Invalid email or password."));
    assert!(!browser.is_logged_in().await);
}

#[tokio::test]
async fn signing_up_with_a_registered_email_looks_like_a_new_sign_up_and_mails_the_owner() {
    let app = spawn_app().await;
    app.sign_up(&app.browser, "dee@example.com", "Dee").await;
    let app = &app;
    let sign_up = |email: &'static str| async move {
        app.new_browser()
            .post(
                "/signup",
                &[
                    ("email", email),
                    ("password", GOOD_PASSWORD),
                    ("nickname", "Dee again"),
                    ("sex", "female"),
                    ("birthday", "1991-01-01"),
                ],
            )
            .await
    };
    let taken = sign_up(" DEE@example.com ").await;
    let taken = (taken.status(), location(&taken));
    let owner_mail = app.mail.next_mail().await;
    let fresh = sign_up("fay@example.com").await;
    assert_eq!(taken, (fresh.status(), location(&fresh)), "the same answer");
    assert_eq!(taken.0, 303);
    assert!(
        owner_mail.contains("dee@example.com")
            && owner_mail.contains("tried to create a new Swiper account"),
        "{owner_mail}"
    );
    assert!(
        !owner_mail.contains("token="),
        "the warning carries no link token"
    );
    // The existing account is untouched and no second one appeared.
    assert_eq!(app.count("users").await, 2);
    assert!(
        app.browser
            .login("dee@example.com", GOOD_PASSWORD)
            .await
            .status()
            == 303
    );
}

#[tokio::test]
async fn concurrent_sign_ups_with_one_email_create_one_account() {
    let app = spawn_app().await;
    let attempt = |b: Browser| async move {
        b.post(
            "/signup",
            &[
                ("email", "race@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "Racer"),
                ("sex", "male"),
                ("birthday", "1990-02-02"),
            ],
        )
        .await
        .status()
    };
    let (a, b) = tokio::join!(attempt(app.new_browser()), attempt(app.new_browser()));
    // Both look like a sign-up (a registered address answers as a new one).
    assert_eq!([a.as_u16(), b.as_u16()], [303, 303]);
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("jobs WHERE kind = 'mail.verify_email'").await, 1);
}

#[tokio::test]
async fn remember_me_makes_the_session_cookie_outlive_the_browser() {
    let app = spawn_app().await;
    app.member(&app.browser, "eve@example.com").await;
    app.browser.post("/logout", &[]).await;

    let remembered = app
        .new_browser()
        .login_with("eve@example.com", GOOD_PASSWORD, &[("remember", "on")])
        .await;
    assert_eq!(remembered.status(), 303);
    let cookies = set_cookies(&remembered);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("swiper_session=") && c.contains("Max-Age=")),
        "{cookies:?}"
    );

    let plain = app
        .new_browser()
        .login("eve@example.com", GOOD_PASSWORD)
        .await;
    let cookies = set_cookies(&plain);
    assert!(
        cookies.iter().any(|c| c.starts_with("swiper_session=")),
        "{cookies:?}"
    );
    assert!(
        !cookies.iter().any(|c| c.contains("Max-Age=")),
        "without remember me the cookie ends with the browser: {cookies:?}"
    );
}

#[tokio::test]
async fn an_unverified_member_can_log_in_is_asked_to_verify_and_resending_has_a_cool_down() {
    let app = spawn_app().await;
    app.sign_up(&app.browser, "fay@example.com", "Fay").await;
    assert_eq!(
        app.browser
            .login("fay@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    let page = app.browser.html("/discover").await;
    assert!(
        page.contains("data-error-code=\"email_not_verified\""),
        "{page}"
    );

    // Sign-up just sent a mail: an immediate resend is refused with Retry-After.
    let res = app.browser.post("/verify-email/resend", &[]).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"rate_limited\""));
}

#[tokio::test]
async fn resending_after_the_cool_down_sends_a_new_link_that_verifies() {
    let app = spawn_app_with(&[("MAIL_COOLDOWN", "0")]).await;
    let first = app.sign_up(&app.browser, "gus@example.com", "Gus").await;
    app.browser.login("gus@example.com", GOOD_PASSWORD).await;
    let res = app.browser.post("/verify-email/resend", &[]).await;
    assert_eq!(res.status(), 303);
    let second = link_in(&app.mail.next_mail().await, "/verify-email?token=");
    assert_ne!(first, second);
    assert_eq!(app.browser.get(&second).await.status(), 200);
    let settings = app.browser.html("/settings").await;
    assert!(settings.contains("Email verified"), "{settings}");
}
