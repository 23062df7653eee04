//! A small OAuth 2.0 provider served over real HTTP by the test itself (a
//! third-party provider cannot run here): authorization code with PKCE
//! (S256 checked), client credentials checked, and a user-info endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret";

#[derive(Default)]
struct Inner {
    /// code → (PKCE challenge, redirect URI)
    codes: HashMap<String, (String, String)>,
    tokens: Vec<String>,
    user: serde_json::Value,
    last_verifier: Option<String>,
    fail_token: Option<String>,
}

#[derive(Clone)]
pub struct FakeProvider {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

fn random() -> String {
    swiper::security::random::token(16)
}

async fn authorize(
    p: web::Data<FakeProvider>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
    {
        return HttpResponse::BadRequest().body("bad authorization request");
    }
    let code = random();
    let redirect = get("redirect_uri");
    p.lock()
        .codes
        .insert(code.clone(), (get("code_challenge"), redirect.clone()));
    let mut url = url::Url::parse(&redirect).expect("redirect_uri");
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &get("state"));
    HttpResponse::Found()
        .insert_header(("location", url.to_string()))
        .finish()
}

async fn token(
    p: web::Data<FakeProvider>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).to_string());
    let authenticated = basic.as_deref() == Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        || (get("client_id") == CLIENT_ID && get("client_secret") == CLIENT_SECRET);
    let error = |e: &str| HttpResponse::BadRequest().json(serde_json::json!({ "error": e }));
    if !authenticated {
        return error("invalid_client");
    }
    let mut inner = p.lock();
    if let Some(e) = inner.fail_token.clone() {
        return error(&e);
    }
    let verifier = get("code_verifier");
    inner.last_verifier = Some(verifier.clone());
    let Some((challenge, redirect)) = inner.codes.remove(&get("code")) else {
        return error("invalid_grant");
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    if get("grant_type") != "authorization_code"
        || URL_SAFE_NO_PAD.encode(digest) != challenge
        || get("redirect_uri") != redirect
    {
        return error("invalid_grant");
    }
    let access = random();
    inner.tokens.push(access.clone());
    HttpResponse::Ok().json(serde_json::json!({ "access_token": access, "token_type": "bearer" }))
}

async fn userinfo(p: web::Data<FakeProvider>, req: HttpRequest) -> HttpResponse {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let inner = p.lock();
    match bearer {
        Some(t) if inner.tokens.contains(&t) => HttpResponse::Ok().json(inner.user.clone()),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

impl FakeProvider {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn start() -> FakeProvider {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let provider = FakeProvider {
            base: format!("http://127.0.0.1:{port}"),
            inner: Arc::default(),
        };
        let data = web::Data::new(provider.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        provider
    }

    /// What `/userinfo` answers from now on.
    pub fn set_user(&self, subject: &str, email: Option<&str>, name: &str) {
        self.lock().user = serde_json::json!({
            "sub": subject,
            "email": email,
            "email_verified": email.is_some(),
            "name": name,
        });
    }

    /// Makes `/token` refuse with this OAuth error (or work again with `None`).
    pub fn fail_token_with(&self, error: Option<&str>) {
        self.lock().fail_token = error.map(str::to_string);
    }

    /// The PKCE verifier the last token request carried.
    pub fn last_code_verifier(&self) -> Option<String> {
        self.lock().last_verifier.clone()
    }

    /// The variables that configure this provider as `OAUTH_<NAME>_*`.
    pub fn env(&self, name: &str) -> Vec<(String, String)> {
        [
            ("CLIENT_ID", CLIENT_ID.to_string()),
            ("CLIENT_SECRET", CLIENT_SECRET.to_string()),
            ("AUTH_URL", format!("{}/authorize", self.base)),
            ("TOKEN_URL", format!("{}/token", self.base)),
            ("USERINFO_URL", format!("{}/userinfo", self.base)),
            ("ID_FIELD", "sub".to_string()),
            ("EMAIL_VERIFIED_FIELD", "email_verified".to_string()),
            ("LABEL", "Test ID".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("OAUTH_{name}_{k}"), v))
        .collect()
    }
}
