//! What the account flows use: the only holder of the login defences'
//! own pieces (the dummy hash, the refusal pacer, the OAuth HTTP client).

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::jobs::JobWriter;
use crate::limits::Counters;
use crate::realtime::Hub;
use crate::runtime::RuntimeSettings;
use crate::security::keys::Keys;
use crate::security::password::Pacer;
use crate::web::session_store::AppSessionStore;

#[derive(Clone)]
pub struct AccountsState {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// Writes that queue mails.
    pub jobs: JobWriter,
    pub clock: Clock,
    pub runtime: RuntimeSettings,
    /// Failed-login counters, captcha answers, rate limits.
    pub counters: Counters,
    /// The CSRF, TOTP-sealing and OAuth-flow keys.
    pub keys: Arc<Keys>,
    /// Tells sockets on every instance that sessions ended.
    pub hub: Hub,
    /// Where exports of a member's data are kept until they expire.
    pub media: crate::storage::MediaStore,
    /// Asked before a login whether a session can be stored now.
    pub sessions: AppSessionStore,
    /// Verified against when an email is unknown, so timing reveals nothing.
    pub dummy_hash: Arc<str>,
    /// Paces refused logins to the slowest recent password check.
    pub login_pacer: Arc<Pacer>,
    /// HTTP client for OAuth providers: rustls, redirects off (no SSRF
    /// through a provider's redirect), 10-second time-out.
    pub http: reqwest::Client,
}
