//! What every rendered page needs: the translator, the CSRF token for its
//! forms, the logged-in member (if any) and a notice to show.

use std::future::{ready, Ready};

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::auth::Principal;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::state::Spine;
use crate::web::{assets, csrf};

const LANG_KEY: &str = "lang";

/// The language of a request: the logged-in member's setting, else the choice
/// saved in the session (copied at login; it outlives a revoked session's
/// identity), else `Accept-Language`.
pub fn tr_for(req: &HttpRequest) -> Tr {
    // Two statements: the extensions borrow must end before the session's.
    let from_user = req
        .extensions()
        .get::<Principal>()
        .and_then(|u| u.language.clone());
    let saved = from_user
        .or_else(|| req.get_session().get::<String>(LANG_KEY).ok().flatten())
        .or_else(|| req.cookie(LANG_COOKIE).map(|c| c.value().to_string()));
    let default = default_lang(req);
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Tr::negotiate(saved.as_deref(), accept, default)
}

/// `DEFAULT_LANGUAGE`, or English outside the app (a bare test request).
fn default_lang(req: &HttpRequest) -> &str {
    req.app_data::<actix_web::web::Data<Spine>>()
        .map_or(crate::i18n::DEFAULT_LANG, |s| {
            s.settings.default_language.as_str()
        })
}

/// The language of an API request: its `Accept-Language` only (no cookie
/// is read under `/api/`), else `DEFAULT_LANGUAGE`. Codes never change
/// with it; only the words do.
pub fn tr_for_api(req: &HttpRequest) -> Tr {
    let default = default_lang(req);
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Tr::negotiate(None, accept, default)
}

/// A visitor's language choice (the footer's switcher): a cookie, so no
/// session is made for it.
pub const LANG_COOKIE: &str = "swiper_lang";

/// Saves a member's language choice in their session (at login and from
/// settings; visitors have no session).
pub fn save_lang(req: &HttpRequest, code: &str) {
    let _ = req.get_session().insert(LANG_KEY, code);
}

/// Notices shown after a redirect, named in the `notice` query parameter.
/// Only these keys are accepted, so a link cannot inject text.
const NOTICES: &[&str] = &[
    "check_email",
    "email_verified",
    "logged_out",
    "password_reset_sent",
    "password_reset_done",
    "password_changed",
    "sessions_revoked",
    "verification_sent",
    "language_saved",
    "profile_saved",
    "welcome_done",
    "mails_saved",
    "export_requested",
    "account_deleted",
    "photo_uploaded",
    "photo_main_set",
    "photo_moved",
    "phone_saved",
    "phone_removed",
    "photo_deleted",
    "its_a_match",
    "rewound",
    "blocked",
    "reported",
    "unmatched",
    "two_factor_disabled",
    "staff_two_factor",
    "staff_password_expired",
    "oauth_linked",
    "oauth_unlinked",
    "oauth_in_use",
    "settings_saved",
    "admin_banned",
    "admin_unbanned",
    "admin_verified",
    "admin_sessions_revoked",
    "admin_verification_resent",
    "admin_roles_saved",
    "admin_plan_assigned",
    "admin_plan_saved",
    "admin_job_retried",
    "admin_photo_approved",
    "admin_photo_rejected",
    "admin_report_banned",
    "admin_report_dismissed",
    "admin_role_created",
    "admin_role_saved",
    "staff_idle",
    "signed_out",
];

pub struct Page {
    pub t: Tr,
    pub csrf: String,
    pub user: Option<Principal>,
    pub notice: Option<&'static str>,
    /// The URL of my avatar (the main photo's thumbnail), if I have one.
    pub avatar: Option<String>,
    /// The request's path: which link of a navigation is the current page.
    path: String,
}

impl Page {
    pub fn from_request_sync(req: &HttpRequest) -> Self {
        let notice = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k == "notice")
            .and_then(|(_, v)| NOTICES.iter().find(|n| **n == v).copied());
        let user = req.extensions().get::<Principal>().cloned();
        let avatar = match (&user, req.app_data::<actix_web::web::Data<Spine>>()) {
            (Some(u), Some(state)) => u
                .avatar_key
                .as_deref()
                .map(|k| crate::storage::public_url(&state.settings.media, k)),
            _ => None,
        };
        Self {
            avatar,
            path: req.path().to_string(),
            t: tr_for(req),
            csrf: csrf::token(req),
            user,
            notice,
        }
    }

    /// The catalog key of the current notice.
    pub fn notice_key(&self) -> Option<String> {
        self.notice.map(|n| format!("notice.{n}"))
    }

    /// `aria-current` for the main navigation's link to `/{section}`: the
    /// page is in that section (`/matches/7` is in `matches`).
    pub fn current(&self, section: &str) -> &'static str {
        let first = self.path.split('/').nth(1).unwrap_or("");
        if first == section {
            "page"
        } else {
            "false"
        }
    }

    /// `aria-current` for a link to `path` in a section's own menu: this
    /// page, or a page under it (`/admin/users/7` under `/admin/users`);
    /// the section's root (`/admin`) only for itself.
    pub fn here(&self, path: &str) -> &'static str {
        let under = self.path.strip_prefix(path).is_some_and(|rest| {
            rest.is_empty() || (rest.starts_with('/') && path.matches('/').count() > 1)
        });
        if under {
            "page"
        } else {
            "false"
        }
    }

    /// The languages of the footer's switcher: (code, its own name).
    pub fn languages(&self) -> Vec<(&'static str, &'static str)> {
        crate::i18n::languages()
            .map(|c| (c.code.as_str(), c.name.as_str()))
            .collect()
    }

    /// Whether the page is in the language `code`.
    pub fn is_lang(&self, code: &str) -> bool {
        self.t.lang() == code
    }

    /// Where the switcher returns to: this page.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    pub fn csrf_field(&self) -> &'static str {
        csrf::FIELD
    }
}

impl FromRequest for Page {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::from_request_sync(req)))
    }
}
