//! Time-based rules tested by setting the time: the app runs on a manual
//! clock that the test moves forward, instead of editing rows or waiting.

use std::sync::Arc;

use swiper::clock::Clock;
use swiper::startup::Application;

use crate::helpers::*;

async fn spawn_with_clock(clock: Clock) -> (Browser, MailSink, Arc<TestDb>) {
    let db = Arc::new(TestDb::new());
    let mail = MailSink::start();
    let prefix = format!("swiper-test-{}", swiper::security::random::token(6));
    let settings = test_settings(&db, mail.port, &prefix, &[]);
    let app = Application::build_with_clock(settings, clock)
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    (Browser::new(&base), mail, db)
}

fn noon() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a date")
}

#[tokio::test]
async fn a_session_ends_when_the_clock_passes_its_idle_timeout() {
    let clock = Clock::manual(noon());
    let (browser, mail, _db) = spawn_with_clock(clock.clone()).await;
    let signup = browser
        .post(
            "/signup",
            &[
                ("email", "tick@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "Tick"),
                ("sex", "female"),
                ("birthday", "1990-05-17"),
            ],
        )
        .await;
    assert_eq!(signup.status(), 303);
    let link = link_in(&mail.next_mail().await, "/verify-email?token=");
    assert_eq!(browser.get(&link).await.status(), 200);
    assert_eq!(
        browser
            .login("tick@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    clock.advance(chrono::TimeDelta::minutes(119));
    assert!(
        browser.is_logged_in().await,
        "within the two-hour idle limit"
    );
    clock.advance(chrono::TimeDelta::minutes(121));
    assert!(
        !browser.is_logged_in().await,
        "two hours without a request end the session"
    );
}

#[tokio::test]
async fn a_reset_link_expires_after_its_time_to_live() {
    let clock = Clock::manual(noon());
    let (browser, mail, _db) = spawn_with_clock(clock.clone()).await;
    let signup = browser
        .post(
            "/signup",
            &[
                ("email", "late@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "Late"),
                ("sex", "male"),
                ("birthday", "1990-05-17"),
            ],
        )
        .await;
    assert_eq!(signup.status(), 303);
    mail.next_mail().await;
    let asked = browser
        .post("/password-reset", &[("email", "late@example.com")])
        .await;
    assert_eq!(asked.status(), 303);
    let link = link_in(&mail.next_mail().await, "/password-reset/confirm?token=");
    assert_eq!(browser.get(&link).await.status(), 200, "usable at first");
    clock.advance(chrono::TimeDelta::minutes(61));
    assert_error(browser.get(&link).await, 400, "invalid_token").await;
}
