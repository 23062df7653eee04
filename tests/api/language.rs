//! Choosing the language: the member's choice, a visitor's cookie from the
//! footer's switcher (no JavaScript, no server-side session), then
//! `Accept-Language`, then `DEFAULT_LANGUAGE`; `<html lang>` follows.

use crate::helpers::*;

fn html_lang(html: &str) -> String {
    let at = html.find("<html lang=\"").expect("an html tag") + 12;
    html[at..].split('"').next().unwrap().to_string()
}

fn browser_asking(app: &TestApp, accept_language: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept-language", accept_language.parse().unwrap());
    Browser::with_headers(&app.base, headers)
}

#[tokio::test]
async fn a_chinese_browser_gets_chinese_pages_and_an_english_one_english() {
    let app = spawn_app().await;
    for (asks, gets) in [
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("zh-Hans,en;q=0.5", "zh-CN"),
        ("en-GB,en;q=0.9", "en"),
        ("fr", "en"),
    ] {
        let html = browser_asking(&app, asks).html("/login").await;
        assert_eq!(html_lang(&html), gets, "{asks}");
    }
    let html = browser_asking(&app, "zh-CN,zh;q=0.9").html("/login").await;
    assert!(html.contains("登录"), "{html}");
    assert!(!html.contains(">Log in<"));
}

#[tokio::test]
async fn the_footer_switcher_sets_a_cookie_and_no_session() {
    let app = spawn_app().await;
    // An English browser; the visitor picks Chinese in the footer.
    let visitor = browser_asking(&app, "en");
    let page = visitor.html("/signup").await;
    assert!(
        page.contains("action=\"/language\""),
        "the switcher is on the page"
    );
    assert!(page.contains("value=\"zh-CN\""));
    let res = visitor
        .post("/language", &[("lang", "zh-CN"), ("next", "/signup")])
        .await;
    assert_eq!(location(&res), "/signup", "back where it was made");
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1, "only the choice: {cookies:?}");
    assert!(cookies[0].starts_with("swiper_lang=zh-CN"), "{cookies:?}");
    assert!(!cookies[0].contains("swiper_session"));
    let html = visitor.html("/signup").await;
    assert_eq!(html_lang(&html), "zh-CN");
    assert!(html.contains("注册"));

    // Refused: an unknown language, and a next page elsewhere.
    let res = visitor.post("/language", &[("lang", "xx")]).await;
    assert_eq!(res.status(), 400);
    let res = visitor
        .post(
            "/language",
            &[("lang", "en"), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(location(&res), "/");
    assert_eq!(html_lang(&visitor.html("/signup").await), "en");
}

#[tokio::test]
async fn a_members_choice_is_saved_and_wins_over_the_browser() {
    let app = spawn_app().await;
    app.member(&app.browser, "lang@example.com").await;
    let res = app
        .browser
        .post("/language", &[("lang", "zh-CN"), ("next", "/settings")])
        .await;
    assert_eq!(location(&res), "/settings");
    assert_eq!(html_lang(&app.browser.html("/settings").await), "zh-CN");
    let id = app.user_id("lang@example.com").await;
    let saved: Option<String> = app
        .db(move |c| {
            use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
            use swiper::db::schema::users;
            users::table
                .filter(users::id.eq(id))
                .select(users::language)
                .first(c)
        })
        .await;
    assert_eq!(saved.as_deref(), Some("zh-CN"), "mails follow it too");
    // Another browser, English by its header, logs in: the saved choice wins.
    let other = browser_asking(&app, "en");
    assert_eq!(
        other
            .login("lang@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(html_lang(&other.html("/settings").await), "zh-CN");
}

#[tokio::test]
async fn the_site_default_applies_when_nothing_else_says() {
    let app = spawn_app_with(&[("DEFAULT_LANGUAGE", "zh-CN")]).await;
    assert_eq!(html_lang(&app.new_browser().html("/login").await), "zh-CN");
    assert_eq!(
        html_lang(&browser_asking(&app, "en").html("/login").await),
        "en"
    );
}

#[tokio::test]
async fn the_api_follows_accept_language_for_words_never_for_codes() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let me = format!("{}/api/v1/me", app.base);
    let res = client
        .get(&me)
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "login_required");
    assert_eq!(body["detail"], "请先登录。");
    // No cookie is read under /api/, not even the language one.
    let res = client
        .get(&me)
        .header("cookie", "swiper_lang=zh-CN")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "login_required");
    assert_eq!(body["detail"], "Please log in first.");
}

#[tokio::test]
async fn refused_fields_are_explained_in_the_apps_language() {
    let app = spawn_app().await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sms", app.base))
        .header("accept-language", "zh-CN")
        .json(&serde_json::json!({"phone": "12"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["errors"]["phone"], "invalid_phone");
    assert!(body["detail"].as_str().unwrap().contains("字段"), "{body}");
}
