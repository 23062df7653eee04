//! Stable machine codes: the error codes of [`super::AppError`] and the codes
//! of errors attached to one form field. Both are closed enums, so a code
//! cannot be misspelled, and a unit test checks every code has a message in
//! every catalog.

crate::text_enum!(
    /// The code of an error response.
    ErrorCode, messages "error" {
        InvalidInput => "invalid_input",
        PayloadTooLarge => "payload_too_large",
        UnsupportedMediaType => "unsupported_media_type",
        NotFound => "not_found",
        MethodNotAllowed => "method_not_allowed",
        CsrfFailed => "csrf_failed",
        Forbidden => "forbidden",
        LoginRequired => "login_required",
        InvalidToken => "invalid_token",
        RateLimited => "rate_limited",
        ServiceUnavailable => "service_unavailable",
        RequestTimeout => "request_timeout",
        InternalError => "internal_error",
        AlreadySwiped => "already_swiped",
        EmailNotVerified => "email_not_verified",
        SuperlikeLimitReached => "superlike_limit_reached",
        RewindLimitReached => "rewind_limit_reached",
        NothingToRewind => "nothing_to_rewind",
        AlreadyReported => "already_reported",
        LastLoginMethod => "last_login_method",
        LastSuperadmin => "last_superadmin",
        ReauthenticationRequired => "reauthentication_required",
        RoleLocked => "role_locked",
        RoleExists => "role_exists",
        AlreadyVerified => "already_verified",
        MessageEmpty => "message_empty",
        MessageTooLong => "message_too_long",
        MatchClosed => "match_closed",
        InvalidFrame => "invalid_frame",
        InvalidCredentials => "invalid_credentials",
        CaptchaRequired => "captcha_required",
        TwoFactorRequired => "two_factor_required",
        TokenReused => "token_reused",
        InvalidCode => "invalid_code",
        ProfileIncomplete => "profile_incomplete",
    }
);

crate::text_enum!(
    /// Why one field of a form was refused.
    FieldCode, messages "form_error" {
        Required => "required",
        TooLong => "too_long",
        InvalidEmail => "invalid_email",
        InvalidNickname => "invalid_nickname",
        NicknameInvisible => "nickname_invisible",
        NicknameReserved => "nickname_reserved",
        InvalidChoice => "invalid_choice",
        InvalidDate => "invalid_date",
        BirthdayInFuture => "birthday_in_future",
        Under18 => "under_18",
        PasswordTooShort => "password_too_short",
        PasswordTooLong => "password_too_long",
        PasswordTooCommon => "password_too_common",
        PasswordTooSimilar => "password_too_similar",
        EmailTaken => "email_taken",
        InvalidCredentials => "invalid_credentials",
        CaptchaRequired => "captcha_required",
        CaptchaInvalid => "captcha_invalid",
        InvalidCode => "invalid_code",
        OauthFailed => "oauth_failed",
        OauthEmailTaken => "oauth_email_taken",
        PasswordOnlyWhitespace => "password_only_whitespace",
        PasswordAllDigits => "password_all_digits",
        WrongPassword => "wrong_password",
        InvalidText => "invalid_text",
        NotANumber => "not_a_number",
        OutOfRange => "out_of_range",
        PositionIncomplete => "position_incomplete",
        AgeRangeInverted => "age_range_inverted",
        InvalidTimeZone => "invalid_time_zone",
        PhotoLimitReached => "photo_limit_reached",
        PhotoTooBig => "photo_too_big",
        UnsupportedImage => "unsupported_image",
        ImageTooLarge => "image_too_large",
        ImageCorrupt => "image_corrupt",
        InvalidPhone => "invalid_phone",
        PhoneTaken => "phone_taken",
        ReadOnly => "read_only",
        LoginAgain => "login_again",
    }
);

impl ErrorCode {
    /// The code a bare status stands for, for responses made outside our handlers.
    pub fn for_status(status: u16) -> Self {
        match status {
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            403 => Self::Forbidden,
            401 => Self::LoginRequired,
            429 => Self::RateLimited,
            503 => Self::ServiceUnavailable,
            408 => Self::RequestTimeout,
            400..=499 => Self::InvalidInput,
            _ => Self::InternalError,
        }
    }
}

/// An error attached to one field of a form (`"form"` for the form as a whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: FieldCode,
}

impl FieldError {
    pub fn message_key(&self) -> &'static str {
        self.code.message_key()
    }
}

/// The errors of one submitted form. Domain validation returns it; the web
/// layer shows each next to its field.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// One error on one field.
    pub fn one(field: &'static str, code: FieldCode) -> Self {
        Self(vec![FieldError { field, code }])
    }
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn push(&mut self, field: &'static str, code: FieldCode) {
        self.0.push(FieldError { field, code });
    }
    /// The errors not tied to a visible field (shown above the form).
    pub fn general(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter().filter(|e| e.field == "form")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n;

    #[test]
    fn every_error_and_field_code_has_a_message_in_every_catalog() {
        let keys = ErrorCode::ALL
            .iter()
            .map(|c| c.message_key())
            .chain(FieldCode::ALL.iter().map(|c| c.message_key()));
        let mut missing = Vec::new();
        for key in keys {
            for catalog in i18n::languages() {
                if !catalog.has(key) {
                    missing.push(format!("{}: {key}", catalog.code));
                }
            }
        }
        assert!(i18n::languages().count() > 0);
        assert!(missing.is_empty(), "messages missing: {missing:?}");
    }

    #[test]
    fn codes_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        assert!(ErrorCode::ALL.iter().all(|c| seen.insert(c.as_str())));
        let mut seen = std::collections::HashSet::new();
        assert!(FieldCode::ALL.iter().all(|c| seen.insert(c.as_str())));
    }
}
