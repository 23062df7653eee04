//! Text-message codes: adding a phone number in settings, logging in with a
//! code on the site and through the API, the limits (once, five minutes,
//! five tries, one a minute per number, the same answer for any number),
//! and an HTTP provider that fails before it works.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::helpers::*;

const NUMBER: &str = "+44 7700 900123";
const E164: &str = "+447700900123";

/// The texts written to `var/sms/` for `to`, oldest first (the file names
/// start with the time they were written).
pub fn texts_to(app: &TestApp, to: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(app.db.dir.join("sms"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| t.starts_with(&format!("To: {to}\n")))
        .collect()
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code")
        .to_string()
}

/// The code of the next text to `to`: waits for one more than `before`.
pub async fn next_code(app: &TestApp, to: &str, before: usize) -> String {
    wait_until("a text message", || {
        std::future::ready(texts_to(app, to).len() > before)
    })
    .await;
    code_in(texts_to(app, to).last().unwrap())
}

/// Adds `NUMBER` to the logged-in member on `browser` through settings.
async fn add_phone(app: &TestApp, browser: &Browser) {
    let before = texts_to(app, E164).len();
    let res = browser
        .post(
            "/settings/phone",
            &[("phone", NUMBER), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"code-sent\""));
    let code = next_code(app, E164, before).await;
    let res = browser
        .post("/settings/phone", &[("phone", NUMBER), ("code", &code)])
        .await;
    assert_eq!(location(&res), "/settings/phone?notice=phone_saved");
}

#[tokio::test]
async fn a_member_adds_a_number_then_logs_in_with_a_code_sent_to_it() {
    let app = spawn_app().await;
    app.member(&app.browser, "tel@example.com").await;
    add_phone(&app, &app.browser).await;
    let page = app.browser.html("/settings/phone").await;
    assert!(page.contains(E164), "the number, normalised");

    // The number is one account's only.
    let other = app.new_browser();
    app.member(&other, "other@example.com").await;
    let res = other
        .post(
            "/settings/phone",
            &[("phone", E164), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 429, "one code a minute per number");
    assert!(res.headers().get("retry-after").is_some());
    clear_minute(&app).await;
    let before = texts_to(&app, E164).len();
    assert_eq!(
        other
            .post(
                "/settings/phone",
                &[("phone", E164), ("password", GOOD_PASSWORD)]
            )
            .await
            .status(),
        200
    );
    let code = next_code(&app, E164, before).await;
    let res = other
        .post("/settings/phone", &[("phone", E164), ("code", &code)])
        .await;
    assert_eq!(res.status(), 409);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"phone_taken\""));

    // Log in on a new browser with a code.
    let visitor = app.new_browser();
    assert!(visitor.html("/login").await.contains("href=\"/login/sms\""));
    let res = visitor.post("/login/sms", &[("phone", NUMBER)]).await;
    assert_eq!(
        res.status(),
        429,
        "still within the minute of the last code"
    );
    let res = visitor
        .post("/login/sms", &[("phone", "+33612345678")])
        .await;
    let unknown = res.text().await.unwrap();
    assert!(
        unknown.contains("data-testid=\"code-sent\""),
        "the same page for any number"
    );
}

