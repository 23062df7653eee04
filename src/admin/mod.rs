//! The admin console (`/admin`): staff pages behind one guard. Every route
//! declares its permission in [`table::ROUTES`]; every staff action writes
//! one [`audit`] entry in the same transaction as the change.

pub mod accounts;
pub mod audit;
pub mod changes;
mod dashboard;
pub mod guard;
pub mod jobs;
mod jobs_page;
mod photos;
mod plans;
pub mod purge;
mod reports;
mod roles;
pub mod routes;
mod settings;
pub mod state;
pub mod stats;
pub mod table;
mod users;

/// The value of the field `key` of a form with repeatable fields ("" when
/// absent).
pub(crate) fn form_field<'a>(form: &'a [(String, String)], key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}
