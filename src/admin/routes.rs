//! The admin console's route table: each route with the permission it
//! needs. [`configure`] registers exactly these routes (behind the guard),
//! and the role × route test walks the same table, so a route cannot exist
//! without a declared permission.

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::web;

use super::{dashboard, guard, jobs_page, photos, plans, reports, roles, settings, users};
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

macro_rules! admin_routes {
    ($( $method:ident $pattern:literal ($sample:literal) $perm:ident => $handler:path; )*) => {
        /// Every admin route and its permission.
        pub const ROUTES: &[AdminRoute] = &[
            $( AdminRoute {
                method: stringify!($method),
                pattern: $pattern,
                sample: $sample,
                permission: Permission::$perm,
            }, )*
        ];

        /// Registers every route of [`ROUTES`] behind the guard.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            cfg.service(
                web::scope("/admin")
                    .wrap(from_fn(guard::middleware))
                    $( .route(
                        $pattern.strip_prefix("/admin").unwrap_or($pattern),
                        web::method(Method::$method).to($handler),
                    ) )*
                    .default_service(web::to(not_found)),
            );
        }
    };
}

admin_routes! {
    GET "/admin" ("/admin") AdminView => dashboard::show;
    GET "/admin/users" ("/admin/users") UsersView => users::list;
    GET "/admin/users/{id}" ("/admin/users/1") UsersView => users::detail;
    POST "/admin/users/{id}/ban" ("/admin/users/1/ban") UsersBan => users::ban;
    POST "/admin/users/{id}/unban" ("/admin/users/1/unban") UsersBan => users::unban;
    POST "/admin/users/{id}/verify" ("/admin/users/1/verify") UsersVerify => users::verify;
    POST "/admin/users/{id}/revoke-sessions" ("/admin/users/1/revoke-sessions") UsersSessions => users::revoke_sessions;
    POST "/admin/users/{id}/resend-verification" ("/admin/users/1/resend-verification") UsersMail => users::resend_verification;
    POST "/admin/users/{id}/roles" ("/admin/users/1/roles") UsersRoles => users::set_roles;
    POST "/admin/users/{id}/plan" ("/admin/users/1/plan") UsersPlan => plans::assign;
    GET "/admin/roles" ("/admin/roles") RolesEdit => roles::list;
    POST "/admin/roles" ("/admin/roles") RolesEdit => roles::create;
    POST "/admin/roles/{name}" ("/admin/roles/moderator") RolesEdit => roles::update;
    GET "/admin/plans" ("/admin/plans") PlansEdit => plans::list;
    POST "/admin/plans/{name}" ("/admin/plans/free") PlansEdit => plans::update;
    GET "/admin/reports" ("/admin/reports") ReportsHandle => reports::queue;
    POST "/admin/reports/{id}/resolve" ("/admin/reports/1/resolve") ReportsHandle => reports::resolve;
    GET "/admin/photos" ("/admin/photos") PhotosReview => photos::queue;
    POST "/admin/photos/{id}/approve" ("/admin/photos/1/approve") PhotosReview => photos::approve;
    POST "/admin/photos/{id}/reject" ("/admin/photos/1/reject") PhotosReview => photos::reject;
    GET "/admin/settings" ("/admin/settings") SettingsEdit => settings::form;
    POST "/admin/settings" ("/admin/settings") SettingsEdit => settings::submit;
    GET "/admin/audit" ("/admin/audit") AuditView => settings::audit;
    GET "/admin/jobs" ("/admin/jobs") JobsView => jobs_page::list;
    POST "/admin/jobs/{id}/retry" ("/admin/jobs/1/retry") JobsRetry => jobs_page::retry;
}

async fn not_found() -> Result<actix_web::HttpResponse, crate::error::AppError> {
    Err(crate::error::AppError::NotFound)
}
