//! The admin console's route table, as plain data: every `/admin` route
//! with the permission it needs. The guard authorizes from it, `routes`
//! registers a handler for each entry and for nothing else, and the role ×
//! route test walks it. It imports no page, so nothing here goes in a circle.

use actix_web::dev::ResourceDef;

use crate::auth::rbac::Permission;

/// One admin route.
#[derive(Debug)]
pub struct AdminRoute {
    pub method: &'static str,
    pub pattern: &'static str,
    /// A concrete path for tests (ids of the test fixture).
    pub sample: &'static str,
    pub permission: Permission,
}

const fn route(
    method: &'static str,
    pattern: &'static str,
    sample: &'static str,
    permission: Permission,
) -> AdminRoute {
    AdminRoute {
        method,
        pattern,
        sample,
        permission,
    }
}

use Permission as P;

/// Every admin route and its permission: method, pattern, sample path,
/// permission.
#[rustfmt::skip]
pub const ROUTES: &[AdminRoute] = &[
    route("GET",  "/admin",                                "/admin",                             P::AdminView),
    route("GET",  "/admin/users",                          "/admin/users",                       P::UsersView),
    route("GET",  "/admin/users/{id}",                     "/admin/users/1",                     P::UsersView),
    route("POST", "/admin/users/{id}/ban",                 "/admin/users/1/ban",                 P::UsersBan),
    route("POST", "/admin/users/{id}/unban",               "/admin/users/1/unban",               P::UsersBan),
    route("POST", "/admin/users/{id}/verify",              "/admin/users/1/verify",              P::UsersVerify),
    route("POST", "/admin/users/{id}/revoke-sessions",     "/admin/users/1/revoke-sessions",     P::UsersSessions),
    route("POST", "/admin/users/{id}/resend-verification", "/admin/users/1/resend-verification", P::UsersMail),
    route("POST", "/admin/users/{id}/roles",               "/admin/users/1/roles",               P::UsersRoles),
    route("POST", "/admin/users/{id}/plan",                "/admin/users/1/plan",                P::UsersPlan),
    route("GET",  "/admin/roles",                          "/admin/roles",                       P::RolesEdit),
    route("POST", "/admin/roles",                          "/admin/roles",                       P::RolesEdit),
    route("POST", "/admin/roles/{name}",                   "/admin/roles/moderator",             P::RolesEdit),
    route("GET",  "/admin/plans",                          "/admin/plans",                       P::PlansEdit),
    route("POST", "/admin/plans/{name}",                   "/admin/plans/free",                  P::PlansEdit),
    route("GET",  "/admin/reports",                        "/admin/reports",                     P::ReportsHandle),
    route("POST", "/admin/reports/{id}/resolve",           "/admin/reports/1/resolve",           P::ReportsHandle),
    route("GET",  "/admin/photos",                         "/admin/photos",                      P::PhotosReview),
    route("POST", "/admin/photos/{id}/approve",            "/admin/photos/1/approve",            P::PhotosReview),
    route("POST", "/admin/photos/{id}/reject",             "/admin/photos/1/reject",             P::PhotosReview),
    route("GET",  "/admin/settings",                       "/admin/settings",                    P::SettingsEdit),
    route("POST", "/admin/settings",                       "/admin/settings",                    P::SettingsEdit),
    route("GET",  "/admin/audit",                          "/admin/audit",                       P::AuditView),
    route("GET",  "/admin/jobs",                           "/admin/jobs",                        P::JobsView),
    route("POST", "/admin/jobs/{id}/retry",                "/admin/jobs/1/retry",                P::JobsRetry),
];

/// The declared route a request is for.
pub fn route_for(method: &str, path: &str) -> Option<&'static AdminRoute> {
    ROUTES
        .iter()
        .find(|r| r.method == method && ResourceDef::new(r.pattern).is_match(path))
}
