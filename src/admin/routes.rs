//! Registers the handler of every entry of the route table
//! ([`super::table::ROUTES`]) behind the guard, and nothing else: a route
//! cannot exist without a declared permission, and a declared route without
//! a handler is caught by the test below.

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{web, Route};

use super::table::{AdminRoute, ROUTES};
use super::{dashboard, guard, jobs_page, photos, plans, reports, roles, settings, users};
use crate::error::AppError;

/// Registers every route of the table behind the guard.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut scope = web::scope("/admin").wrap(from_fn(guard::middleware));
    for r in ROUTES {
        match handler(r) {
            Some(to) => {
                scope = scope.route(r.pattern.strip_prefix("/admin").unwrap_or(r.pattern), to);
            }
            None => tracing::error!(route = ?r, "admin route without a handler"),
        }
    }
    cfg.service(scope.default_service(web::to(not_found)));
}

/// The handler of a declared route.
fn handler(r: &AdminRoute) -> Option<Route> {
    let route = web::route().method(Method::from_bytes(r.method.as_bytes()).ok()?);
    Some(match (r.method, r.pattern) {
        ("GET", "/admin") => route.to(dashboard::show),
        ("GET", "/admin/users") => route.to(users::list),
        ("GET", "/admin/users/{id}") => route.to(users::detail),
        ("POST", "/admin/users/{id}/ban") => route.to(users::ban),
        (
            "POST",
            "/admin/users/{id}/unban"
            | "/admin/users/{id}/verify"
            | "/admin/users/{id}/revoke-sessions"
            | "/admin/users/{id}/resend-verification",
        ) => route.to(users::plain_action),
        ("POST", "/admin/users/{id}/roles") => route.to(users::set_roles),
        ("POST", "/admin/users/{id}/plan") => route.to(plans::assign),
        ("GET", "/admin/roles") => route.to(roles::list),
        ("POST", "/admin/roles") => route.to(roles::create),
        ("POST", "/admin/roles/{name}") => route.to(roles::update),
        ("GET", "/admin/plans") => route.to(plans::list),
        ("POST", "/admin/plans/{name}") => route.to(plans::update),
        ("GET", "/admin/reports") => route.to(reports::queue),
        ("POST", "/admin/reports/{id}/resolve") => route.to(reports::resolve),
        ("GET", "/admin/photos") => route.to(photos::queue),
        ("POST", "/admin/photos/{id}/approve") => route.to(photos::approve),
        ("POST", "/admin/photos/{id}/reject") => route.to(photos::reject),
        ("GET", "/admin/settings") => route.to(settings::form),
        ("POST", "/admin/settings") => route.to(settings::submit),
        ("GET", "/admin/audit") => route.to(settings::audit),
        ("GET", "/admin/jobs") => route.to(jobs_page::list),
        ("POST", "/admin/jobs/{id}/retry") => route.to(jobs_page::retry),
        _ => return None,
    })
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_declared_route_has_a_handler() {
        for r in super::ROUTES {
            assert!(super::handler(r).is_some(), "{r:?}");
        }
    }
}