#[tokio::test]
async fn a_new_number_makes_an_account_that_gives_name_sex_and_birthday_before_swiping() {
    let app = spawn_app().await;
    let (_, target) = crate::discovery::join(
        &app,
        &crate::discovery::Person::new("seen@example.com", "male", "1990-01-01"),
    )
    .await;
    let target = target.to_string();
    let before = app.count("users").await;

    // A number no account has gets its code; the code makes the account.
    let new = app.new_browser();
    let res = new
        .post("/login/sms", &[("phone", "+33 6 12 34 56 78")])
        .await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"code-sent\""));
    let code = next_code(&app, "+33612345678", 0).await;
    let res = new
        .post("/login/sms", &[("phone", "+33612345678"), ("code", &code)])
        .await;
    assert_eq!(location(&res), "/welcome");
    assert_eq!(app.count("users").await, before + 1);

    // Until the profile is complete: no swipe, nobody's feed.
    let deck = new.html("/discover").await;
    assert!(
        deck.contains("data-error-code=\"profile_incomplete\""),
        "{deck}"
    );
    let res = new
        .post("/swipes", &[("target", &target), ("kind", "like")])
        .await;
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"profile_incomplete\""));
    assert_eq!(app.count("swipes").await, 0);

    // The welcome form: each refused field has its code, nothing is saved.
    let page = new.html("/welcome").await;
    for field in ["nickname", "sex", "birthday"] {
        assert!(page.contains(&format!("name=\"{field}\"")), "{field}");
    }
    let young = (chrono::Utc::now().date_naive() - chrono::TimeDelta::days(365 * 17))
        .format("%Y-%m-%d")
        .to_string();
    let res = new
        .post(
            "/welcome",
            &[("nickname", "Zoé"), ("sex", "robot"), ("birthday", &young)],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-error-code=\"under_18\""), "{html}");
    assert!(html.contains("data-error-code=\"invalid_choice\""));
    assert_eq!(new.get("/welcome").await.status(), 200, "still to complete");

    let res = new
        .post(
            "/welcome",
            &[
                ("nickname", "Zoé"),
                ("sex", "female"),
                ("birthday", "1994-04-04"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/profile?notice=welcome_done");
    assert_eq!(location(&new.get("/welcome").await), "/discover");
    let settings = new.html("/settings").await;
    assert!(
        !settings.contains("phone.invalid"),
        "no stand-in address shown"
    );
    let res = new
        .post(
            "/profile",
            &[
                ("nickname", "Zoé"),
                ("city", "Paris"),
                ("latitude", "48.85"),
                ("longitude", "2.35"),
                ("time_zone", "Europe/Paris"),
                ("want_sex", "any"),
                ("min_age", "18"),
                ("max_age", "99"),
                ("max_distance_km", "100"),
                ("discoverable", "on"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/profile?notice=profile_saved");
    let res = new
        .post("/swipes", &[("target", &target), ("kind", "like")])
        .await;
    assert_eq!(res.status(), 303, "a complete profile swipes");
    assert_eq!(app.count("swipes").await, 1);

    // The number logs the same account in again, straight to Discover.
    let again = app.new_browser();
    let phone = swiper::accounts::phone::Phone::parse("+33612345678").unwrap();
    app.state
        .counters
        .clear(&format!("rl:sms-number:{}", phone.subject()))
        .await;
    again.post("/login/sms", &[("phone", "+33612345678")]).await;
    let code = next_code(&app, "+33612345678", 1).await;
    let res = again
        .post("/login/sms", &[("phone", "+33612345678"), ("code", &code)])
        .await;
    assert_eq!(location(&res), "/discover");
    assert_eq!(app.count("users").await, before + 1);

    // Nobody signs up with the stand-in address such an account holds.
    let res = app
        .new_browser()
        .post(
            "/signup",
            &[
                ("email", "33612345678@phone.invalid"),
                ("password", GOOD_PASSWORD),
                ("nickname", "Squatter"),
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
        .contains("data-error-code=\"invalid_email\""));
}

#[tokio::test]
async fn a_code_logs_in_once_and_wrong_codes_count() {
    let app = spawn_app().await;
    app.member(&app.browser, "once@example.com").await;
    add_phone(&app, &app.browser).await;
    // The login's own code: a minute after the settings one.
    clear_minute(&app).await;
    let visitor = app.new_browser();
    let before = texts_to(&app, E164).len();
    let res = visitor.post("/login/sms", &[("phone", NUMBER)]).await;
    assert_eq!(res.status(), 200);
    let code = next_code(&app, E164, before).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = visitor
        .post("/login/sms", &[("phone", NUMBER), ("code", wrong)])
        .await;
    assert_eq!(res.status(), 401);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"invalid_code\""));
    let res = visitor
        .post("/login/sms", &[("phone", NUMBER), ("code", &code)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/discover");
    assert!(visitor.is_logged_in().await);
    // Used once: the same code again is refused.
    let again = app.new_browser();
    let res = again
        .post("/login/sms", &[("phone", NUMBER), ("code", &code)])
        .await;
    assert_eq!(res.status(), 401);
    assert!(!again.is_logged_in().await);
}

/// Forgets the one-a-minute counter of `NUMBER` (as a minute passing would).
async fn clear_minute(app: &TestApp) {
    clear_minute_of(app, NUMBER).await;
}

/// Forgets the one-a-minute counter of `number`.
pub async fn clear_minute_of(app: &TestApp, number: &str) {
    let phone = swiper::accounts::phone::Phone::parse(number).unwrap();
    app.state
        .counters
        .clear(&format!("rl:sms-number:{}", phone.subject()))
        .await;
}

async fn api_post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("set-cookie").is_none());
    res
}

#[tokio::test]
async fn the_api_trades_a_code_for_tokens_with_five_tries_and_five_minutes() {
    let start = chrono::Utc::now().naive_utc();
    let clock = swiper::clock::Clock::manual(start);
    // Codes in process (whose clock the test moves): the expiry is tested
    // without waiting five minutes.
    let app = spawn_app_with_clock_and(clock.clone(), &[("REDIS_URL", "")]).await;
    // The captcha that failures bring has its own test: here the code's
    // own five tries are what stop it.
    let now = app.state.clock.now();
    app.state
        .runtime
        .set("captcha_after_failures", 10, now)
        .await
        .unwrap()
        .unwrap();
    app.member(&app.browser, "api@example.com").await;
    add_phone(&app, &app.browser).await;

    clear_minute(&app).await;
    let before = texts_to(&app, E164).len();
    let res = api_post(&app, "/api/v1/auth/sms", json!({"phone": NUMBER})).await;
    assert_eq!(res.status(), 202);
    let res = api_post(&app, "/api/v1/auth/sms", json!({"phone": NUMBER})).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let res = api_post(&app, "/api/v1/auth/sms", json!({"phone": "+33612345678"})).await;
    assert_eq!(res.status(), 202, "an unknown number gets the same answer");
    let res = api_post(&app, "/api/v1/auth/sms", json!({"phone": "12"})).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"]["phone"], "invalid_phone");

    let code = next_code(&app, E164, before).await;
    let verify = |code: String| {
        let app = &app;
        async move {
            api_post(
                app,
                "/api/v1/auth/sms/verify",
                json!({"phone": E164, "code": code, "device": "Test phone"}),
            )
            .await
        }
    };
    // Five wrong tries kill the code, even the right one after them.
    for _ in 0..5 {
        let res = verify("999999".into()).await;
        if code == "999999" {
            break;
        }
        assert_eq!(res.status(), 401);
    }
    let res = verify(code.clone()).await;
    assert_eq!(res.status(), 401, "dead after five wrong tries");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "invalid_code");

    // A fresh code works once.
    clock.advance(chrono::TimeDelta::minutes(2));
    let before = texts_to(&app, E164).len();
    assert_eq!(
        api_post(&app, "/api/v1/auth/sms", json!({"phone": NUMBER}))
            .await
            .status(),
        202
    );
    let code = next_code(&app, E164, before).await;
    let res = verify(code.clone()).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "api@example.com");
    assert_eq!(verify(code).await.status(), 401, "used once");

    // Five minutes later a code is dead.
    clock.advance(chrono::TimeDelta::minutes(2));
    let before = texts_to(&app, E164).len();
    assert_eq!(
        api_post(&app, "/api/v1/auth/sms", json!({"phone": NUMBER}))
            .await
            .status(),
        202
    );
    let code = next_code(&app, E164, before).await;
    clock.advance(chrono::TimeDelta::minutes(6));
    assert_eq!(verify(code).await.status(), 401, "expired");
}

/// An SMS provider over real HTTP that never answers its first `hangs`
/// requests, fails the next `failures`, then takes messages; it records
/// what it was sent.
async fn provider(hangs: usize, failures: usize) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let left = Arc::new(Mutex::new(failures));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (s, l) = (seen.clone(), left.clone());
    let server = HttpServer::new(move || {
        let (seen, left) = (s.clone(), l.clone());
        App::new().route(
            "/send",
            web::post().to(move |req: HttpRequest, body: String| {
                let (seen, left) = (seen.clone(), left.clone());
                async move {
                    let key = req
                        .headers()
                        .get("x-api-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        seen.push((key, body));
                        seen.len()
                    };
                    if n <= hangs {
                        // Hangs: the sender's time-out must give up on it.
                        std::future::pending::<()>().await;
                    }
                    let mut left = left.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return HttpResponse::InternalServerError().finish();
                    }
                    HttpResponse::Ok().json(json!({"ok": true}))
                }
            }),
        )
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (base, seen)
}

/// Waits until the provider has been sent `n` requests; the `n`-th's
/// (key header, body).
async fn nth_request(seen: &Arc<Mutex<Vec<(String, String)>>>, n: usize) -> (String, String) {
    wait_until("the provider is reached again", || {
        std::future::ready(seen.lock().unwrap().len() >= n)
    })
    .await;
    seen.lock().unwrap()[n - 1].clone()
}

#[tokio::test]
async fn a_provider_that_fails_is_retried_by_the_job_and_the_request_answers_at_once() {
    let (base, seen) = provider(0, 2).await;
    let url = format!("{base}/send");
    let app = spawn_app_with(&[
        ("SMS_URL", url.as_str()),
        ("SMS_BODY", r#"{"number":"{to}","message":"{text}"}"#),
        ("SMS_AUTH_HEADER", "X-Api-Key: k-123"),
        ("SMS_SUCCESS_FIELD", "ok"),
    ])
    .await;
    app.member(&app.browser, "prov@example.com").await;
    let res = app
        .browser
        .post(
            "/settings/phone",
            &[("phone", NUMBER), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200, "answered before the provider took it");
    // The third try reaches it.
    let (key, body) = nth_request(&seen, 3).await;
    assert_eq!(key, "k-123");
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["number"], E164);
    let text = sent["message"].as_str().unwrap();
    let code = code_in(text);
    // The code the provider delivered proves the number.
    let res = app
        .browser
        .post("/settings/phone", &[("phone", NUMBER), ("code", &code)])
        .await;
    assert_eq!(location(&res), "/settings/phone?notice=phone_saved");
    assert!(!app.db.dir.join("sms").exists(), "no file with a provider");
}

#[tokio::test]
async fn adding_a_number_takes_the_password_and_a_removed_number_no_longer_logs_in() {
    let app = spawn_app().await;
    app.member(&app.browser, "careful@example.com").await;
    // Without the right password: nothing is sent.
    let res = app
        .browser
        .post(
            "/settings/phone",
            &[("phone", NUMBER), ("password", "not-my-password")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"wrong_password\""));
    assert!(
        texts_to(&app, E164).is_empty(),
        "no text without the password"
    );

    add_phone(&app, &app.browser).await;
    let settings = app.browser.html("/settings/sessions").await;
    assert!(
        settings.contains("data-event=\"phone_added\""),
        "a security event"
    );

    // Removing it takes the password too; then the number no longer logs
    // the member in (its code makes a new account instead).
    let res = app
        .browser
        .post(
            "/settings/phone/remove",
            &[("password", "wrong-wrong-wrong")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .browser
        .post("/settings/phone/remove", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(location(&res), "/settings/phone?notice=phone_removed");
    assert!(!app
        .browser
        .html("/settings/phone")
        .await
        .contains("data-testid=\"current-phone\""));
    clear_minute(&app).await;
    let before = texts_to(&app, E164).len();
    let res = app
        .new_browser()
        .post("/login/sms", &[("phone", NUMBER)])
        .await;
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"code-sent\""));
    let code = next_code(&app, E164, before).await;
    let users = app.count("users").await;
    let res = app
        .new_browser()
        .post("/login/sms", &[("phone", NUMBER), ("code", &code)])
        .await;
    assert_eq!(location(&res), "/welcome", "a new account, not hers");
    assert_eq!(app.count("users").await, users + 1);
}

#[tokio::test]
async fn one_member_asks_for_five_codes_a_day_at_most() {
    let app = spawn_app().await;
    app.member(&app.browser, "many@example.com").await;
    for n in 0..5 {
        let number = format!("+4477009001{n:02}");
        let res = app
            .browser
            .post(
                "/settings/phone",
                &[("phone", number.as_str()), ("password", GOOD_PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), 200, "code {n}");
    }
    let res = app
        .browser
        .post(
            "/settings/phone",
            &[("phone", "+447700900199"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn wrong_codes_bring_the_captcha_as_wrong_passwords_do() {
    let app = spawn_app().await;
    app.member(&app.browser, "guarded@example.com").await;
    add_phone(&app, &app.browser).await;
    clear_minute(&app).await;
    let visitor = app.new_browser();
    let before = texts_to(&app, E164).len();
    let res = visitor.post("/login/sms", &[("phone", NUMBER)]).await;
    assert!(
        !res.text().await.unwrap().contains("captcha_id"),
        "none yet"
    );
    let code = next_code(&app, E164, before).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // Three wrong codes (the password login's threshold): the form now
    // carries a captcha.
    let mut page = String::new();
    for _ in 0..3 {
        let res = visitor
            .post("/login/sms", &[("phone", NUMBER), ("code", wrong)])
            .await;
        assert_eq!(res.status(), 401);
        page = res.text().await.unwrap();
    }
    let marker = "name=\"captcha_id\" value=\"";
    let at = page.find(marker).expect("a captcha on the form") + marker.len();
    let id = page[at..].split('"').next().unwrap().to_string();

    // Without it, even the right code is refused and not spent.
    let res = visitor
        .post("/login/sms", &[("phone", NUMBER), ("code", &code)])
        .await;
    assert_eq!(res.status(), 401);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"captcha_required\""));
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sms/verify", app.base))
        .json(&json!({"phone": E164, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "an app is told to use the site");
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "captcha_required"
    );
    assert!(!visitor.is_logged_in().await);

    // The captcha answered (the challenge of the last refusal), the code
    // logs in.
    let res = visitor
        .post("/login/sms", &[("phone", NUMBER), ("code", &code)])
        .await;
    let html = res.text().await.unwrap();
    let at = html.find(marker).expect("a fresh captcha") + marker.len();
    let id_now = html[at..].split('"').next().unwrap().to_string();
    assert_ne!(id_now, id, "each refusal brings a fresh challenge");
    let answer = swiper::accounts::captcha::answer(&app.state.counters, &id_now)
        .await
        .expect("a live answer");
    let res = visitor
        .post(
            "/login/sms",
            &[
                ("phone", NUMBER),
                ("code", &code),
                ("captcha_id", &id_now),
                ("captcha", &answer),
            ],
        )
        .await;
    assert_eq!(location(&res), "/discover");
    assert!(visitor.is_logged_in().await);
}

#[tokio::test]
async fn a_provider_that_hangs_is_given_up_on_and_the_text_retried() {
    let (base, seen) = provider(1, 0).await;
    let url = format!("{base}/send");
    let app = spawn_app_with(&[("SMS_URL", url.as_str()), ("SMS_TIMEOUT", "1")]).await;
    app.member(&app.browser, "hang@example.com").await;
    let res = app
        .browser
        .post(
            "/settings/phone",
            &[("phone", NUMBER), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200, "answered whatever the provider does");
    // The retry after the time-out reaches it.
    let (_, body) = nth_request(&seen, 2).await;
    let sent: Value = serde_json::from_str(&body).unwrap();
    let code = code_in(sent["text"].as_str().unwrap());
    let res = app
        .browser
        .post("/settings/phone", &[("phone", NUMBER), ("code", &code)])
        .await;
    assert_eq!(location(&res), "/settings/phone?notice=phone_saved");
}
