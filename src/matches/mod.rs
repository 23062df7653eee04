//! Matches ("friends"): my matches, one match, unmatch; and the safety
//! tables every feature reads: `blocks` and `reports`. Chat will live on the
//! match page.

pub mod blocks;
pub mod reports;
pub mod routes;
pub mod service;
pub mod store;
