//! Accounts: sign-up, email verification, log in and out, password reset and
//! change, settings and sessions. Routes are in `routes/` (thin handlers),
//! flows in the other files (one per use case), and the `account_tokens`
//! table in `tokens.rs`. The `users` and `user_sessions` tables belong to `auth`.

pub mod admin;
pub mod banned;
pub mod captcha;
pub mod closing;
pub mod defence;
pub mod deletion;
pub mod events;
pub mod export;
pub use crate::auth::input;
pub mod login;
pub mod mails;
pub mod oauth;
pub mod password;
pub mod phone;
pub mod reentry;
pub mod routes;
pub mod settings;
pub mod signup;
pub mod sms;
pub mod state;
pub mod tokens;
pub mod two_factor;
pub mod verify;

use crate::jobs::Registry;

/// The job kinds this feature owns.
pub fn register_jobs(r: &mut Registry) {
    mails::register(r);
    password::register(r);
    sms::register(r);
    export::register(r);
}
