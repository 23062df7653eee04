use diesel::prelude::*;
use swiper::db::schema::account_tokens;

use crate::helpers::*;

async fn request_reset(app: &TestApp, email: &str) -> String {
    let res = app
        .new_browser()
        .post("/password-reset", &[("email", email)])
        .await;
    assert_eq!(res.status(), 303);
    link_in(
        &app.mail.next_mail().await,
        "/password-reset/confirm?token=",
    )
}

async fn choose_password(browser: &Browser, link: &str, password: &str) -> reqwest::Response {
    let page = browser.get(link).await;
    assert_eq!(page.status(), 200, "the reset page opens");
    let token = csrf_in(&page.text().await.unwrap());
    browser
        .post_raw(link, &[("password", password), ("csrf_token", &token)])
        .await
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_logs_out_every_session() {
    let app = spawn_app().await;
    app.member(&app.browser, "rita@example.com").await;
    let phone = app.new_browser();
    phone.login("rita@example.com", GOOD_PASSWORD).await;
    assert!(phone.is_logged_in().await);

    let link = request_reset(&app, "rita@example.com").await;
    let browser = app.new_browser();
    let res = choose_password(&browser, &link, "correct battery staple horse").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?notice=password_reset_done");

    assert!(!app.browser.is_logged_in().await, "sessions end at a reset");
    assert!(!phone.is_logged_in().await, "sessions end at a reset");
    assert_eq!(
        browser
            .login("rita@example.com", "correct battery staple horse")
            .await
            .status(),
        303
    );

    // The link works once.
    let again = app.new_browser().get(&link).await;
    assert_error(again, 400, "invalid_token").await;
    let token = app.new_browser();
    let csrf = token.csrf().await;
    let res = token
        .post_raw(
            &link,
            &[
                ("password", "yet another long phrase"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        app.new_browser()
            .login("rita@example.com", "yet another long phrase")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn an_expired_reset_link_is_refused() {
    let app = spawn_app().await;
    app.member(&app.browser, "sam@example.com").await;
    let link = request_reset(&app, "sam@example.com").await;
    app.db(|c| {
        diesel::update(account_tokens::table)
            .set(
                account_tokens::expires_at
                    .eq(swiper::clock::Clock::system().now() - chrono::TimeDelta::minutes(1)),
            )
            .execute(c)
    })
    .await;
    let res = app.new_browser().get(&link).await;
    assert_error(res, 400, "invalid_token").await;
    assert!(app.browser.is_logged_in().await, "nothing changed");
    let browser = app.new_browser();
    let csrf = browser.csrf().await;
    let res = browser
        .post_raw(
            &link,
            &[("password", "a new long passphrase"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        app.new_browser()
            .login("sam@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn a_second_reset_request_within_the_cool_down_sends_no_second_mail() {
    let app = spawn_app().await;
    app.member(&app.browser, "vic@example.com").await;
    request_reset(&app, "vic@example.com").await;
    let again = app
        .new_browser()
        .post("/password-reset", &[("email", "vic@example.com")])
        .await;
    assert_eq!(again.status(), 303, "the answer is the same");
    assert_eq!(
        app.count("jobs WHERE kind = 'mail.password_reset'").await,
        1
    );
}

#[tokio::test]
async fn changing_the_password_voids_outstanding_reset_links() {
    let app = spawn_app().await;
    app.member(&app.browser, "wes@example.com").await;
    let link = request_reset(&app, "wes@example.com").await;
    let res = app
        .browser
        .change_password(GOOD_PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.new_browser().get(&link).await.status(), 400);
}

#[tokio::test]
async fn asking_for_a_reset_answers_the_same_for_unknown_addresses_and_sends_nothing() {
    let app = spawn_app().await;
    app.member(&app.browser, "tom@example.com").await;
    let known = app
        .new_browser()
        .post("/password-reset", &[("email", "tom@example.com")])
        .await;
    let unknown = app
        .new_browser()
        .post("/password-reset", &[("email", "who@example.com")])
        .await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(location(&known), location(&unknown));
    app.mail.next_mail().await;
    assert_eq!(
        app.count("jobs WHERE kind LIKE 'mail.%'").await,
        2,
        "sign-up mail and one reset mail, none for the unknown address"
    );
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_the_link_stays_usable() {
    let app = spawn_app().await;
    app.member(&app.browser, "uma@example.com").await;
    let link = request_reset(&app, "uma@example.com").await;
    let browser = app.new_browser();
    let res = choose_password(&browser, &link, "short").await;
    assert_error(res, 422, "password_too_short").await;
    assert_eq!(
        choose_password(&browser, &link, "a long enough phrase")
            .await
            .status(),
        303
    );
}

/// The request does the same work whoever owns the address: one job each,
/// queued before anything about the account is looked at (the job does
/// that), so the answer's timing tells nothing either.
#[tokio::test]
async fn a_reset_request_queues_the_same_job_for_a_registered_and_an_unknown_address() {
    let app = spawn_app().await;
    app.member(&app.browser, "tom@example.com").await;
    for email in ["tom@example.com", "who@example.com"] {
        let res = app
            .new_browser()
            .post("/password-reset", &[("email", email)])
            .await;
        assert_eq!(res.status(), 303);
    }
    assert_eq!(
        app.count("jobs WHERE kind = 'account.reset_request'").await,
        2
    );
    let mail = app.mail.next_mail().await;
    assert!(mail.contains("/password-reset/confirm?token="));
    // An hour's link says so in the singular (a plural table, CLDR's `one`).
    assert!(mail.contains("expires in 1 hour."), "{mail}");
}
