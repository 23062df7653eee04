//! Chat between matches: the form and the WebSocket, stored once, delivered
//! across instances, bad frames, reconnecting, closing, unread counts.

use diesel::prelude::*;
use serde_json::json;
use swiper::db::schema::{matches, messages};
use tokio_tungstenite::tungstenite::Message;

use crate::discovery::{join, swipe, Person};
use crate::helpers::*;

/// Two members who liked each other: (their browsers, ids, the match id).
/// Everyone a test needs joins before the first match (the match mails
/// would come between a sign-up and its verification mail).
async fn pair(
    app: &TestApp,
    a: &'static str,
    b: &'static str,
) -> (Browser, i64, Browser, i64, i64) {
    let (ab, aid) = join(app, &Person::new(a, "female", "1990-05-17")).await;
    let (bb, bid) = join(app, &Person::new(b, "male", "1990-01-01")).await;
    matched(app, &ab, aid, &bb, bid).await
}

async fn matched(
    app: &TestApp,
    ab: &Browser,
    aid: i64,
    bb: &Browser,
    bid: i64,
) -> (Browser, i64, Browser, i64, i64) {
    let (ab, bb) = (ab.clone(), bb.clone());
    assert_eq!(swipe(&ab, bid, "like").await.status(), 303);
    assert_eq!(swipe(&bb, aid, "like").await.status(), 303);
    let match_id = app
        .db(move |c| {
            matches::table
                .filter(matches::user_a.eq(aid.min(bid)))
                .filter(matches::user_b.eq(aid.max(bid)))
                .select(matches::id)
                .first::<i64>(c)
        })
        .await;
    (ab, aid, bb, bid, match_id)
}

fn origin(app: &TestApp) -> String {
    app.base.clone()
}

async fn socket(app: &TestApp, b: &Browser, query: &str) -> Ws {
    ws_connect(b, Some(&origin(app)), query)
        .await
        .expect("the socket opens")
}

async fn stored(app: &TestApp) -> i64 {
    app.db(|c| messages::table.count().get_result::<i64>(c))
        .await
}

fn badge(html: &str, attr: &str) -> Option<String> {
    let rest = html.split(attr).nth(1)?;
    let tag_end = rest.find('>')?;
    if rest[..tag_end].contains("hidden") {
        return Some("0".into());
    }
    Some(rest[tag_end + 1..].split('<').next()?.trim().to_string())
}

