//! Logging in with a third-party provider (OAuth 2.0 authorization code +
//! PKCE, through the `oauth2` crate; HTTP over rustls with redirects off).
//!
//! The flow keeps nothing on the server: `state`, the PKCE verifier and
//! whether the flow links a provider to the logged-in member travel in a
//! sealed (AES-GCM), short-lived, `HttpOnly` cookie. A known provider
//! identity logs its member in (with the second step if they have 2FA); an
//! unknown one whose email already has an account is never merged — the
//! member logs in with the password and links the provider in settings; any
//! other starts a new member, who is asked for the profile fields a
//! provider does not give (nickname, sex, birthday: 18+).

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::events::{self, AuthEvent};
use super::input::Email;
use super::login::{self, LoginOutcome};
use super::signup::{self, CreateError, NewAccount};
use crate::accounts::state::AccountsState;
use crate::auth::{identities, Principal, User, UserId};
use crate::config::oauth::{OAuthProvider, TokenAuth};
use crate::error::{AppError, FieldErrors};
use crate::security::random;

/// The cookie of a flow in progress, and of a new member's pending profile.
pub const FLOW_COOKIE: &str = "swiper_oauth";
pub const SIGNUP_COOKIE: &str = "swiper_oauth_signup";
/// How long a flow (or a pending profile) may take.
pub const FLOW_SECS: i64 = 600;
/// Largest user-info answer read.
const MAX_USERINFO: usize = 64 * 1024;

pub fn provider<'a>(state: &'a AccountsState, name: &str) -> Option<&'a OAuthProvider> {
    state.settings.oauth.iter().find(|p| p.name == name)
}

fn redirect_url(state: &AccountsState, p: &OAuthProvider) -> String {
    state
        .settings
        .absolute_url(&format!("/auth/oauth/{}/callback", p.name))
}

fn now_secs(state: &AccountsState) -> i64 {
    state.clock.now().and_utc().timestamp()
}

/// What the flow cookie carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct Flow {
    provider: String,
    state: String,
    verifier: String,
    /// Linking to this logged-in member, rather than logging in.
    link: Option<UserId>,
    until: i64,
}

type Client = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn client(state: &AccountsState, p: &OAuthProvider) -> Result<Client, AppError> {
    let redirect =
        RedirectUrl::new(redirect_url(state, p)).map_err(|e| AppError::internal("oauth", e))?;
    let c = BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_client_secret(ClientSecret::new(p.client_secret.expose().to_string()))
        .set_auth_uri(AuthUrl::from_url(p.auth_url.clone()))
        .set_token_uri(TokenUrl::from_url(p.token_url.clone()))
        .set_redirect_uri(redirect);
    Ok(match p.token_auth {
        TokenAuth::Basic => c.set_auth_type(AuthType::BasicAuth),
        TokenAuth::Post => c.set_auth_type(AuthType::RequestBody),
    })
}

/// Starts a flow: the provider's authorization URL and the sealed cookie.
pub fn begin(
    state: &AccountsState,
    p: &OAuthProvider,
    link: Option<UserId>,
) -> Result<(String, String), AppError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(state, p)?;
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in &p.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf) = request.url();
    let flow = Flow {
        provider: p.name.clone(),
        state: csrf.secret().clone(),
        verifier: verifier.secret().clone(),
        link,
        until: now_secs(state) + FLOW_SECS,
    };
    let json = serde_json::to_vec(&flow).map_err(|e| AppError::internal("oauth", e))?;
    Ok((url.to_string(), state.keys.oauth.seal(&json)))
}

fn open<T: for<'de> Deserialize<'de>>(state: &AccountsState, sealed: &str) -> Option<T> {
    let bytes = state.keys.oauth.open(sealed)?;
    serde_json::from_slice(&bytes).ok()
}

/// What a provider says about the member.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProviderIdentity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

fn field<'a>(json: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(json, |v, key| v.get(key))
}

