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
