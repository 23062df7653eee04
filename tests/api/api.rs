//! `/api/v1` as a phone app uses it: bearer tokens (Ed25519 JWTs), refresh
//! rotation with reuse detection, problem+json errors, and no cookie ever.

use serde_json::{json, Value};

use crate::helpers::*;

/// A JSON request to the API, with an optional bearer token.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let client = reqwest::Client::new();
    let mut req = client.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    assert!(
        res.headers().get("set-cookie").is_none(),
        "no cookie under /api/: {path}"
    );
    res
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    call(app, reqwest::Method::POST, path, token, Some(body)).await
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    call(app, reqwest::Method::GET, path, token, None).await
}

/// A problem+json answer with this status and code.
async fn assert_problem(res: reqwest::Response, status: u16, code: &str) {
    assert_eq!(res.status(), status);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string());
}

/// `POST /api/v1/me/photos` with `bytes` as the multipart `photo`.
async fn upload_photo(app: &TestApp, token: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("p.png");
    reqwest::Client::new()
        .post(format!("{}/api/v1/me/photos", app.base))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("photo", part))
        .send()
        .await
        .unwrap()
}

/// Waits until my first photo is processed.
async fn photo_ready(app: &TestApp, token: &str) {
    wait_until("the photo is processed", || async {
        let me: Value = call(app, reqwest::Method::GET, "/api/v1/me", Some(token), None)
            .await
            .json()
            .await
            .unwrap();
        me["photos"][0]["status"] == "ready"
    })
    .await;
}

async fn log_in(app: &TestApp, email: &str, device: &str) -> Value {
    let res = post(
        app,
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": GOOD_PASSWORD, "device": device}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_member_logs_in_with_a_password_and_refresh_tokens_rotate_once_each() {
    let app = spawn_app().await;
    app.member(&app.browser, "app@example.com").await;
    let id = app.user_id("app@example.com").await;

    let tokens = log_in(&app, "app@example.com", "Pixel 9").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(tokens["user"]["id"], id);
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    // An EdDSA JWT whose kid is one of the published keys.
    let header: Value =
        serde_json::from_slice(&base64_url(access.split('.').next().unwrap())).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let jwks: Value = get(&app, "/api/v1/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert!(jwks["keys"][0].get("d").is_none(), "never the private key");

    let me: Value = get(&app, "/api/v1/me", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], id);
    assert_eq!(me["email"], "app@example.com");

    // The app's session is listed with the browser's, by its device name.
    // (The security events below the table name the device too.)
    let listed = |html: String| {
        html.split("data-event=")
            .next()
            .is_some_and(|sessions| sessions.contains("<td>Pixel 9</td>"))
    };
    assert!(listed(app.browser.html("/settings/sessions").await));

    // Refresh: new tokens; the old refresh token is used up.
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let next: Value = res.json().await.unwrap();
    let next_refresh = next["refresh_token"].as_str().unwrap().to_string();
    let next_access = next["access_token"].as_str().unwrap().to_string();
    assert_ne!(next_refresh, refresh);
    assert_eq!(
        get(&app, "/api/v1/me", Some(&next_access)).await.status(),
        200
    );

    // Presented again, the old one ends the whole family: the newer refresh
    // token and every access token of it stop working.
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_problem(res, 401, "token_reused").await;
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": next_refresh}),
    )
    .await;
    assert_problem(res, 401, "login_required").await;
    assert_problem(
        get(&app, "/api/v1/me", Some(&next_access)).await,
        401,
        "login_required",
    )
    .await;
    let page = app.browser.html("/settings/sessions").await;
    assert!(!listed(page.clone()), "{page}");
    assert!(
        app.browser.is_logged_in().await,
        "the browser's session is another family"
    );
}

