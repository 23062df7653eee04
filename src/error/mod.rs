//! One error type for the whole application. Each variant has a stable machine
//! code, an HTTP status and a message (a catalog key) that is safe to show;
//! internal causes are logged, never sent to the client.

mod codes;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

pub use codes::{ErrorCode, FieldCode, FieldError, FieldErrors};

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
    /// The client did not send its request body in time.
    #[error("request timeout")]
    RequestTimeout,
    /// A service this request needs (the session store) is unreachable.
    #[error("temporarily unavailable")]
    Unavailable,
    /// A product rule refused the request (already swiped, a daily limit…).
    #[error("refused: {0}")]
    Refused(ErrorCode),
    #[error("internal error in {context}: {cause}")]
    Internal { context: &'static str, cause: Cause },
}

impl AppError {
    pub fn internal(context: &'static str, cause: impl Into<Cause>) -> Self {
        Self::Internal {
            context,
            cause: cause.into(),
        }
    }

    /// Stable machine code, as shown in JSON and `data-error-code`.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidInput => ErrorCode::InvalidInput,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::NotFound => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::CsrfFailed => ErrorCode::CsrfFailed,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::LoginRequired => ErrorCode::LoginRequired,
            Self::InvalidToken => ErrorCode::InvalidToken,
            Self::TooSoon { .. } => ErrorCode::RateLimited,
            Self::Unavailable => ErrorCode::ServiceUnavailable,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
            Self::Refused(code) => *code,
            Self::Internal { .. } => ErrorCode::InternalError,
        }
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
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Refused(ErrorCode::EmailNotVerified | ErrorCode::ProfileIncomplete) => {
                StatusCode::FORBIDDEN
            }
            Self::Refused(ErrorCode::ReauthenticationRequired) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused(ErrorCode::InvalidInput) => StatusCode::BAD_REQUEST,
            Self::Refused(
                ErrorCode::MessageEmpty | ErrorCode::MessageTooLong | ErrorCode::InvalidFrame,
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused(
                ErrorCode::InvalidCredentials | ErrorCode::TokenReused | ErrorCode::InvalidCode,
            ) => StatusCode::UNAUTHORIZED,
            Self::Refused(ErrorCode::CaptchaRequired | ErrorCode::TwoFactorRequired) => {
                StatusCode::FORBIDDEN
            }
            Self::Refused(_) => StatusCode::CONFLICT,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal { context, cause } = self {
            tracing::error!(context, cause = %cause, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            Self::TooSoon { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            // The database or Redis is not there: try again in a few seconds.
            Self::Unavailable => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        let mut res = res.finish();
        // The error renderer (web::errors) reads the code from here.
        res.extensions_mut().insert(self.code());
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
