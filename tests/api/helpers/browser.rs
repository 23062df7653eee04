//! A browser: cookies, forms with their CSRF token, and what tests read
//! from responses.

/// A browser: its own cookie jar, redirects not followed so tests see them.
#[derive(Clone)]
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::with_headers(base, reqwest::header::HeaderMap::new())
    }

    /// A browser that sends these headers with every request.
    pub fn with_headers(base: &str, headers: reqwest::header::HeaderMap) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Self {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .default_headers(headers)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar,
            base: base.to_string(),
        }
    }

    /// The same browser (same cookies) talking to another server.
    pub fn on(&self, base: &str) -> Self {
        Self {
            client: self.client.clone(),
            jar: self.jar.clone(),
            base: base.to_string(),
        }
    }

    /// The current value of a cookie.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = url::Url::parse(&self.base).ok()?;
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|kv| {
            kv.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn html(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body")
    }

    /// The CSRF token of this browser's session, read from a form page.
    pub async fn csrf(&self) -> String {
        csrf_in(&self.html("/password-reset").await)
    }

    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form with this session's CSRF token, as the page's form would.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all).await
    }

    /// Posts the same form `n` times at once (one CSRF token, as `n` tabs
    /// of one browser would) and returns every status.
    pub async fn post_concurrently(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        n: usize,
    ) -> Vec<u16> {
        let token = self.csrf().await;
        let mut all: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.push(("csrf_token".into(), token));
        let mut handles = Vec::new();
        for _ in 0..n {
            let (browser, url, form) = (self.clone(), self.url(path), all.clone());
            handles.push(tokio::spawn(async move {
                browser
                    .client
                    .post(url)
                    .form(&form)
                    .send()
                    .await
                    .expect("POST")
                    .status()
                    .as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for h in handles {
            statuses.push(h.await.expect("request task"));
        }
        statuses
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.login_with(email, password, &[]).await
    }

    /// Logs in with more form fields (`remember`, `next`).
    pub async fn login_with(
        &self,
        email: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields = vec![("email", email), ("password", password)];
        fields.extend_from_slice(extra);
        self.post("/login", &fields).await
    }

    pub async fn change_password(&self, current: &str, new: &str) -> reqwest::Response {
        self.post(
            "/settings/password",
            &[("current_password", current), ("new_password", new)],
        )
        .await
    }

    pub async fn is_logged_in(&self) -> bool {
        self.get("/settings").await.status() == 200
    }
}

/// Whether a bare session cookie value, sent by a client with no other
/// state (a thief replaying it), is logged in.
pub async fn cookie_is_logged_in(base: &str, cookie: &str) -> bool {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = client
        .get(format!("{base}/settings"))
        .header("cookie", format!("swiper_session={cookie}"))
        .send()
        .await
        .expect("GET");
    res.status() == 200
}

/// Logs out from `origin` (an `Origin` header) with a valid token.
pub async fn logout_from(browser: &Browser, origin: &str) -> reqwest::Response {
    let token = browser.csrf().await;
    browser
        .client
        .post(browser.url("/logout"))
        .header("origin", origin)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("POST")
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in:\n{html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Asserts a response is the error page with this status and stable code.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) {
    assert_eq!(res.status(), status);
    let body = res.text().await.expect("body");
    assert!(
        body.contains(&format!("data-error-code=\"{code}\"")),
        "expected {code} in:\n{body}"
    );
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