#[tokio::test]
async fn logout_a_ban_and_a_password_change_end_the_apps_session_too() {
    let app = spawn_app().await;
    app.member(&app.browser, "out@example.com").await;
    let tokens = log_in(&app, "out@example.com", "Phone").await;
    let access = tokens["access_token"].as_str().unwrap();
    let res = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/auth/logout",
        Some(access),
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_problem(
        get(&app, "/api/v1/me", Some(access)).await,
        401,
        "login_required",
    )
    .await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(res.status(), 401);

    // "Log out everywhere else" from the browser ends the app's session.
    let tokens = log_in(&app, "out@example.com", "Phone").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(get(&app, "/api/v1/me", Some(access)).await.status(), 200);
    let res = app
        .browser
        .post("/settings/sessions/revoke-others", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(get(&app, "/api/v1/me", Some(access)).await.status(), 401);

    // A ban (the account disabled) refuses its tokens at once.
    let tokens = log_in(&app, "out@example.com", "Phone").await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let id = app.user_id("out@example.com").await;
    app.db(move |c| {
        use diesel::prelude::*;
        use swiper::db::schema::users;
        diesel::update(users::table.find(id))
            .set(users::is_active.eq(false))
            .execute(c)
    })
    .await;
    app.state.principals.forget_user(swiper::auth::UserId(id));
    assert_eq!(get(&app, "/api/v1/me", Some(&access)).await.status(), 401);
}

#[tokio::test]
async fn wrong_credentials_bad_bodies_and_bad_tokens_get_problem_json_with_a_code() {
    let app = spawn_app().await;
    app.member(&app.browser, "err@example.com").await;
    let wrong = json!({"email": "err@example.com", "password": "nope-nope-nope", "device": "x"});
    assert_problem(
        post(&app, "/api/v1/auth/login", None, wrong).await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = json!({"email": "who@example.com", "password": "nope-nope-nope"});
    assert_problem(
        post(&app, "/api/v1/auth/login", None, unknown).await,
        401,
        "invalid_credentials",
    )
    .await;

    // Bodies: not JSON, wrong types, unknown fields, too big, not JSON at all.
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/auth/login", app.base);
    let raw = |body: Vec<u8>, ctype: &'static str| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .post(url)
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_problem(
        raw(b"{not json".to_vec(), "application/json").await,
        400,
        "invalid_input",
    )
    .await;
    assert_problem(
        raw(br#"{"email":1,"password":[]}"#.to_vec(), "application/json").await,
        400,
        "invalid_input",
    )
    .await;
    assert_problem(
        raw(
            br#"{"email":"a@b.c","password":"x","admin":true}"#.to_vec(),
            "application/json",
        )
        .await,
        400,
        "invalid_input",
    )
    .await;
    assert_problem(
        raw(vec![b' '; 200_000], "application/json").await,
        413,
        "payload_too_large",
    )
    .await;
    assert_problem(
        raw(b"email=a".to_vec(), "application/x-www-form-urlencoded").await,
        415,
        "unsupported_media_type",
    )
    .await;
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": "made-up"}),
    )
    .await;
    assert_problem(res, 401, "login_required").await;

    // Tokens: none, garbage, tampered, another scheme; and a browser's
    // cookie counts for nothing here.
    assert_problem(get(&app, "/api/v1/me", None).await, 401, "login_required").await;
    for bad in ["x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOjF9."] {
        assert_problem(
            get(&app, "/api/v1/me", Some(bad)).await,
            401,
            "login_required",
        )
        .await;
    }
    let access = log_in(&app, "err@example.com", "x").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tampered = access.clone();
    tampered.replace_range(access.len() - 5.., "AAAAA");
    assert_eq!(get(&app, "/api/v1/me", Some(&tampered)).await.status(), 401);
    let res = app.browser.get("/api/v1/me").await;
    assert_eq!(res.status(), 401, "cookies are not accepted under /api/");
    assert_problem(
        get(&app, "/api/v1/nothing-here", Some(&access)).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_access_token_expires_after_fifteen_minutes() {
    let start = chrono::Utc::now().naive_utc();
    let clock = swiper::clock::Clock::manual(start);
    let app = spawn_app_with_clock(clock.clone()).await;
    app.member(&app.browser, "late@example.com").await;
    let tokens = log_in(&app, "late@example.com", "x").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(get(&app, "/api/v1/me", Some(access)).await.status(), 200);
    clock.advance(chrono::TimeDelta::minutes(16));
    assert_eq!(get(&app, "/api/v1/me", Some(access)).await.status(), 401);
    // The refresh token still renews it.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn a_ban_on_one_instance_refuses_the_token_on_the_other() {
    require_postgres_and_redis();
    let a = spawn_app().await;
    // Two instances behind one site: the same BASE_URL (the tokens' issuer)
    // and the same keys (one var/ here; JWT_KEY_FILE in production).
    let prefix = a.state.settings.redis.prefix.clone();
    let b = spawn_on(
        a.db.clone(),
        &prefix,
        &[("RUN_WORKER", "false"), ("BASE_URL", a.base.as_str())],
    )
    .await;
    a.member(&a.browser, "two@example.com").await;
    let tokens = log_in(&a, "two@example.com", "x").await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    // B knows the token (same keys, same session) and keeps its principal.
    assert_eq!(get(&b, "/api/v1/me", Some(&access)).await.status(), 200);
    let admin = crate::admin::staff(&a, "boss@example.com", swiper::auth::rbac::SUPERADMIN).await;
    let id = a.user_id("two@example.com").await;
    let res = admin
        .post(&format!("/admin/users/{id}/ban"), &[("reason", "spam")])
        .await;
    assert_eq!(res.status(), 303);
    wait_until("B refuses the banned member's token", || async {
        get(&b, "/api/v1/me", Some(&access)).await.status() == 401
    })
    .await;
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// A JSON request as an app: bearer token, JSON body.
async fn as_app(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    call(app, method, path, Some(token), body).await
}

#[tokio::test]
async fn two_apps_find_each_other_match_and_chat_through_the_api_only() {
    use crate::discovery::{join, Person};
    use reqwest::Method;
    let app = spawn_app().await;
    // Two members with profiles (made on the site), who fit each other.
    let (_, ana_id) = join(&app, &crate::discovery::ana()).await;
    let (_, ben_id) = join(&app, &Person::new("ben@example.com", "male", "1989-02-02")).await;
    let ana = log_in(&app, "ana@example.com", "Ana's phone").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let ben = log_in(&app, "ben@example.com", "Ben's phone").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    // The feed, as cards with absolute photo URLs and a cursor.
    let res = as_app(&app, Method::GET, "/api/v1/feed", &ana, None).await;
    assert_eq!(res.status(), 200);
    let feed: Value = res.json().await.unwrap();
    assert_eq!(feed["items"][0]["id"], ben_id, "{feed}");
    assert_eq!(feed["items"][0]["nickname"], "ben");
    assert!(feed["next_cursor"].is_null());
    assert_problem(
        as_app(&app, Method::GET, "/api/v1/feed?cursor=zz", &ana, None).await,
        400,
        "invalid_input",
    )
    .await;

    // Ana likes Ben, Ben likes back: a match.
    let like = |token: String, target: i64| {
        let app = &app;
        async move {
            as_app(
                app,
                Method::POST,
                "/api/v1/swipes",
                &token,
                Some(json!({"target": target, "kind": "like"})),
            )
            .await
        }
    };
    let res = like(ana.clone(), ben_id).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["matched"], false);
    assert_problem(like(ana.clone(), ben_id).await, 409, "already_swiped").await;
    let likes: Value = as_app(&app, Method::GET, "/api/v1/likes", &ben, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(likes["items"][0]["id"], ana_id);
    let res = like(ben.clone(), ana_id).await;
    let swiped: Value = res.json().await.unwrap();
    assert_eq!(swiped["matched"], true);
    let match_id = swiped["match_id"].as_i64().unwrap();

    // Ben listens on the socket with his token (no cookie, no Origin).
    let mut socket = ws_connect_bearer(&app.base, &ben).await.expect("a socket");
    let path = format!("/api/v1/matches/{match_id}/messages");
    let body = json!({"body": "Hi Ben!", "client_id": "c0ffee00-0000-4000-8000-000000000001"});
    let res = as_app(&app, Method::POST, &path, &ana, Some(body.clone())).await;
    assert_eq!(res.status(), 201);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["body"], "Hi Ben!");
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["type"], "message");
    assert_eq!(frame["body"], "Hi Ben!");
    // The same client id again: the same message, not a second one.
    let again: Value = as_app(&app, Method::POST, &path, &ana, Some(body))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], sent["id"]);
    // Ben answers over the socket.
    send_json(
        &mut socket,
        json!({"type": "send", "match_id": match_id, "body": "Hello Ana", "client_id": "c0ffee00-0000-4000-8000-000000000002"}),
    )
    .await;
    assert_eq!(next_frame(&mut socket).await["body"], "Hello Ana");
    let history: Value = as_app(&app, Method::GET, &path, &ana, None)
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Hi Ben!", "Hello Ana"]);
    let matches: Value = as_app(&app, Method::GET, "/api/v1/matches", &ana, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(matches["items"][0]["id"], match_id);
    assert_eq!(matches["items"][0]["user"]["id"], ben_id);

    // Someone else's match is not found; a bad message is refused with a code.
    let res = as_app(
        &app,
        Method::GET,
        "/api/v1/matches/999999/messages",
        &ana,
        None,
    )
    .await;
    assert_problem(res, 404, "not_found").await;
    let res = as_app(
        &app,
        Method::POST,
        &path,
        &ana,
        Some(json!({"body": "   ", "client_id": "c0ffee00-0000-4000-8000-000000000003"})),
    )
    .await;
    assert_problem(res, 422, "message_empty").await;

    // A socket with a bad token is refused (and no Origin would help it).
    let refused = ws_connect_bearer(&app.base, "not-a-token").await.err();
    assert_eq!(refused.as_ref().and_then(refused_status), Some(401));

    // Sessions: both of Ana's (site and app) are listed; she ends the site's.
    let sessions: Value = as_app(&app, Method::GET, "/api/v1/sessions", &ana, None)
        .await
        .json()
        .await
        .unwrap();
    let list = sessions["items"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{sessions}");
    let web = list.iter().find(|s| s["current"] == false).unwrap();
    let res = as_app(
        &app,
        Method::DELETE,
        &format!("/api/v1/sessions/{}", web["id"].as_str().unwrap()),
        &ana,
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    let sessions: Value = as_app(&app, Method::GET, "/api/v1/sessions", &ana, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1);

    // Unmatch closes the conversation on Ben's socket; then block and report.
    let res = as_app(
        &app,
        Method::DELETE,
        &format!("/api/v1/matches/{match_id}"),
        &ana,
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    // (Ana reading the history told Ben's socket first.)
    let mut frame = next_frame(&mut socket).await;
    while frame["type"] == "read" {
        frame = next_frame(&mut socket).await;
    }
    assert_eq!(frame["type"], "closed");
    let res = as_app(
        &app,
        Method::POST,
        &format!("/api/v1/users/{ben_id}/report"),
        &ana,
        Some(json!({"reason": "spam", "details": "ads"})),
    )
    .await;
    assert_eq!(res.status(), 201);
    let res = as_app(
        &app,
        Method::POST,
        &format!("/api/v1/users/{ben_id}/block"),
        &ana,
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    let res = as_app(
        &app,
        Method::POST,
        &format!("/api/v1/users/{ben_id}/report"),
        &ana,
        Some(json!({"reason": "because"})),
    )
    .await;
    assert_problem(res, 400, "invalid_input").await;
}

#[tokio::test]
async fn an_app_reads_and_saves_the_profile_and_uploads_a_photo() {
    use reqwest::Method;
    let app = spawn_app().await;
    app.member(&app.browser, "prof@example.com").await;
    let token = log_in(&app, "prof@example.com", "x").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me: Value = as_app(&app, Method::GET, "/api/v1/me", &token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "prof@example.com");
    assert_eq!(me["profile"]["nickname"], "Member");
    assert_eq!(me["photos"], json!([]));

    let res = as_app(
        &app,
        Method::PUT,
        "/api/v1/me/profile",
        &token,
        Some(json!({"bio": "Sailing", "city": "Lyon, France", "latitude": null, "longitude": null, "want_sex": "female,nonbinary", "min_age": 25, "max_age": 40, "hide_distance": true})),
    )
    .await;
    assert_eq!(res.status(), 204);
    let me: Value = as_app(&app, Method::GET, "/api/v1/me", &token, None)
        .await
        .json()
        .await
        .unwrap();
    let p = &me["profile"];
    assert_eq!(p["bio"], "Sailing");
    assert_eq!(p["want_sex"], "female,nonbinary");
    assert_eq!(p["min_age"], 25);
    assert_eq!(p["latitude"], 45.75, "a picked city gives its position");
    assert_eq!(p["hide_distance"], true);
    assert_eq!(p["hide_age"], false);

    // Refused fields: 422 with each code, nothing saved.
    let res = as_app(
        &app,
        Method::PUT,
        "/api/v1/me/profile",
        &token,
        Some(json!({"bio": "changed", "min_age": 12, "want_sex": "robots"})),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"]["min_age"], "out_of_range", "{body}");
    assert_eq!(body["errors"]["want_sex"], "invalid_choice");
    let me: Value = as_app(&app, Method::GET, "/api/v1/me", &token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["profile"]["bio"], "Sailing");
    let res = as_app(
        &app,
        Method::PUT,
        "/api/v1/me/profile",
        &token,
        Some(json!({"admin": true})),
    )
    .await;
    assert_problem(res, 400, "invalid_input").await;
    let res = as_app(
        &app,
        Method::PUT,
        "/api/v1/me/profile",
        &token,
        Some(json!({"min_age": "25"})),
    )
    .await;
    assert_problem(res, 400, "invalid_input").await;

    // A photo, as multipart; processed by the job.
    let res = upload_photo(&app, &token, crate::photos::png(64, 64)).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("set-cookie").is_none());
    photo_ready(&app, &token).await;
    let me: Value = as_app(&app, Method::GET, "/api/v1/me", &token, None)
        .await
        .json()
        .await
        .unwrap();
    let url = me["photos"][0]["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "absolute: {url}");
    assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    let res = upload_photo(&app, &token, b"not an image".to_vec()).await;
    assert_eq!(res.status(), 415);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"]["photo"], "unsupported_image");
}

#[tokio::test]
async fn a_phone_app_signs_up_by_text_message_and_goes_all_the_way_to_a_chat() {
    use crate::discovery::{join, Person};
    use reqwest::Method;
    let app = spawn_app().await;
    let (_, ben_id) = join(&app, &Person::new("ben@example.com", "male", "1989-02-02")).await;
    let ben = log_in(&app, "ben@example.com", "Ben's phone").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    // A number no account has: its code, read from the development sink,
    // gives tokens for a new account whose profile is still to complete.
    const MEI: &str = "+8613800138000";
    let res = post(
        &app,
        "/api/v1/auth/sms",
        None,
        json!({"phone": "+86 138 0013 8000"}),
    )
    .await;
    assert_eq!(res.status(), 202);
    let code = crate::sms::next_code(&app, MEI, 0).await;
    let res = post(
        &app,
        "/api/v1/auth/sms/verify",
        None,
        json!({"phone": MEI, "code": code, "device": "Mei's phone"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["user"]["profile_complete"], false);
    let mei_id = tokens["user"]["id"].as_i64().unwrap();
    let mei = tokens["access_token"].as_str().unwrap().to_string();
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    // Before the profile is complete: no swipe, and nobody sees her.
    let like = |token: String, target: i64| {
        let app = &app;
        async move {
            as_app(
                app,
                Method::POST,
                "/api/v1/swipes",
                &token,
                Some(json!({"target": target, "kind": "like"})),
            )
            .await
        }
    };
    assert_problem(like(mei.clone(), ben_id).await, 403, "profile_incomplete").await;
    assert_problem(like(ben.clone(), mei_id).await, 404, "not_found").await;
    let me: Value = as_app(&app, Method::GET, "/api/v1/me", &mei, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["profile_complete"], false);
    assert_eq!(me["email"], Value::Null, "no address, no stand-in shown");
    assert_eq!(me["sex"], Value::Null);

    // Completing it takes nickname, sex and birthday (18+), each with a code.
    let profile = |body: Value| {
        let (app, mei) = (&app, mei.clone());
        async move { as_app(app, Method::PUT, "/api/v1/me/profile", &mei, Some(body)).await }
    };
    let res = profile(json!({"bio": "Tea and trains", "birthday": "2020-01-01"})).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"]["nickname"], "required", "{body}");
    assert_eq!(body["errors"]["sex"], "required");
    assert_eq!(body["errors"]["birthday"], "under_18");
    let res = profile(json!({
        "nickname": "Mei", "sex": "female", "birthday": "1995-03-08",
        "bio": "Tea and trains", "city": "Paris", "latitude": 48.86, "longitude": 2.35,
        "want_sex": "male", "max_distance_km": 100,
    }))
    .await;
    assert_eq!(res.status(), 204);
    let me: Value = as_app(&app, Method::GET, "/api/v1/me", &mei, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["profile_complete"], true, "{me}");
    assert_eq!(me["sex"], "female");
    assert_eq!(me["birthday"], "1995-03-08");
    assert_eq!(me["profile"]["nickname"], "Mei");
    let res = profile(json!({"sex": "male"})).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"]["sex"], "read_only", "given once");

    // A photo, by multipart upload.
    let res = upload_photo(&app, &mei, crate::photos::png(64, 64)).await;
    assert_eq!(res.status(), 201);
    photo_ready(&app, &mei).await;

    // The feed, a like each way, a match.
    let feed: Value = as_app(&app, Method::GET, "/api/v1/feed", &mei, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(feed["items"][0]["id"], ben_id, "{feed}");
    let res = like(mei.clone(), ben_id).await;
    assert_eq!(res.status(), 201);
    let ben_feed: Value = as_app(&app, Method::GET, "/api/v1/feed", &ben, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ben_feed["items"][0]["id"], mei_id, "{ben_feed}");
    assert_eq!(ben_feed["items"][0]["photos"].as_array().unwrap().len(), 1);
    let swiped: Value = like(ben.clone(), mei_id).await.json().await.unwrap();
    assert_eq!(swiped["matched"], true);
    let match_id = swiped["match_id"].as_i64().unwrap();

    // Mei hears Ben's message on the socket, with her bearer token.
    let mut socket = ws_connect_bearer(&app.base, &mei).await.expect("a socket");
    let res = as_app(
        &app,
        Method::POST,
        &format!("/api/v1/matches/{match_id}/messages"),
        &ben,
        Some(json!({"body": "Ni hao Mei", "client_id": "c0ffee00-0000-4000-8000-0000000000aa"})),
    )
    .await;
    assert_eq!(res.status(), 201);
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["type"], "message");
    assert_eq!(frame["body"], "Ni hao Mei");
    assert_eq!(frame["from"], ben_id);

    // Refresh, then log out: the session's tokens stop working.
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": first_refresh}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let renewed: Value = res.json().await.unwrap();
    assert_eq!(renewed["user"]["profile_complete"], true);
    let access = renewed["access_token"].as_str().unwrap();
    let refresh = renewed["refresh_token"].as_str().unwrap();
    assert_eq!(get(&app, "/api/v1/me", Some(access)).await.status(), 200);
    let res = call(
        &app,
        Method::POST,
        "/api/v1/auth/logout",
        Some(access),
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_problem(
        get(&app, "/api/v1/me", Some(access)).await,
        401,
        "login_required",
    )
    .await;
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(res.status(), 401);
}

/// Every `.route("…", web::method()…)` registered under `/api/v1`, read from
/// the source: the document must describe each one.
fn api_routes() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for file in ["src/api/mod.rs", "src/api/member.rs", "src/api/profile.rs"] {
        let text: String = std::fs::read_to_string(file)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for piece in text.split(".route(\"").skip(1) {
            let Some((path, rest)) = piece.split_once("\",web::") else {
                continue;
            };
            let method = rest.split("()").next().unwrap().to_string();
            found.push((format!("/api/v1{path}"), method));
        }
    }
    found
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_with_its_errors_and_security() {
    let app = spawn_app().await;
    let res = get(&app, "/api/v1/openapi.json", None).await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "code", "detail", "errors"] {
        assert!(problem[field].is_object(), "Problem.{field}");
    }

    let routes = api_routes();
    assert!(routes.len() >= 21, "the scan found {routes:?}");
    for (path, method) in &routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not in the document");
        let responses = &op["responses"];
        let success = ["200", "201", "202", "204"];
        assert!(
            success.iter().any(|s| responses[s].is_object()),
            "{method} {path}: no success answer"
        );
        for status in ["400", "429"] {
            let content = &responses[status]["content"]["application/problem+json"];
            assert!(content.is_object(), "{method} {path}: no {status} problem");
        }
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if secured {
            assert!(responses["401"].is_object(), "{method} {path}: no 401");
        }
        // Only the token endpoints and the public documents go without a token.
        let public = path.starts_with("/api/v1/auth/") && path != "/api/v1/auth/logout"
            || path.ends_with(".json");
        assert_eq!(secured, !public, "{method} {path}: security");
    }
    // And nothing in the document that the code does not serve.
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, routes.len(), "documented operations");
}

#[tokio::test]
async fn an_app_reads_my_data_without_anyone_elses() {
    use crate::discovery::{join, swipe, Person};
    let app = spawn_app().await;
    let (ana, ana_id) = join(
        &app,
        &Person::new("ana@example.com", "female", "1990-05-17"),
    )
    .await;
    let (bo, bo_id) = join(&app, &Person::new("bo@example.com", "male", "1990-01-01")).await;
    assert_eq!(swipe(&ana, bo_id, "like").await.status(), 303);
    assert_eq!(swipe(&bo, ana_id, "like").await.status(), 303);
    let token = log_in(&app, "ana@example.com", "phone").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get(&app, "/api/v1/me/export", None).await.status(), 401);
    let res = get(&app, "/api/v1/me/export", Some(&token)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let data: Value = res.json().await.unwrap();
    for part in [
        "account",
        "profile",
        "preferences",
        "photos",
        "swipes",
        "matches",
        "messages",
        "reports",
        "blocks",
        "sessions",
        "security_events",
    ] {
        assert!(data.get(part).is_some(), "{part} in {data}");
    }
    assert_eq!(data["account"]["email"], "ana@example.com");
    assert_eq!(data["matches"][0]["with"]["id"], bo_id);
    let text = data.to_string();
    assert!(!text.contains("bo@example.com") && !text.contains("1990-01-01"));
}
