//! One error type for the whole application. Each variant has a stable machine
//! code, an HTTP status and a message (a catalog key) that is safe to show;
//! internal causes are logged, never sent to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input")]
    InvalidInput,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("CSRF check failed")]
    CsrfFailed,
    #[error("forbidden")]
    Forbidden,
    #[error("login required")]
    LoginRequired,
    #[error("invalid or expired link")]
    InvalidToken,
    #[error("retry later")]
    TooSoon { retry_after_secs: u64 },
    #[error("internal error in {context}: {cause}")]
    Internal { context: &'static str, cause: Cause },
}

/// What the error renderer needs to fill in a response body, attached to the
/// response as an extension by [`AppError::error_response`].
#[derive(Clone, Copy, Debug)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message_key: &'static str,
}

impl AppError {
    pub fn internal(context: &'static str, cause: impl Into<Cause>) -> Self {
        Self::Internal {
            context,
            cause: cause.into(),
        }
    }

    /// Stable machine code, as shown in JSON and `data-error-code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::CsrfFailed => "csrf_failed",
            Self::Forbidden => "forbidden",
            Self::LoginRequired => "login_required",
            Self::InvalidToken => "invalid_token",
            Self::TooSoon { .. } => "rate_limited",
            Self::Internal { .. } => "internal_error",
        }
    }

    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code(),
            message_key: message_key(self.code()),
        }
    }
}

/// The catalog key of the message for an error code.
pub fn message_key(code: &str) -> &'static str {
    match code {
        "invalid_input" => "error.invalid_input",
        "payload_too_large" => "error.payload_too_large",
        "unsupported_media_type" => "error.unsupported_media_type",
        "not_found" => "error.not_found",
        "method_not_allowed" => "error.method_not_allowed",
        "csrf_failed" => "error.csrf_failed",
        "forbidden" => "error.forbidden",
        "login_required" => "error.login_required",
        "invalid_token" => "error.invalid_token",
        "rate_limited" => "error.rate_limited",
        _ => "error.internal_error",
    }
}

/// The error a bare status stands for, for responses made outside our handlers.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        403 => "forbidden",
        401 => "login_required",
        429 => "rate_limited",
        400..=499 => "invalid_input",
        _ => "internal_error",
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidInput => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::CsrfFailed | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::LoginRequired => StatusCode::UNAUTHORIZED,
            Self::InvalidToken => StatusCode::BAD_REQUEST,
            Self::TooSoon { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal { context, cause } = self {
            tracing::error!(context, cause = %cause, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        if let Self::TooSoon { retry_after_secs } = self {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        let mut res = res.finish();
        res.extensions_mut().insert(self.info());
        res
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        Self::internal("database", e)
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::internal("database pool", e)
    }
}
