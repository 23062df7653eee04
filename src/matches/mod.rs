//! Matches ("friends"): my matches, one match with its conversation,
//! unmatch; chat (stored messages, the form, the WebSocket); and the safety
//! tables every feature reads: `blocks` and `reports`.

pub mod blocks;
pub mod chat;
pub mod mails;
pub mod messages;
pub mod reports;
pub mod routes;
pub mod service;
pub mod state;
pub mod store;
pub mod ws;

/// The jobs this feature owns.
pub fn register_jobs(r: &mut crate::jobs::Registry) {
    mails::register(r);
}
