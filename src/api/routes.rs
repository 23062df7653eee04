//! The `/api/v1` routes built so far.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::access::{AccessClaims, ApiKeys, ACCESS_TTL_SECS};
use super::bearer::ApiUser;
use super::refresh::{self, Refreshed};
use super::schema::{Jwks, Problem, TokenUser, Tokens};
use crate::accounts::login::{self, LoginOutcome, LoginRequest};
use crate::accounts::phone::Phone;
use crate::accounts::sms;
use crate::accounts::state::AccountsState;
use crate::auth::sessions::{self, Lifetimes, SessionId};
use crate::auth::{User, UserId, UserSession};
use crate::error::{AppError, ErrorCode};
use crate::security::SecretString;
use crate::web::client_ip;

/// `GET /ws/chat` with `Authorization: Bearer`: the chat socket for apps
/// (the same frames; no Origin needed, the token is not ambient).
pub(super) async fn chat_socket(
    req: HttpRequest,
    body: web::Payload,
    ApiUser(me): ApiUser,
    state: web::Data<crate::matches::state::ChatState>,
    query: web::Query<crate::matches::ws::ConnectQuery>,
) -> Result<HttpResponse, AppError> {
    crate::matches::ws::open(&req, body, state, me, query.into_inner().after)
}

pub(super) async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// The public keys access tokens are signed with.
#[utoipa::path(get, path = "/api/v1/.well-known/jwks.json", tag = "auth",
    responses((status = 200, body = Jwks, description = "A JWK Set")))]
pub(super) async fn jwks(keys: web::Data<ApiKeys>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(keys.keys.jwks())
}

fn tokens(
    keys: &ApiKeys,
    state: &AccountsState,
    (user, profile_complete): (UserId, bool),
    session: &SessionId,
    refresh_token: String,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now().and_utc().timestamp();
    let claims = AccessClaims {
        iss: keys.issuer.clone(),
        sub: user.0,
        sid: session.expose().to_string(),
        iat: now,
        exp: now + ACCESS_TTL_SECS,
    };
    let access_token = keys
        .keys
        .sign(&claims)
        .map_err(|e| AppError::internal("signing a token", e))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Tokens {
            access_token,
            refresh_token,
            token_type: "Bearer".to_string(),
            expires_in: ACCESS_TTL_SECS,
            user: TokenUser {
                id: user.0,
                profile_complete,
            },
        }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginBody {
    email: String,
    password: String,
    /// A name for this device, as the sessions list shows it.
    #[serde(default)]
    device: String,
}

/// The device name a client gives, as the sessions page shows it.
fn device_name(raw: &str) -> String {
    let name: String = raw.chars().filter(|c| !c.is_control()).take(100).collect();
    match name.trim() {
        "" => "App".to_string(),
        n => n.to_string(),
    }
}

/// Logs in with email and password: the site's login (rate limits,
/// failure counters, the same answer for every wrong credential), then a
/// session for this device and its first tokens.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, body = Tokens, description = "Logged in"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`invalid_credentials`"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`captcha_required` or `two_factor_required`"),
    ))]
pub(super) async fn log_in(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    keys: web::Data<ApiKeys>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let request = LoginRequest {
        email: body.email,
        password: SecretString::new(body.password),
        remember: true,
        ip: client_ip::of(&req),
        ip_bucket: client_ip::bucket(&req),
        user_agent: device_name(&body.device),
        replaces: None,
        captcha: None,
    };
    let (user, session) = match login::log_in(&state, request).await? {
        LoginOutcome::LoggedIn(done) => *done,
        LoginOutcome::Refused { captcha: false } => {
            return Err(AppError::Refused(ErrorCode::InvalidCredentials))
        }
        LoginOutcome::Refused { captcha: true } | LoginOutcome::CaptchaNeeded(_) => {
            return Err(AppError::Refused(ErrorCode::CaptchaRequired))
        }
        LoginOutcome::SecondFactor(_) => {
            return Err(AppError::Refused(ErrorCode::TwoFactorRequired))
        }
    };
    first_tokens(&keys, &state, (user, session)).await
}

/// A new app session's first refresh token, and its tokens.
async fn first_tokens(
    keys: &ApiKeys,
    state: &AccountsState,
    (user, session): (User, UserSession),
) -> Result<HttpResponse, AppError> {
    let (sid, now) = (session.id.clone(), state.clock.now());
    let token = state
        .db
        .write(move |c| Ok(refresh::issue(c, &sid, now)?))
        .await?;
    tokens(
        keys,
        state,
        (user.id, !user.profile_pending),
        &session.id,
        token,
    )
}

