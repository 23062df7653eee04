//! OAuth 2.0 login against a provider the test serves over real HTTP.

use crate::helpers::*;

pub async fn app_with(provider: &FakeProvider) -> TestApp {
    let vars = provider.env("TEST");
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_app_with(&extra).await
}

/// The provider's answer to the authorization request (it logs the member
/// in and sends the browser back): the callback URL on the app.
async fn through_provider(authorize_url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(authorize_url).send().await.unwrap();
    assert_eq!(
        res.status(),
        302,
        "{}",
        res.text().await.unwrap_or_default()
    );
    location(&res)
}

/// Starts a login on `b`, goes through the provider, comes back: the app's answer.
pub async fn oauth_login(b: &Browser) -> reqwest::Response {
    let res = b.get("/auth/oauth/test").await;
    assert_eq!(res.status(), 303);
    let callback = through_provider(&location(&res)).await;
    b.get(&callback).await
}

pub async fn complete_profile(b: &Browser, birthday: &str) -> reqwest::Response {
    b.post(
        "/auth/oauth/complete",
        &[
            ("nickname", "Nova"),
            ("sex", "female"),
            ("birthday", birthday),
        ],
    )
    .await
}

#[tokio::test]
async fn a_first_login_creates_a_member_and_a_second_logs_them_in() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    assert!(app
        .browser
        .html("/login")
        .await
        .contains("href=\"/auth/oauth/test\""));
    provider.set_user("u-1", Some("nova@example.com"), "Nova");

    let b = app.new_browser();
    let res = oauth_login(&b).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/auth/oauth/complete");
    let verifier = provider
        .last_code_verifier()
        .expect("the PKCE verifier was sent");
    assert!(verifier.len() >= 43);
    let form = b.html("/auth/oauth/complete").await;
    assert!(form.contains("value=\"Nova\""), "the nickname is offered");
    assert!(
        !form.contains("name=\"email\""),
        "the provider gave the email"
    );

    let res = complete_profile(&b, "2015-01-01").await;
    assert_eq!(res.status(), 422, "members are 18+");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"under_18\""));
    assert_eq!(app.count("users").await, 0);

    let res = complete_profile(&b, "1995-03-04").await;
    assert_eq!(res.status(), 303);
    assert!(b.is_logged_in().await);
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("oauth_identities").await, 1);
    assert_eq!(
        app.count("users WHERE email_verified_at IS NOT NULL").await,
        1
    );

    // Returning: straight in.
    let again = app.new_browser();
    let res = oauth_login(&again).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/discover");
    assert!(again.is_logged_in().await);
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn a_wrong_state_a_provider_error_and_a_failed_exchange_are_refused() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    provider.set_user("u-2", Some("x@example.com"), "X");
    let b = app.new_browser();

    // A forged state.
    let res = b.get("/auth/oauth/test").await;
    let callback = through_provider(&location(&res)).await;
    let mut url = url::Url::parse(&callback).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    url.set_query(Some(&format!("code={code}&state=forged")));
    let res = b.get(url.as_str()).await;
    assert_error(res, 401, "oauth_failed").await;

    // The provider says no.
    let res = b.get("/auth/oauth/test").await;
    let callback = through_provider(&location(&res)).await;
    let url = url::Url::parse(&callback).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let refused = format!(
        "{}/auth/oauth/test/callback?error=access_denied&state={state}",
        app.base
    );
    assert_error(b.get(&refused).await, 401, "oauth_failed").await;

    // The token endpoint refuses the code.
    provider.fail_token_with(Some("invalid_grant"));
    assert_error(oauth_login(&b).await, 401, "oauth_failed").await;
    provider.fail_token_with(None);

    // A callback replayed without its flow cookie (another browser).
    let res = b.get("/auth/oauth/test").await;
    let callback = through_provider(&location(&res)).await;
    assert_error(app.new_browser().get(&callback).await, 401, "oauth_failed").await;

    assert!(!b.is_logged_in().await);
    assert_eq!(app.count("users").await, 0);
    // Unknown providers do not exist.
    assert_eq!(b.get("/auth/oauth/nope").await.status(), 404);
}

