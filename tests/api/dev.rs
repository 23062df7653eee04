//! `/_dev/outbox`: the mails a development site wrote to `var/` instead of
//! sending them, with clickable links, for a client on this machine only.

use crate::helpers::*;

#[tokio::test]
async fn the_outbox_shows_written_mails_with_links_that_work() {
    // No SMTP_URL: mails are written to var/mail, as in development.
    let app = spawn_app_with(&[("SMTP_URL", ""), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let browser = app.new_browser();
    let empty = browser.html("/_dev/outbox").await;
    assert!(empty.contains("data-testid=\"outbox-empty\""), "{empty}");

    let res = browser
        .post(
            "/signup",
            &[
                ("email", "newcomer@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "Newcomer"),
                ("sex", "female"),
                ("birthday", "1995-04-02"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    wait_until("the verification mail is written", || {
        let browser = browser.clone();
        async move {
            browser
                .html("/_dev/outbox")
                .await
                .contains("data-outbox=\"mail\"")
        }
    })
    .await;
    let page = browser.html("/_dev/outbox").await;
    assert!(page.contains("newcomer@example.com"), "{page}");
    // The link, decoded from quoted-printable and clickable.
    let href = page
        .split("<a href=\"")
        .find(|s| s.contains("/verify-email?token="))
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("a verification link in:\n{page}"))
        .replace("&#x3d;", "=")
        .replace("&amp;", "&");
    assert!(href.starts_with(&app.base), "{href}");
    assert!(!href.contains("=\n") && !href.contains("=3D"), "{href}");
    let verified = browser.get(&href).await;
    assert_eq!(verified.status(), 200, "the link from the outbox verifies");
    assert!(verified.text().await.unwrap().contains("verified"));

    // Someone else (as told by a trusted proxy) finds nothing there.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-real-ip", "203.0.113.9".parse().unwrap());
    let outsider = Browser::with_headers(&app.base, headers);
    assert_eq!(outsider.get("/_dev/outbox").await.status(), 404);
}
