#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Black-box tests: each spawns the real application on a random port with
//! its own database and talks to it over HTTP like a browser. They run on
//! SQLite and in-process stores by default, and on PostgreSQL and Redis when
//! `TEST_DATABASE_URL` and `TEST_REDIS_URL` are set (CI sets them).

mod helpers;

mod accounts;
mod admin;
mod admin_members;
mod api;
mod bad_input;
mod chat;
mod cli;
mod client_ip;
mod crash;
mod csrf;
mod deck;
mod defence;
mod dev;
mod discovery;
mod head;
mod headers;
mod jobs;
mod language;
mod metrics;
mod migrations;
mod my_data;
mod oauth;
mod passwords;
mod photos;
mod profiles;
mod replica;
mod reset;
mod rewind;
mod s3;
mod sessions;
mod sms;
mod staff_rank;
mod time;
mod two_factor;
