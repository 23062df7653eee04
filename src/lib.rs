//! Swiper: a dating and social web site. See ARCHITECTURE.md for the module map.

pub mod accounts;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod home;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod ops;
pub mod security;
pub mod startup;
pub mod telemetry;
pub mod web;
