use reqwest::header::{HeaderMap, HeaderValue};

use crate::helpers::*;

fn forged() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
    h.insert("x-real-ip", HeaderValue::from_static("6.6.6.6"));
    h
}

async fn recorded_ip(app: &TestApp, browser: &Browser, email: &str) -> String {
    app.member(&app.new_browser(), email).await;
    assert_eq!(browser.login(email, GOOD_PASSWORD).await.status(), 303);
    let page = browser.html("/settings/sessions").await;
    let marker = "class=\"session-ip\">";
    let start = page.find(marker).expect("an IP cell") + marker.len();
    page[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    let browser = Browser::with_headers(&app.base, forged());
    let ip = recorded_ip(&app, &browser, "ned@example.com").await;
    assert_eq!(ip, "127.0.0.1");
}

#[tokio::test]
async fn a_trusted_proxy_passes_the_client_ip() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let browser = Browser::with_headers(&app.base, forged());
    let ip = recorded_ip(&app, &browser, "oli@example.com").await;
    assert_eq!(ip, "6.6.6.6");
}
