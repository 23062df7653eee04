//! Discovery and swiping, the heart of the product: the recommendation feed
//! (feed.rs, with its rules and score), swipes and rewinds (swipes.rs: the
//! `swipes` and `rewinds` tables; writer.rs writes swipes in groups), who
//! liked me, a member's profile where the rules allow, block and report. Daily allowances (plan limits, the local
//! day, what is left) in limits.rs; flows in service.rs; matches are made here
//! and kept by the `matches` feature.

pub mod cache;
pub mod feed;
pub mod limits;
pub mod mails;
pub mod pages;
pub mod routes;
pub mod service;
pub mod state;
pub mod swipes;
pub mod writer;

use crate::jobs::Registry;

pub fn register_jobs(r: &mut Registry) {
    mails::register(r);
}
