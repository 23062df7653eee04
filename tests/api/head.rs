//! `HEAD` is answered wherever `GET` is, without a body (uptime checks use it).

use crate::helpers::*;

async fn head(app: &TestApp, path: &str) -> reqwest::Response {
    app.browser
        .client
        .head(app.browser.url(path))
        .send()
        .await
        .expect("HEAD")
}

#[tokio::test]
async fn head_answers_the_landing_page_health_and_static_files_without_a_body() {
    let app = spawn_app().await;
    let page = app.browser.html("/").await;
    let start = page.find("/static/app.").expect("stylesheet link");
    let css = page[start..].split('"').next().expect("href").to_string();
    for path in ["/", "/healthz", css.as_str()] {
        let res = head(&app, path).await;
        assert_eq!(res.status(), 200, "HEAD {path}");
        assert!(
            res.headers().get("content-security-policy").is_some(),
            "HEAD {path} carries the security headers"
        );
        assert!(res.bytes().await.expect("body").is_empty(), "HEAD {path}");
    }
    assert_eq!(head(&app, "/no-such-page").await.status(), 404);
}
