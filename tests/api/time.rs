//! Time-based rules tested by setting the time: the app runs on a manual
//! clock that the test moves forward, instead of editing rows or waiting.

use swiper::clock::Clock;

use crate::helpers::*;

fn noon() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a date")
}

#[tokio::test]
async fn a_session_ends_when_the_clock_passes_its_idle_timeout() {
    let clock = Clock::manual(noon());
    let app = spawn_app_with_clock(clock.clone()).await;
    let browser = &app.browser;
    app.member(browser, "tick@example.com").await;
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
async fn a_member_active_every_ten_seconds_outlives_a_one_minute_idle_timeout() {
    let clock = Clock::manual(noon());
    let app = spawn_app_with_clock_and(clock.clone(), &[("SESSION_IDLE_TIMEOUT", "60")]).await;
    let browser = &app.browser;
    app.member(browser, "busy@example.com").await;
    // Five minutes of a click every ten seconds.
    for _ in 0..30 {
        clock.advance(chrono::TimeDelta::seconds(10));
        assert!(browser.is_logged_in().await, "still active");
    }
    clock.advance(chrono::TimeDelta::seconds(61));
    assert!(!browser.is_logged_in().await, "a minute idle ends it");
}

#[tokio::test]
async fn a_reset_link_expires_after_its_time_to_live() {
    let clock = Clock::manual(noon());
    let app = spawn_app_with_clock(clock.clone()).await;
    let (browser, mail) = (&app.browser, &app.mail);
    app.sign_up(browser, "late@example.com", "Late").await;
    let asked = browser
        .post("/password-reset", &[("email", "late@example.com")])
        .await;
    assert_eq!(asked.status(), 303);
    let link = link_in(&mail.next_mail().await, "/password-reset/confirm?token=");
    assert_eq!(browser.get(&link).await.status(), 200, "usable at first");
    clock.advance(chrono::TimeDelta::minutes(61));
    assert_error(browser.get(&link).await, 400, "invalid_token").await;
}