fn text_of(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads the identity out of a user-info answer.
pub fn identity_from(p: &OAuthProvider, json: &serde_json::Value) -> Option<ProviderIdentity> {
    let subject = text_of(field(json, &p.id_field))?;
    let email = text_of(field(json, &p.email_field)).map(|e| e.to_lowercase());
    let email_verified = match &p.email_verified_field {
        Some(f) => {
            matches!(field(json, f), Some(serde_json::Value::Bool(true)))
                || matches!(field(json, f), Some(serde_json::Value::String(s)) if s == "true")
        }
        None => p.email_trusted,
    };
    Some(ProviderIdentity {
        subject,
        email,
        email_verified,
        name: text_of(field(json, &p.name_field)),
    })
}

/// Exchanges the code (with the PKCE verifier) and reads the user info.
async fn exchange(
    state: &AccountsState,
    p: &OAuthProvider,
    code: &str,
    verifier: &str,
) -> Option<ProviderIdentity> {
    let client = client(state, p).ok()?;
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
        .request_async(&state.http)
        .await
        .map_err(|e| tracing::warn!(provider = %p.name, error = %e, "OAuth code exchange failed"))
        .ok()?;
    let res = state
        .http
        .get(p.userinfo_url.clone())
        .bearer_auth(token.access_token().secret())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| tracing::warn!(provider = %p.name, error = %e, "OAuth user info failed"))
        .ok()?;
    if !res.status().is_success() {
        tracing::warn!(provider = %p.name, status = %res.status(), "OAuth user info refused");
        return None;
    }
    if res
        .content_length()
        .is_some_and(|n| n > MAX_USERINFO as u64)
    {
        return None;
    }
    let body = res.bytes().await.ok()?;
    if body.len() > MAX_USERINFO {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&body).ok()?;
    identity_from(p, &json)
}

/// The answer to a provider's callback.
pub enum Callback {
    Login(LoginOutcome),
    Linked,
    /// A new member: the sealed profile cookie to set, then the profile form.
    NeedsProfile(String),
    /// The email has an account: never merged.
    EmailTaken,
    /// Linking an identity that already belongs to an account.
    InUse,
    /// Wrong or stale `state`, the provider said no, or its answers failed.
    Failed,
}

/// Query parameters of the callback.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// The provider sent the browser back.
pub async fn callback(
    state: &AccountsState,
    p: &OAuthProvider,
    flow_cookie: Option<&str>,
    query: &CallbackQuery,
    me: Option<&Principal>,
    client_info: (&str, &str),
) -> Result<Callback, AppError> {
    let Some(flow) = flow_cookie.and_then(|c| open::<Flow>(state, c)) else {
        return Ok(Callback::Failed);
    };
    let given_state = query.state.as_deref().unwrap_or("");
    let fresh = flow.until >= now_secs(state) && flow.provider == p.name;
    if !fresh || !random::constant_time_eq(flow.state.as_bytes(), given_state.as_bytes()) {
        tracing::warn!(provider = %p.name, "OAuth callback with a wrong or stale state");
        return Ok(Callback::Failed);
    }
    if let Some(error) = &query.error {
        tracing::info!(provider = %p.name, error = %error.chars().take(64).collect::<String>(), "OAuth provider refused");
        return Ok(Callback::Failed);
    }
    let Some(code) = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return Ok(Callback::Failed);
    };
    let Some(identity) = exchange(state, p, code, &flow.verifier).await else {
        return Ok(Callback::Failed);
    };
    let (provider_name, subject) = (p.name.clone(), identity.subject.clone());
    let owner = state
        .db
        .primary(move |c| Ok(identities::owner(c, &provider_name, &subject)?))
        .await?;
    if let Some(link_to) = flow.link {
        // Linking is for the member who started it, still logged in.
        if me.map(|m| m.id) != Some(link_to) {
            return Ok(Callback::Failed);
        }
        if owner.is_some() {
            return Ok(if owner == Some(link_to) {
                Callback::Linked
            } else {
                Callback::InUse
            });
        }
        let (name, ident, now) = (p.name.clone(), identity.clone(), state.clock.now());
        let linked = state
            .db
            .write(move |c| {
                Ok(identities::link(
                    c,
                    link_to,
                    &name,
                    &ident.subject,
                    ident.email.as_deref(),
                    now,
                )?)
            })
            .await?;
        if linked.is_none() {
            return Ok(Callback::InUse);
        }
        events::record(
            state,
            link_to,
            AuthEvent::OAuthLinked,
            client_info.0,
            client_info.1,
        )
        .await;
        return Ok(Callback::Linked);
    }
    if let Some(user_id) = owner {
        let user = state
            .db
            .primary(move |c| Ok(User::find(c, user_id)?))
            .await?;
        let now = state.clock.now();
        let Some(user) = user.filter(|u| u.may_log_in(now)) else {
            return Ok(Callback::Failed);
        };
        let replaces = me.map(|m| m.session_id.clone());
        let outcome = login::proven(state, user, false, client_info, replaces).await?;
        return Ok(Callback::Login(outcome));
    }
    if let Some(email) = identity.email.clone() {
        let taken = state
            .db
            .primary(move |c| Ok(User::find_by_email(c, &email)?))
            .await?
            .is_some();
        if taken {
            return Ok(Callback::EmailTaken);
        }
    }
    let pending = PendingProfile {
        provider: p.name.clone(),
        identity,
        until: now_secs(state) + FLOW_SECS,
        nonce: random::token(16),
    };
    let json = serde_json::to_vec(&pending).map_err(|e| AppError::internal("oauth", e))?;
    Ok(Callback::NeedsProfile(state.keys.oauth.seal(&json)))
}