/// 422 with the code of one refused field.
fn unprocessable(
    req: &HttpRequest,
    field: &'static str,
    code: crate::error::FieldCode,
) -> HttpResponse {
    super::profile::field_problem(
        req,
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        &crate::error::FieldErrors::one(field, code),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SmsBody {
    /// E.164, such as `+8613800138000` (spaces and dashes are accepted).
    phone: String,
}

/// Sends a login code by text message; 202 for any number (the answer
/// does not say whether the number is known), 429 with `Retry-After`
/// within a minute of the last code.
#[utoipa::path(post, path = "/api/v1/auth/sms", tag = "auth", request_body = SmsBody,
    responses(
        (status = 202, description = "A code is on its way"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`invalid_phone` in `errors.phone`"),
    ))]
pub(super) async fn sms_send(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    body: web::Json<SmsBody>,
) -> Result<HttpResponse, AppError> {
    let phone = match Phone::parse(&body.phone) {
        Ok(p) => p,
        Err(code) => return Ok(unprocessable(&req, "phone", code)),
    };
    let lang = crate::web::page::tr_for_api(&req).lang();
    sms::request_login_code(&state, &phone, &client_ip::bucket(&req), lang).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SmsVerifyBody {
    phone: String,
    code: String,
    #[serde(default)]
    device: String,
}

/// Trades the code for tokens (a number seen for the first time gets a new
/// account, `profile_complete` false); 401 `invalid_code` for a wrong,
/// used or expired code (or after five tries).
#[utoipa::path(post, path = "/api/v1/auth/sms/verify", tag = "auth", request_body = SmsVerifyBody,
    responses(
        (status = 200, body = Tokens, description = "Logged in"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`invalid_code`"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`two_factor_required`, or `captcha_required` after repeated failures (log in on the site once)"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`invalid_phone` in `errors.phone`"),
    ))]
pub(super) async fn sms_verify(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    keys: web::Data<ApiKeys>,
    body: web::Json<SmsVerifyBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let phone = match Phone::parse(&body.phone) {
        Ok(p) => p,
        Err(code) => return Ok(unprocessable(&req, "phone", code)),
    };
    let refused = AppError::Refused(ErrorCode::InvalidCode);
    let attempt = sms::CodeAttempt {
        phone: &phone,
        code: &body.code,
        lang: crate::web::page::tr_for_api(&req).lang(),
        ip_bucket: &client_ip::bucket(&req),
        // An app cannot show the captcha: past the threshold, the site's
        // login page answers it (as for a password).
        captcha: None,
    };
    let user = match sms::login_member(&state, attempt).await? {
        sms::CodeLogin::LoggedIn(user) => *user,
        sms::CodeLogin::Refused { .. } => return Err(refused),
        sms::CodeLogin::CaptchaNeeded(_) => {
            return Err(AppError::Refused(ErrorCode::CaptchaRequired))
        }
    };
    let (ip, device) = (client_ip::of(&req), device_name(&body.device));
    match login::proven(&state, user, true, (&ip, &device), None).await? {
        LoginOutcome::LoggedIn(done) => first_tokens(&keys, &state, *done).await,
        LoginOutcome::SecondFactor(_) => Err(AppError::Refused(ErrorCode::TwoFactorRequired)),
        _ => Err(refused),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RefreshBody {
    refresh_token: String,
}

/// Trades a refresh token for the next tokens; a used refresh token ends
/// its whole family (401 `token_reused`).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, body = Tokens, description = "The next tokens"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`token_reused`, or an unknown or ended session (`login_required`)"),
    ))]
pub(super) async fn refresh(
    state: web::Data<AccountsState>,
    keys: web::Data<ApiKeys>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    let presented = body.into_inner().refresh_token;
    let now = state.clock.now();
    let lifetimes = Lifetimes::from_settings(&state.settings.sessions);
    let outcome = state
        .db
        .write(move |c| {
            let outcome = refresh::rotate(c, &presented, now)?;
            // The session must still be alive (not expired, account active).
            if let Refreshed::Rotated { session, .. } = &outcome {
                match sessions::authenticate(c, session, now, lifetimes.idle)? {
                    Some(p) => return Ok((outcome, Some((p.id, !p.profile_pending)))),
                    None => return Ok((Refreshed::Unknown, None)),
                }
            }
            Ok((outcome, None))
        })
        .await?;
    match outcome {
        (Refreshed::Rotated { session, token }, Some(user)) => {
            tokens(&keys, &state, user, &session, token)
        }
        (Refreshed::Reused { session_owner }, _) => {
            if let Some(owner) = session_owner {
                state.hub.sessions_ended(owner).await;
            }
            Err(AppError::Refused(ErrorCode::TokenReused))
        }
        _ => Err(AppError::LoginRequired),
    }
}

/// Ends this token's session (its refresh tokens with it) on every instance.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out")))]
pub(super) async fn log_out(
    ApiUser(me): ApiUser,
    state: web::Data<AccountsState>,
) -> Result<HttpResponse, AppError> {
    let session = me.session_id.clone();
    state
        .db
        .write(move |c| Ok(sessions::revoke(c, &session)?))
        .await?;
    state.hub.sessions_ended(me.id).await;
    Ok(HttpResponse::NoContent().finish())
}
