//! `/metrics`: Prometheus text, requests by route pattern (never the raw
//! path), logins by outcome; readable from loopback or with the bearer
//! token, hidden (404) from everyone else.

use crate::helpers::*;

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_logins_by_outcome() {
    let app = spawn_app().await;
    let b = app.new_browser();
    assert_eq!(b.get("/login").await.status(), 200);
    assert_eq!(
        b.get("/users/98765").await.status(),
        303,
        "a page that needs a login"
    );
    assert_eq!(b.get("/no-such-page-4321").await.status(), 404);
    let res = b.login("nobody@example.com", "wrong password!").await;
    assert_eq!(res.status(), 401);
    // A sign-up queues a mail job: the queue has something to show.
    app.sign_up(&app.new_browser(), "new@example.com", "Newcomer")
        .await;

    let res = b.get("/metrics").await;
    assert_eq!(res.status(), 200, "readable from loopback");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = res.text().await.expect("body");
    assert!(
        text.contains(r#"swiper_http_requests_total{endpoint="/login",method="GET",status="200"}"#),
        "{text}"
    );
    assert!(text.contains(r#"endpoint="/users/{id}""#), "the pattern");
    assert!(!text.contains("98765"), "never the raw path");
    assert!(
        !text.contains("no-such-page-4321"),
        "unmatched paths are masked"
    );
    assert!(text.contains("swiper_http_requests_duration_seconds_bucket"));
    assert!(
        text.contains(r#"swiper_logins_total{outcome="refused"}"#),
        "{text}"
    );
    assert!(text.contains("swiper_chat_sockets"));
    assert!(text.contains("swiper_jobs{kind=\""), "{text}");
}

#[tokio::test]
async fn metrics_are_hidden_from_other_clients_unless_they_bring_the_token() {
    let app = spawn_app_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("METRICS_TOKEN", "a-long-metrics-token-for-tests"),
    ])
    .await;
    let from = |ip: &'static str| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-real-ip", ip.parse().expect("header"));
        Browser::with_headers(&app.base, h)
    };
    let outsider = from("203.0.113.9");
    assert_eq!(outsider.get("/metrics").await.status(), 404);
    let with_token = |token: &str| {
        let client = outsider.client.clone();
        let url = outsider.url("/metrics");
        let auth = format!("Bearer {token}");
        async move {
            client
                .get(url)
                .header("authorization", auth)
                .send()
                .await
                .expect("GET")
                .status()
                .as_u16()
        }
    };
    assert_eq!(with_token("wrong-token").await, 404);
    assert_eq!(with_token("a-long-metrics-token-for-tests").await, 200);
    // Relayed by the proxy for a local client: allowed.
    assert_eq!(from("127.0.0.1").get("/metrics").await.status(), 200);
}