/// A provider identity waiting for a new member's profile fields.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingProfile {
    pub provider: String,
    pub identity: ProviderIdentity,
    until: i64,
    /// The cookie completes one sign-up: a replay is refused.
    nonce: String,
}

pub fn pending_profile(state: &AccountsState, cookie: Option<&str>) -> Option<PendingProfile> {
    cookie
        .and_then(|c| open::<PendingProfile>(state, c))
        .filter(|p| p.until >= now_secs(state))
}

/// The profile form of a new member coming from a provider.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub email: String,
    pub nickname: String,
    pub sex: String,
    pub birthday: String,
}

pub enum Completed {
    Login(LoginOutcome),
    Invalid(FieldErrors),
    /// The provider's own email has an account: log in with it and link.
    EmailTaken,
    /// An email the member typed: created unverified and mailed, or, when
    /// it has an account, its owner is mailed instead. The answer is the
    /// same either way (as `/signup` answers), so the form tells nobody
    /// which addresses are registered.
    CheckEmail,
    /// The sign-up cookie was used already.
    Spent,
}

/// Creates the member from a provider identity and the profile form, links
/// the identity and logs them in. The account has no usable password until
/// they set one; a provider's verified email counts as verified, any other
/// gets the usual verification mail.
pub async fn complete_profile(
    state: &AccountsState,
    pending: &PendingProfile,
    form: &ProfileForm,
    lang: &str,
    client_info: (&str, &str),
) -> Result<Completed, AppError> {
    let mut errors = FieldErrors::default();
    let given_email = pending
        .identity
        .email
        .clone()
        .unwrap_or_else(|| form.email.clone());
    let email = Email::parse(&given_email)
        .map_err(|c| errors.push("email", c))
        .ok();
    let (nickname, sex, birthday) = signup::person_fields(
        &form.nickname,
        &form.sex,
        &form.birthday,
        state.clock.today(),
        &mut errors,
    );
    let (Some(email), Some(nickname), Some(sex), Some(birthday)) = (email, nickname, sex, birthday)
    else {
        return Ok(Completed::Invalid(errors));
    };
    let typed = pending.identity.email.is_none();
    if typed {
        // A typed address is a sign-up: limited as `/signup` is.
        state
            .counters
            .enforce(
                &state.runtime,
                crate::limits::rules::SIGNUP_PER_EMAIL,
                &crate::limits::rules::email_subject(email.as_str()),
            )
            .await?;
    }
    // One completed sign-up per cookie, on every instance.
    let uses = state
        .counters
        .hit(
            &format!("oauth-signup:{}", pending.nonce),
            std::time::Duration::from_secs(FLOW_SECS.unsigned_abs()),
            2,
        )
        .await;
    if uses.count > 1 {
        return Ok(Completed::Spent);
    }
    let (secret, hash) = signup::unusable_password(state).await?;
    let verified = pending.identity.email.is_some() && pending.identity.email_verified;
    let account = NewAccount {
        email,
        nickname,
        sex,
        birthday,
        password: secret,
    };
    let (lang, now) = (lang.to_string(), state.clock.now());
    let owner_lang = lang.clone();
    let (provider, subject) = (pending.provider.clone(), pending.identity.subject.clone());
    let keys = state.keys.clone();
    let created = state
        .jobs
        .write_and_wake(move |c| {
            let made = signup::create_account(c, &keys, &account, &hash, &lang, now);
            let id = match made {
                Ok(id) => id,
                Err(CreateError::Taken | CreateError::Banned) => return Ok(None),
                Err(CreateError::Database(e)) => return Err(e.into()),
            };
            User::mark_password_unusable(c, id)?;
            if verified {
                User::mark_verified(c, id, now)?;
            }
            if identities::link(
                c,
                id,
                &provider,
                &subject,
                Some(account.email.as_str()),
                now,
            )?
            .is_none()
            {
                return Err(AppError::Refused(crate::error::ErrorCode::InvalidInput));
            }
            Ok(Some(id))
        })
        .await;
    let id = match created {
        Ok(Some(id)) => id,
        Ok(None) | Err(AppError::Refused(_)) if typed => {
            signup::tell_owner(state, &given_email, &owner_lang, now).await?;
            return Ok(Completed::CheckEmail);
        }
        Ok(None) | Err(AppError::Refused(_)) => return Ok(Completed::EmailTaken),
        Err(e) => return Err(e),
    };
    events::record(
        state,
        id,
        AuthEvent::OAuthLinked,
        client_info.0,
        client_info.1,
    )
    .await;
    if typed {
        // Logged in once the address is confirmed (then through the provider).
        return Ok(Completed::CheckEmail);
    }
    let user = state
        .db
        .primary(move |c| Ok(User::find(c, id)?))
        .await?
        .ok_or(AppError::LoginRequired)?;
    Ok(Completed::Login(
        login::proven(state, user, false, client_info, None).await?,
    ))
}

/// The providers a member has linked.
pub async fn linked(state: &AccountsState, me: &Principal) -> Result<Vec<String>, AppError> {
    let id = me.id;
    state
        .db
        .primary(move |c| Ok(identities::providers_of(c, id)?))
        .await
}

/// Unlinks a provider unless it is the member's last way to log in.
pub async fn unlink(
    state: &AccountsState,
    me: &Principal,
    provider: &str,
    client_info: (&str, &str),
) -> Result<bool, AppError> {
    let (id, name) = (me.id, provider.to_string());
    let removed = state
        .db
        .write(move |c| {
            crate::db::transaction(c, |c| -> diesel::QueryResult<bool> {
                let Some(user) = User::find(c, id)? else {
                    return Ok(false);
                };
                let links = identities::providers_of(c, id)?;
                if !links.contains(&name) || (!user.password_usable && links.len() <= 1) {
                    return Ok(false);
                }
                Ok(identities::unlink(c, id, &name)? > 0)
            })
            .map_err(AppError::from)
        })
        .await?;
    if removed {
        events::record(
            state,
            me.id,
            AuthEvent::OAuthUnlinked,
            client_info.0,
            client_info.1,
        )
        .await;
    }
    Ok(removed)
}
