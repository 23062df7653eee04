//! Bad input on every form gets a clear 4xx with a message, writes nothing
//! and never produces a 5xx.

use crate::helpers::*;

#[derive(Clone, Copy, Debug)]
enum Bad {
    MissingFields,
    TenKilobyteFields,
    InvalidEmail,
    FutureBirthday,
    Under18,
    InvalidUtf8,
    /// Every value carries a NUL, which PostgreSQL refuses in text.
    NulBytes,
    OversizedBody,
    WrongContentType,
}

struct Form {
    path: String,
    fields: Vec<(&'static str, &'static str)>,
    applies: Vec<Bad>,
}

fn forms(reset_link: &str) -> Vec<Form> {
    use Bad::*;
    let all_text = vec![
        MissingFields,
        TenKilobyteFields,
        InvalidUtf8,
        NulBytes,
        OversizedBody,
        WrongContentType,
    ];
    vec![
        Form {
            path: "/signup".into(),
            fields: vec![
                ("email", "new@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "New"),
                ("sex", "male"),
                ("birthday", "1990-01-01"),
            ],
            applies: [
                all_text.clone(),
                vec![InvalidEmail, FutureBirthday, Under18],
            ]
            .concat(),
        },
        Form {
            path: "/login".into(),
            fields: vec![("email", "member@example.com"), ("password", GOOD_PASSWORD)],
            applies: [all_text.clone(), vec![InvalidEmail]].concat(),
        },
        Form {
            path: "/password-reset".into(),
            fields: vec![("email", "member@example.com")],
            applies: [all_text.clone(), vec![InvalidEmail]].concat(),
        },
        Form {
            path: reset_link.to_string(),
            fields: vec![("password", "a fine new passphrase")],
            applies: all_text.clone(),
        },
        Form {
            path: "/settings/password".into(),
            fields: vec![
                ("current_password", GOOD_PASSWORD),
                ("new_password", "a fine new passphrase"),
            ],
            applies: all_text.clone(),
        },
        Form {
            path: "/settings/language".into(),
            fields: vec![("language", "en")],
            applies: all_text.clone(),
        },
        Form {
            path: "/verify-email/resend".into(),
            fields: vec![],
            applies: vec![OversizedBody, WrongContentType],
        },
        Form {
            path: "/logout".into(),
            fields: vec![],
            applies: vec![OversizedBody, WrongContentType],
        },
        Form {
            path: "/settings/sessions/revoke-others".into(),
            fields: vec![],
            applies: vec![OversizedBody, WrongContentType],
        },
        Form {
            path: "/settings/sessions/not-a-session/revoke".into(),
            fields: vec![],
            applies: vec![OversizedBody, WrongContentType],
        },
    ]
}

fn encode(fields: &[(&str, String)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

async fn send(browser: &Browser, form: &Form, bad: Bad) -> reqwest::Response {
    let token = browser.csrf().await;
    let mut fields: Vec<(&str, String)> = form
        .fields
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    let set = |fields: &mut Vec<(&str, String)>, name: &str, value: &str| {
        for f in fields.iter_mut().filter(|f| f.0 == name) {
            f.1 = value.to_string();
        }
    };
    let mut body = None;
    match bad {
        Bad::MissingFields => fields.clear(),
        Bad::TenKilobyteFields => fields.iter_mut().for_each(|f| f.1 = "x".repeat(10_240)),
        Bad::InvalidEmail => set(&mut fields, "email", "not-an-email"),
        Bad::FutureBirthday => set(&mut fields, "birthday", "2999-01-01"),
        Bad::Under18 => {
            let d = chrono::Utc::now().date_naive() - chrono::TimeDelta::days(365 * 17);
            set(&mut fields, "birthday", &d.format("%Y-%m-%d").to_string());
        }
        Bad::InvalidUtf8 => {
            // Every value is bytes that are not UTF-8, percent-encoded and raw.
            let mut raw = Vec::new();
            for (k, _) in &fields {
                raw.extend_from_slice(format!("{k}=%FF%FE%80").as_bytes());
                raw.extend_from_slice(b"\xff\xfe&");
            }
            raw.extend_from_slice(format!("csrf_token={token}").as_bytes());
            body = Some(raw);
        }
        Bad::NulBytes => fields
            .iter_mut()
            .for_each(|f| f.1 = format!("a\u{0}{}", f.1)),
        Bad::OversizedBody => fields.push(("filler", "y".repeat(100 * 1024))),
        Bad::WrongContentType => {
            return browser
                .client
                .post(browser.url(&form.path))
                .header("content-type", "application/json")
                .header("x-csrf-token", token)
                .body(serde_json::json!({ "email": "member@example.com" }).to_string())
                .send()
                .await
                .unwrap();
        }
    }
    fields.push(("csrf_token", token));
    let body = body.unwrap_or_else(|| encode(&fields));
    browser
        .client
        .post(browser.url(&form.path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut v = Vec::new();
    for t in [
        "users",
        "user_sessions",
        "account_tokens WHERE used_at IS NULL",
        "jobs WHERE kind LIKE 'mail.%'",
    ] {
        v.push(app.count(t).await);
    }
    v
}

#[tokio::test]
async fn bad_input_on_every_form_is_a_clear_4xx_that_changes_nothing() {
    let app = spawn_app().await;
    app.member(&app.browser, "member@example.com").await;
    let res = app
        .new_browser()
        .post("/password-reset", &[("email", "member@example.com")])
        .await;
    assert_eq!(res.status(), 303);
    let reset_link = link_in(
        &app.mail.next_mail().await,
        "/password-reset/confirm?token=",
    );
    let reset_path = reset_link.trim_start_matches(&app.base).to_string();

    let before = snapshot(&app).await;
    for form in forms(&reset_path) {
        for bad in &form.applies {
            let res = send(&app.browser, &form, *bad).await;
            let status = res.status();
            let body = res.text().await.unwrap();
            assert!(
                status.is_client_error(),
                "{} {bad:?}: {status}\n{body}",
                form.path
            );
            assert!(
                body.contains("data-error-code="),
                "{} {bad:?}: no message\n{body}",
                form.path
            );
            assert_eq!(
                snapshot(&app).await,
                before,
                "{} {bad:?} changed something",
                form.path
            );
            assert!(
                app.browser.is_logged_in().await,
                "{} {bad:?} logged the member out",
                form.path
            );
        }
    }
    // The member's password is untouched. (Logging in would now meet the
    // captcha: the wrong re-entered passwords above count as failures.)
    let user = app
        .db(|c| swiper::auth::User::find_by_email(c, "member@example.com"))
        .await
        .expect("the member");
    let password = GOOD_PASSWORD.to_string().into();
    assert!(swiper::accounts::reentry::is_current(
        &user,
        &password,
        TEST_ITERATIONS.parse().unwrap()
    )
    .await
    .unwrap());
}

#[tokio::test]
async fn bad_tokens_and_query_strings_are_clear_errors() {
    let app = spawn_app().await;
    for path in [
        "/verify-email",
        "/verify-email?token=",
        "/verify-email?token=%FF%FE",
        "/password-reset/confirm?token=nope",
        &format!("/verify-email?token={}", "a".repeat(5000)),
        "/login?next=%FF",
    ] {
        let res = app.browser.get(path).await;
        let status = res.status();
        assert!(
            status.is_client_error() || status == 200,
            "{path}: {status}"
        );
        assert!(status != 200 || path.starts_with("/login"), "{path}");
    }
    // A NUL anywhere in the address is bad input, before any handler.
    for path in [
        "/verify-email?token=a%00b",
        "/login?next=%2F%00",
        "/users/1%00",
        "/admin/roles/x%00y",
    ] {
        let res = app.browser.get(path).await;
        assert_eq!(res.status(), 400, "{path}");
    }
}

/// A client that announces a body and stalls gets 408 within the bound
/// instead of holding a worker.
#[tokio::test]
async fn a_stalled_request_body_is_answered_within_the_bound() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&[("HTTP_BODY_TIMEOUT", "1")]).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=abc",
        app.port
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // The safety net is far above the bound: the test is about an answer
    // arriving at all, not about its speed.
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers or closes the connection")
    .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
}