#[tokio::test]
async fn an_email_with_an_account_is_never_merged_and_linking_follows_the_rules() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    app.member(&app.browser, "owner@example.com").await;
    provider.set_user("u-3", Some("owner@example.com"), "Owner");

    let b = app.new_browser();
    assert_error(oauth_login(&b).await, 409, "oauth_email_taken").await;
    assert!(!b.is_logged_in().await);
    assert_eq!(app.count("oauth_identities").await, 0);

    // The owner logs in with the password and links the provider.
    let res = app.browser.post("/settings/oauth/test/link", &[]).await;
    assert_eq!(res.status(), 303);
    let callback = through_provider(&location(&res)).await;
    let res = app.browser.get(&callback).await;
    assert_eq!(location(&res), "/settings?notice=oauth_linked");
    assert_eq!(app.count("oauth_identities").await, 1);
    let settings = app.browser.html("/settings").await;
    assert!(
        settings.contains("data-provider=\"test\" data-linked=\"true\""),
        "{settings}"
    );

    // Now the provider logs the owner in.
    let res = oauth_login(&b).await;
    assert_eq!(location(&res), "/discover");
    assert!(b.is_logged_in().await);

    // With a password, the provider can be unlinked.
    let res = app.browser.post("/settings/oauth/test/unlink", &[]).await;
    assert_eq!(location(&res), "/settings?notice=oauth_unlinked");
    assert_eq!(app.count("oauth_identities").await, 0);
}

#[tokio::test]
async fn the_last_way_to_log_in_cannot_be_removed() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    provider.set_user("u-4", None, "Solo");
    let b = app.new_browser();
    let res = oauth_login(&b).await;
    assert_eq!(location(&res), "/auth/oauth/complete");
    assert!(
        b.html("/auth/oauth/complete")
            .await
            .contains("name=\"email\""),
        "no email from the provider"
    );
    let res = b
        .post(
            "/auth/oauth/complete",
            &[
                ("email", "solo@example.com"),
                ("nickname", "Solo"),
                ("sex", "male"),
                ("birthday", "1990-01-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A typed address is confirmed by mail before anyone logs in with it.
    assert_eq!(location(&res), "/login?notice=check_email");
    assert_eq!(
        app.count("users WHERE email_verified_at IS NULL").await,
        1,
        "an unconfirmed email is verified by mail"
    );
    let link = link_in(&app.mail.next_mail().await, "/verify-email?token=");
    assert_eq!(b.get(&link).await.status(), 200);
    let res = oauth_login(&b).await;
    assert_eq!(res.status(), 303);
    assert!(b.is_logged_in().await, "the linked provider logs in");

    let res = b.post("/settings/oauth/test/unlink", &[]).await;
    assert_error(res, 409, "last_login_method").await;
    assert_eq!(app.count("oauth_identities").await, 1);
    // The unknown random password does not log in.
    assert_eq!(
        app.new_browser()
            .login("solo@example.com", "")
            .await
            .status(),
        401
    );
}

/// Completing a sign-up with a typed email answers as `/signup` does,
/// whether or not the address has an account (its owner is mailed), and the
/// sign-up cookie completes one sign-up: a replay is sent back to log in.
#[tokio::test]
async fn completing_with_a_typed_email_tells_nobody_which_addresses_are_registered() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    app.member(&app.browser, "taken@example.com").await;
    provider.set_user("u-9", None, "Nine");
    let b = app.new_browser();
    assert_eq!(location(&oauth_login(&b).await), "/auth/oauth/complete");
    let cookie_jar = b.clone();
    let fields = |email: &'static str| {
        [
            ("email", email),
            ("nickname", "Nine"),
            ("sex", "male"),
            ("birthday", "1990-01-01"),
        ]
    };
    let taken = b
        .post("/auth/oauth/complete", &fields("taken@example.com"))
        .await;
    assert_eq!(taken.status(), 303);
    assert_eq!(location(&taken), "/login?notice=check_email");
    let notice = app.mail.next_mail().await;
    assert!(notice.contains("taken@example.com"), "the owner is told");
    assert_eq!(app.count("users").await, 1, "no second account");
    // The same cookie again, with a fresh address: spent.
    let replay = cookie_jar
        .post("/auth/oauth/complete", &fields("fresh@example.com"))
        .await;
    assert_eq!(location(&replay), "/login");
    assert_eq!(app.count("users").await, 1);

    // A new flow with a fresh address gets the very same answer.
    let c = app.new_browser();
    assert_eq!(location(&oauth_login(&c).await), "/auth/oauth/complete");
    let fresh = c
        .post("/auth/oauth/complete", &fields("fresh@example.com"))
        .await;
    assert_eq!(fresh.status(), taken.status());
    assert_eq!(location(&fresh), "/login?notice=check_email");
    assert_eq!(app.count("users").await, 2);
}
