//! Swiper: a dating and social web site. See ARCHITECTURE.md for the module
//! map and the rule that dependencies point down: features → auth → the web
//! spine and plumbing → db.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod auth;
pub mod bounded;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod dev;
pub mod discovery;
pub mod error;
pub mod home;
pub mod i18n;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod matches;
pub mod metrics;
pub mod ops;
pub mod profiles;
pub mod realtime;
pub mod redis_link;
pub mod runtime;
pub mod security;
pub mod seed;
pub mod slots;
pub mod sms;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod web;