#[tokio::test]
async fn a_form_message_reaches_the_socket_once_and_unread_counts_follow() {
    let app = spawn_app().await;
    let (ana, ana_id, bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut bo_ws = socket(&app, &bo, "").await;

    let form = [("body", "  hello Bo  "), ("client_id", "form-1")];
    let res = ana.post(&format!("/matches/{m}/messages"), &form).await;
    assert_eq!(res.status(), 303);
    let frame = next_frame(&mut bo_ws).await;
    assert_eq!(frame["type"], "message");
    assert_eq!(frame["match_id"], m);
    assert_eq!(frame["from"], ana_id);
    assert_eq!(frame["body"], "hello Bo", "trimmed");
    assert_eq!(frame["client_id"], "form-1");
    assert!(frame["sent_at"].as_str().unwrap_or("").ends_with('Z'));
    // The same form sent again stores nothing new.
    let res = ana.post(&format!("/matches/{m}/messages"), &form).await;
    assert_eq!(res.status(), 303);
    assert_eq!(stored(&app).await, 1);

    // Unread: Bo's badge and the match's count, zero once Bo opens it.
    let list = bo.html("/matches").await;
    assert_eq!(
        badge(&list, "data-unread-total").as_deref(),
        Some("1"),
        "{list}"
    );
    assert_eq!(
        badge(&list, &format!("data-unread=\"{m}\"")).as_deref(),
        Some("1")
    );
    let page = bo.html(&format!("/matches/{m}")).await;
    assert!(page.contains("hello Bo"));
    assert_eq!(
        badge(&page, "data-unread-total").as_deref(),
        Some("0"),
        "read as it is shown, the navigation too"
    );
    let read = next_frame(&mut bo_ws).await;
    assert_eq!(read["type"], "read");
    let list = bo.html("/matches").await;
    assert_eq!(badge(&list, "data-unread-total").as_deref(), Some("0"));
    assert_eq!(
        badge(&list, &format!("data-unread=\"{m}\"")).as_deref(),
        Some("0")
    );
    // Ana sees it was read.
    assert!(ana
        .html(&format!("/matches/{m}"))
        .await
        .contains("data-seen"));

    // Bad form input changes nothing.
    let res = ana
        .post(&format!("/matches/{m}/messages"), &[("body", "   ")])
        .await;
    assert_error(res, 422, "message_empty").await;
    let long = "x".repeat(2001);
    let res = ana
        .post(&format!("/matches/{m}/messages"), &[("body", &long)])
        .await;
    assert_error(res, 422, "message_too_long").await;
    let res = ana
        .post(
            &format!("/matches/{m}/messages"),
            &[("body", "nul\u{0}byte")],
        )
        .await;
    assert_error(res, 400, "invalid_input").await;
    assert_eq!(stored(&app).await, 1);
}

#[tokio::test]
async fn foreign_origins_visitors_and_other_peoples_matches_are_refused() {
    let app = spawn_app().await;
    let (eve, _) = join(
        &app,
        &Person::new("eve@example.com", "female", "1991-01-01"),
    )
    .await;
    let (ana, _, _bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;

    let visitor = app.new_browser();
    let e = ws_connect(&visitor, Some(&origin(&app)), "").await.err();
    let status = e.as_ref().and_then(refused_status);
    // Not upgraded: sent to the login page, as any page is for a visitor.
    assert!(
        matches!(status, Some(303) | Some(401)),
        "anonymous: {status:?}"
    );
    let e = ws_connect(&ana, Some("http://evil.example"), "")
        .await
        .err();
    assert_eq!(
        e.as_ref().and_then(refused_status),
        Some(403),
        "foreign origin"
    );
    let e = ws_connect(&ana, None, "").await.err();
    assert_eq!(e.as_ref().and_then(refused_status), Some(403), "no origin");

    // Eve cannot write into Ana and Bo's match, by socket or by form.
    let mut eve_ws = socket(&app, &eve, "").await;
    send_json(
        &mut eve_ws,
        json!({"type": "send", "match_id": m, "body": "hi", "client_id": "e1"}),
    )
    .await;
    let frame = next_frame(&mut eve_ws).await;
    assert_eq!(frame["type"], "error");
    assert_eq!(frame["code"], "match_closed");
    let res = eve
        .post(&format!("/matches/{m}/messages"), &[("body", "hi")])
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(eve.get(&format!("/matches/{m}")).await.status(), 404);
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test]
async fn each_bad_frame_gets_an_error_frame_and_the_socket_keeps_working() {
    let app = spawn_app().await;
    let (ana, ana_id, _bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ws = socket(&app, &ana, "").await;
    let long = "x".repeat(2001);
    let bad: Vec<(Message, &str)> = vec![
        (Message::Text("not json".into()), "invalid_frame"),
        (
            Message::Text(json!({"type": "shout"}).to_string().into()),
            "invalid_frame",
        ),
        (
            Message::Text(json!({"type": "send", "match_id": m}).to_string().into()),
            "invalid_frame",
        ),
        (
            Message::Text(
                json!({"type": "send", "match_id": m + 1000, "body": "hi", "client_id": "a"})
                    .to_string()
                    .into(),
            ),
            "match_closed",
        ),
        (
            Message::Text(
                json!({"type": "send", "match_id": m, "body": " \n ", "client_id": "b"})
                    .to_string()
                    .into(),
            ),
            "message_empty",
        ),
        (
            Message::Text(
                json!({"type": "send", "match_id": m, "body": long, "client_id": "c"})
                    .to_string()
                    .into(),
            ),
            "message_too_long",
        ),
        (
            Message::Text(
                json!({"type": "send", "match_id": m, "body": "hi", "client_id": "no spaces!"})
                    .to_string()
                    .into(),
            ),
            "invalid_frame",
        ),
        (
            Message::Text(
                json!({"type": "send", "match_id": m, "body": "a\u{0}b", "client_id": "d"})
                    .to_string()
                    .into(),
            ),
            "invalid_input",
        ),
        (Message::Binary(vec![1u8, 2, 3].into()), "invalid_frame"),
    ];
    for (frame, code) in bad {
        let shown = format!("{frame:?}");
        send_raw(&mut ws, frame).await;
        let reply = next_frame(&mut ws).await;
        assert_eq!(reply["type"], "error", "{shown}");
        assert_eq!(reply["code"], code, "{shown}");
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(stored(&app).await, 0, "nothing stored");
    send_json(
        &mut ws,
        json!({"type": "send", "match_id": m, "body": "still here", "client_id": "ok-1"}),
    )
    .await;
    let frame = next_frame(&mut ws).await;
    assert_eq!(
        frame["type"], "message",
        "the sender's own tabs hear it too"
    );
    assert_eq!(frame["from"], ana_id);
    assert_eq!(frame["body"], "still here");
}

#[tokio::test]
async fn a_resent_client_id_stores_once_and_a_reconnect_gets_every_missed_message_in_order() {
    let app = spawn_app().await;
    app.state
        .runtime
        .set("rate_messages_per_member", 1000, app.state.clock.now())
        .await
        .expect("runtime")
        .expect("in range");
    let (ana, _, bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ana_ws = socket(&app, &ana, "").await;
    let send = json!({"type": "send", "match_id": m, "body": "once", "client_id": "same-id"});
    send_json(&mut ana_ws, send.clone()).await;
    let first = next_frame(&mut ana_ws).await;
    send_json(&mut ana_ws, send).await;
    let again = next_frame(&mut ana_ws).await;
    assert_eq!(
        first["id"], again["id"],
        "the resend answers with the stored message"
    );
    assert_eq!(stored(&app).await, 1);
    let seen = first["id"].as_i64().expect("an id");

    // Bo is offline while Ana sends 100 messages.
    for i in 0..100 {
        let id = format!("m-{i}");
        send_json(
            &mut ana_ws,
            json!({"type": "send", "match_id": m, "body": format!("n{i}"), "client_id": id}),
        )
        .await;
        assert_eq!(next_frame(&mut ana_ws).await["body"], format!("n{i}"));
    }
    let mut bo_ws = socket(&app, &bo, &format!("?after={seen}")).await;
    let mut last = seen;
    for i in 0..100 {
        let frame = next_frame(&mut bo_ws).await;
        assert_eq!(frame["body"], format!("n{i}"), "in order");
        let id = frame["id"].as_i64().expect("an id");
        assert!(id > last);
        last = id;
    }
    // The next frame is the next live message: nothing came twice.
    send_json(
        &mut ana_ws,
        json!({"type": "send", "match_id": m, "body": "live", "client_id": "live-1"}),
    )
    .await;
    assert_eq!(next_frame(&mut bo_ws).await["body"], "live");
    assert_eq!(stored(&app).await, 102);
}

#[tokio::test]
async fn unmatch_and_block_close_the_conversation_for_both() {
    let app = spawn_app().await;
    let (cy, cy_id) = join(&app, &Person::new("cy@example.com", "female", "1990-05-17")).await;
    let (dan, dan_id) = join(&app, &Person::new("dan@example.com", "male", "1990-01-01")).await;
    let (ana, _, bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ana_ws = socket(&app, &ana, "").await;
    let mut bo_ws = socket(&app, &bo, "").await;
    assert_eq!(
        ana.post(&format!("/matches/{m}/messages"), &[("body", "bye?")])
            .await
            .status(),
        303
    );
    assert_eq!(next_frame(&mut ana_ws).await["type"], "message");
    assert_eq!(next_frame(&mut bo_ws).await["type"], "message");
    assert_eq!(
        ana.post(&format!("/matches/{m}/unmatch"), &[])
            .await
            .status(),
        303
    );
    for ws in [&mut ana_ws, &mut bo_ws] {
        let frame = next_frame(ws).await;
        assert_eq!(frame, json!({"type": "closed", "match_id": m}));
    }
    send_json(
        &mut bo_ws,
        json!({"type": "send", "match_id": m, "body": "wait", "client_id": "w1"}),
    )
    .await;
    assert_eq!(next_frame(&mut bo_ws).await["code"], "match_closed");
    let res = bo
        .post(&format!("/matches/{m}/messages"), &[("body", "wait")])
        .await;
    assert_error(res, 409, "match_closed").await;
    assert_eq!(
        bo.get(&format!("/matches/{m}")).await.status(),
        404,
        "history hidden"
    );
    let list = bo.html("/matches").await;
    assert_eq!(
        badge(&list, "data-unread-total").as_deref(),
        Some("0"),
        "the unread message left the badge"
    );

    // Blocking ends another conversation the same way.
    let (cy, _, dan, dan_id, m2) = matched(&app, &cy, cy_id, &dan, dan_id).await;
    let mut cy_ws = socket(&app, &cy, "").await;
    let mut dan_ws = socket(&app, &dan, "").await;
    let res = cy.post(&format!("/users/{dan_id}/block"), &[]).await;
    assert_eq!(res.status(), 303);
    for ws in [&mut cy_ws, &mut dan_ws] {
        assert_eq!(
            next_frame(ws).await,
            json!({"type": "closed", "match_id": m2})
        );
    }
    assert_eq!(dan.get(&format!("/matches/{m2}")).await.status(), 404);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn a_message_sent_on_one_instance_reaches_a_socket_on_the_other() {
    require_postgres_and_redis();
    let (a, b) = spawn_two().await;
    let (ana, ana_id, bo, _, m) = pair(&a, "ana@example.com", "bo@example.com").await;
    let bo_on_b = bo.on(&b.base);
    let mut bo_ws = ws_connect(&bo_on_b, Some(&b.base), "")
        .await
        .expect("socket on B");
    // Through the form on A.
    let res = ana
        .post(&format!("/matches/{m}/messages"), &[("body", "from A")])
        .await;
    assert_eq!(res.status(), 303);
    let frame = next_frame(&mut bo_ws).await;
    assert_eq!(frame["body"], "from A");
    assert_eq!(frame["from"], ana_id);
    // Through a socket on A.
    let mut ana_ws = ws_connect(&ana, Some(&a.base), "")
        .await
        .expect("socket on A");
    send_json(
        &mut ana_ws,
        json!({"type": "send", "match_id": m, "body": "socket A", "client_id": "s-a"}),
    )
    .await;
    assert_eq!(next_frame(&mut bo_ws).await["body"], "socket A");
    assert_eq!(next_frame(&mut ana_ws).await["body"], "socket A");
    // Through the form on B, heard on A.
    let res = bo_on_b
        .post(&format!("/matches/{m}/messages"), &[("body", "from B")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(next_frame(&mut ana_ws).await["body"], "from B");
}

#[tokio::test]
async fn a_stopping_instance_closes_sockets_with_going_away_and_counts_them() {
    use futures_util::StreamExt;
    let app = spawn_app().await;
    let (ana, _, bo, _, _) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ana_ws = socket(&app, &ana, "").await;
    let _bo_ws = socket(&app, &bo, "").await;
    // Registered before the upgrade answers: both are counted by now.
    assert_eq!(app.state.hub.open_sockets(), 2);
    app.state.hub.shutdown();
    let close = loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ana_ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open until the close frame")
            .expect("a valid frame");
        if let Message::Close(frame) = msg {
            break frame;
        }
    };
    let code = close.map(|f| u16::from(f.code));
    assert_eq!(code, Some(1001), "going away: reconnect elsewhere");
}

#[tokio::test]
async fn concurrent_sends_store_one_message_per_client_id_and_count_every_other_one() {
    let app = spawn_app().await;
    let (ana, _, bo, bo_id, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    let path = format!("/matches/{m}/messages");
    // One form sent ten times at once (one client id): one message.
    let statuses = ana
        .post_concurrently(&path, &[("body", "once"), ("client_id", "dup-1")], 10)
        .await;
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(stored(&app).await, 1);
    // Twenty different messages at once: all stored, all unread.
    let mut sends = Vec::new();
    for i in 0..20 {
        let (ana, path) = (ana.clone(), path.clone());
        sends.push(tokio::spawn(async move {
            let id = format!("many-{i}");
            ana.post(&path, &[("body", "hi"), ("client_id", &id)])
                .await
                .status()
                .as_u16()
        }));
    }
    for s in sends {
        assert_eq!(s.await.expect("task"), 303);
    }
    assert_eq!(stored(&app).await, 21);
    let (unread, total) = app
        .db(move |c| {
            use swiper::db::schema::users;
            let m: swiper::matches::store::Match = matches::table
                .find(m)
                .select(swiper::matches::store::Match::as_select())
                .first(c)?;
            let total = users::table
                .find(bo_id)
                .select(users::unread_messages)
                .first::<i64>(c)?;
            Ok((m.unread_for(swiper::auth::UserId(bo_id)), total))
        })
        .await;
    assert_eq!((unread, total), (21, 21));
    let list = bo.html("/matches").await;
    assert_eq!(badge(&list, "data-unread-total").as_deref(), Some("21"));
}

#[tokio::test]
async fn one_member_cannot_hold_more_sockets_than_the_bound() {
    let app = spawn_app_with(&[("CHAT_SOCKETS_PER_MEMBER", "3")]).await;
    let (ana, ana_id, _bo, _, _) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(socket(&app, &ana, "").await);
    }
    let e = ws_connect(&ana, Some(&origin(&app)), "").await.err();
    assert_eq!(
        e.as_ref().and_then(refused_status),
        Some(429),
        "a fourth tab"
    );
    drop(open.pop());
    // The closed socket leaves the count once the server sees it go.
    wait_until("a socket slot frees up", || async {
        app.state.hub.sockets_of(swiper::auth::UserId(ana_id)) < 3
    })
    .await;
    open.push(socket(&app, &ana, "").await);
}

#[tokio::test]
async fn a_frame_over_8_kb_closes_the_socket_with_message_too_big() {
    use futures_util::StreamExt;
    let app = spawn_app().await;
    let (ana, _, _bo, _, _) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ws = socket(&app, &ana, "").await;
    send_raw(&mut ws, Message::Text("x".repeat(9000).into())).await;
    let close = loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open until the close frame")
            .expect("a valid frame");
        if let Message::Close(frame) = msg {
            break frame;
        }
    };
    assert_eq!(close.map(|f| u16::from(f.code)), Some(1009));
    assert_eq!(stored(&app).await, 0);
}

/// Reads until the close frame: the text frames before it, and its code.
async fn until_close(ws: &mut Ws) -> (Vec<serde_json::Value>, Option<u16>) {
    use futures_util::StreamExt;
    let mut frames = Vec::new();
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open until the close frame")
            .expect("a valid frame");
        match msg {
            Message::Text(text) => frames.push(serde_json::from_str(&text).expect("JSON")),
            Message::Close(frame) => return (frames, frame.map(|f| u16::from(f.code))),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_socket_whose_session_ends_signs_out_and_the_others_stay() {
    let app = spawn_app().await;
    // Staff first: everyone joins before the first match (its mails).
    let admin = crate::admin::staff(&app, "root@example.com", "superadmin").await;
    let (ana, _, bo, bo_id, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    // Ana on a second device, with a socket on each.
    let phone = app.new_browser();
    assert_eq!(
        phone.login("ana@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    let mut ana_ws = socket(&app, &ana, "").await;
    let mut phone_ws = socket(&app, &phone, "").await;
    let mut bo_ws = socket(&app, &bo, "").await;

    // "Log out everywhere else" from the first device: the phone's socket
    // says so and closes; the first device's stays and keeps hearing.
    let res = ana.post("/settings/sessions/revoke-others", &[]).await;
    assert_eq!(res.status(), 303);
    let (frames, code) = until_close(&mut phone_ws).await;
    assert_eq!(frames, vec![json!({ "type": "signed_out" })]);
    assert_eq!(code, Some(1008));
    let res = bo
        .post(
            &format!("/matches/{m}/messages"),
            &[("body", "still there?")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(next_frame(&mut ana_ws).await["body"], "still there?");
    assert_eq!(next_frame(&mut bo_ws).await["body"], "still there?");

    // A ban signs out the banned member's open socket.
    let res = admin
        .post(&format!("/admin/users/{bo_id}/ban"), &[("reason", "spam")])
        .await;
    assert_eq!(res.status(), 303);
    let (frames, code) = until_close(&mut bo_ws).await;
    assert_eq!(frames, vec![json!({ "type": "signed_out" })]);
    assert_eq!(code, Some(1008));
    // The socket is gone, and the form answers as to a visitor.
    let res = bo
        .post(
            &format!("/matches/{m}/messages"),
            &[("body", "after the ban")],
        )
        .await;
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    assert_eq!(stored(&app).await, 1);
}

#[tokio::test]
async fn logging_in_as_someone_else_on_a_shared_browser_signs_out_the_first_members_socket() {
    let app = spawn_app().await;
    let (ana, _, bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ana_ws = socket(&app, &ana, "").await;
    let mut bo_ws = socket(&app, &bo, "").await;
    // Bo logs in on Ana's computer: her session there ends, and her open
    // chat page must not keep receiving their messages.
    assert_eq!(
        ana.login("bo@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    let (frames, code) = until_close(&mut ana_ws).await;
    assert_eq!(frames, vec![json!({ "type": "signed_out" })]);
    assert_eq!(code, Some(1008));
    // Bo's socket on his own device keeps hearing.
    let res = ana
        .post(
            &format!("/matches/{m}/messages"),
            &[("body", "from her computer")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(next_frame(&mut bo_ws).await["body"], "from her computer");
}

#[tokio::test]
async fn read_markers_are_rate_limited_like_messages_and_the_socket_stays_open() {
    let app = spawn_app().await;
    app.state
        .runtime
        .set("rate_reads_per_member", 5, app.state.clock.now())
        .await
        .expect("runtime")
        .expect("in range");
    let (ana, _, _bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ws = socket(&app, &ana, "").await;
    for _ in 0..6 {
        send_json(&mut ws, json!({"type": "read", "match_id": m, "up_to": 1})).await;
    }
    let refused = loop {
        let frame = next_frame(&mut ws).await;
        if frame["type"] == "error" {
            break frame;
        }
        assert_eq!(frame["type"], "read", "{frame}");
    };
    assert_eq!(refused["code"], "rate_limited");
    send_json(
        &mut ws,
        json!({"type": "send", "match_id": m, "body": "still here", "client_id": "c-1"}),
    )
    .await;
    let message = loop {
        let frame = next_frame(&mut ws).await;
        if frame["type"] == "message" {
            break frame;
        }
    };
    assert_eq!(message["body"], "still here");
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_the_socket_with_invalid_payload() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let app = spawn_app().await;
    let (ana, _, _bo, _, _) = pair(&app, "ana@example.com", "bo@example.com").await;
    let mut ws = socket(&app, &ana, "").await;
    let frame = Frame::message(vec![0xff, 0xfe, 0x80], OpCode::Data(Data::Text), true);
    send_raw(&mut ws, Message::Frame(frame)).await;
    let (_, code) = until_close(&mut ws).await;
    assert_eq!(code, Some(1007));
    assert_eq!(stored(&app).await, 0);
}

/// A ban hides the member from their matches too: their page, the
/// conversation and the list are gone for the other side, a message to them
/// is refused, and the other side's open socket hears the conversation end.
#[tokio::test]
async fn a_ban_hides_the_member_from_their_matches_and_closes_the_conversations() {
    let app = spawn_app().await;
    let admin = crate::admin::staff(&app, "boss@example.com", "superadmin").await;
    let (ana, ana_id, bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    assert_eq!(bo.get(&format!("/users/{ana_id}")).await.status(), 200);
    let mut bo_ws = socket(&app, &bo, "").await;
    let res = admin
        .post(&format!("/admin/users/{ana_id}/ban"), &[("reason", "spam")])
        .await;
    assert_eq!(res.status(), 303);
    let closed = loop {
        let frame = next_frame(&mut bo_ws).await;
        if frame["type"] == "closed" {
            break frame;
        }
    };
    assert_eq!(closed["match_id"], m);
    assert_eq!(bo.get(&format!("/users/{ana_id}")).await.status(), 404);
    assert_eq!(bo.get(&format!("/matches/{m}")).await.status(), 404);
    let res = bo
        .post(
            &format!("/matches/{m}/messages"),
            &[("body", "still there?")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(!bo
        .html("/matches")
        .await
        .contains(&format!("/matches/{m}\"")));
    assert_eq!(stored(&app).await, 0);
    assert!(!ana.is_logged_in().await);
}

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in:\n{html}"))
        + start.len();
    let len = html[from..].find(end).unwrap_or(0);
    &html[from..from + len]
}

#[tokio::test]
async fn conversations_read_like_a_messenger_newest_first_in_my_time_zone() {
    // 21:30 UTC on 1 June is 23:30 in Paris, everyone's time zone here.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(21, 30, 0))
        .unwrap();
    let clock = swiper::clock::Clock::manual(start);
    let app = spawn_app_with_clock(clock.clone()).await;
    let (ana, ana_id) = join(
        &app,
        &Person::new("ana@example.com", "female", "1990-05-17"),
    )
    .await;
    let (bo, bo_id) = join(&app, &Person::new("bo@example.com", "male", "1990-01-01")).await;
    let (cy, cy_id) = join(&app, &Person::new("cy@example.com", "male", "1991-01-01")).await;
    let (.., with_bo) = matched(&app, &ana, ana_id, &bo, bo_id).await;
    let (.., with_cy) = matched(&app, &ana, ana_id, &cy, cy_id).await;

    // Bo writes yesterday (Paris); Ana answers; Cy writes today.
    let send = |b: Browser, m: i64, body: &'static str| async move {
        let res = b
            .post(&format!("/matches/{m}/messages"), &[("body", body)])
            .await;
        assert_eq!(res.status(), 303);
    };
    send(bo.clone(), with_bo, "Coffee tomorrow?").await;
    send(ana.clone(), with_bo, "Yes, at ten").await;
    clock.advance(chrono::TimeDelta::hours(1)); // 00:30 in Paris, 2 June
    send(cy.clone(), with_cy, "Hello from Cy").await;

    let list = ana.html("/matches").await;
    let (bo_at, cy_at) = (
        list.find(&format!("data-match=\"{with_bo}\"")).unwrap(),
        list.find(&format!("data-match=\"{with_cy}\"")).unwrap(),
    );
    assert!(cy_at < bo_at, "the newest conversation first");
    let cy_item = between(&list, &format!("data-match=\"{with_cy}\""), "</li>");
    assert!(cy_item.contains("Hello from Cy"), "{cy_item}");
    assert!(
        cy_item.contains(">00:30</time>"),
        "today, Paris time: {cy_item}"
    );
    let bo_item = between(&list, &format!("data-match=\"{with_bo}\""), "</li>");
    assert!(
        bo_item.contains("You: Yes, at ten"),
        "my last message: {bo_item}"
    );
    assert!(bo_item.contains(">Yesterday 23:30</time>"), "{bo_item}");

    // The open conversation: the list beside it, its profile a tap away,
    // "Seen" once, under my newest message Bo has read.
    send(ana.clone(), with_bo, "See you").await;
    let page = bo.html(&format!("/matches/{with_bo}")).await;
    assert!(page.contains(&format!("href=\"/users/{ana_id}\"")));
    assert!(page.contains("class=\"conversation-list\""));
    let page = ana.html(&format!("/matches/{with_bo}")).await;
    assert_eq!(page.matches("data-seen>").count(), 1, "{page}");
    let seen_in = between(&page, ">Yes, at ten</p>", "</li>");
    assert!(!seen_in.contains("data-seen"), "not under an older message");
    let seen_in = between(&page, ">See you</p>", "</li>");
    assert!(
        seen_in.contains("data-seen"),
        "under the newest read one: {seen_in}"
    );
    assert!(page.contains("aria-current=\"page\""));
}

/// Runs the jobs due by now and waits until none of `kind` is left to run.
pub async fn jobs_settle(app: &TestApp, kind: &'static str) {
    use swiper::db::schema::jobs;
    let now = app.state.clock.now();
    wait_until("the due jobs ran", || async {
        app.db(move |c| {
            jobs::table
                .filter(jobs::kind.eq(kind))
                .filter(jobs::status.ne("done"))
                .filter(jobs::run_at.le(now))
                .count()
                .get_result::<i64>(c)
        })
        .await
            == 0
    })
    .await;
}

#[tokio::test]
async fn a_member_away_gets_one_mail_an_hour_per_conversation_in_her_language() {
    use swiper::db::schema::{jobs, users};
    let clock = swiper::clock::Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock(clock.clone()).await;
    let (ana, ana_id, bo, _, m) = pair(&app, "ana@example.com", "bo@example.com").await;
    for _ in 0..2 {
        app.mail.next_mail().await; // the match mails
    }
    // She reads the site in Chinese.
    let res = ana.post("/language", &[("lang", "zh-CN")]).await;
    assert_eq!(res.status(), 303);
    let send = |body: &'static str, id: &'static str| {
        let bo = bo.clone();
        async move {
            let form = [("body", body), ("client_id", id)];
            let res = bo.post(&format!("/matches/{m}/messages"), &form).await;
            assert_eq!(res.status(), 303);
        }
    };
    send("hello Ana", "m-1").await;
    send("are you there?", "m-2").await;
    let queued = || {
        app.db(|c| {
            jobs::table
                .filter(jobs::kind.eq("mail.message"))
                .count()
                .get_result::<i64>(c)
        })
    };
    assert_eq!(queued().await, 1, "one batch for the hour");

    // After the hour (and its five minutes of grace): one mail, in Chinese.
    clock.advance(chrono::TimeDelta::minutes(66));
    let raw = app.mail.next_raw().await;
    assert!(raw.contains("To: ana@example.com"), "{raw}");
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    let (subject, body) = read_mail(&raw);
    assert_eq!(subject, "bo 在 Swiper 上给您发来了消息", "{subject}");
    assert!(body.contains("给您发来了消息"), "{body}");
    assert!(body.contains(&format!("/matches/{m}")), "{body}");
    assert!(
        !body.contains("hello Ana"),
        "the message itself stays on the site"
    );
    jobs_settle(&app, "mail.message").await;
    assert!(
        app.mail.try_next().await.is_none(),
        "one mail for two messages"
    );

    // Read before the next batch is due: no mail.
    send("ping", "m-3").await;
    let list = ana.html(&format!("/matches/{m}")).await;
    assert!(list.contains("ping"));
    let newest = app
        .db(move |c| {
            swiper::db::schema::messages::table
                .filter(swiper::db::schema::messages::match_id.eq(m))
                .select(diesel::dsl::max(swiper::db::schema::messages::id))
                .first::<Option<i64>>(c)
        })
        .await
        .unwrap_or(0);
    let mut ws = socket(&app, &ana, "").await;
    send_json(
        &mut ws,
        json!({"type": "read", "match_id": m, "up_to": newest}),
    )
    .await;
    assert_eq!(next_frame(&mut ws).await["type"], "read");
    clock.advance(chrono::TimeDelta::minutes(66));
    jobs_settle(&app, "mail.message").await;
    assert!(app.mail.try_next().await.is_none(), "she read it: no mail");

    // The link turns these mails off (hers only), without a login.
    send("still there?", "m-4").await;
    let url = raw
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .and_then(|l| l.strip_suffix('>'))
        .expect("a one-click link")
        .to_string();
    assert!(url.contains("m=message"), "{url}");
    let res = reqwest::Client::new()
        .post(&url)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let wants = app
        .db(move |c| {
            users::table
                .find(ana_id)
                .select((users::message_mail, users::match_mail))
                .first::<(bool, bool)>(c)
        })
        .await;
    assert_eq!(wants, (false, true), "only the message mails are off");
    clock.advance(chrono::TimeDelta::minutes(66));
    jobs_settle(&app, "mail.message").await;
    assert!(app.mail.try_next().await.is_none(), "turned off: no mail");

    // Settings turn it back on (a new login: hours went by).
    let ana = app.new_browser();
    assert_eq!(
        ana.login("ana@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    let res = ana.post("/settings/mails", &[("message_mail", "on")]).await;
    assert_eq!(location(&res), "/settings?notice=mails_saved");
    let settings = ana.html("/settings").await;
    assert!(settings.contains("name=\"message_mail\" type=\"checkbox\" value=\"on\" checked"));
    assert!(!settings.contains("name=\"match_mail\" type=\"checkbox\" value=\"on\" checked"));
}
