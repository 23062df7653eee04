//! The landing page, and the discovery page's place-holder until the dating
//! core lands (it is the page members reach after logging in).

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::Principal;
use crate::error::AppError;
use crate::web::{redirect, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(landing))
        .route("/discover", web::get().to(discover));
}

#[derive(Template)]
#[template(path = "home/landing.html")]
struct LandingPage {
    page: Page,
}

async fn landing(page: Page) -> Result<HttpResponse, AppError> {
    if page.user.is_some() {
        return Ok(redirect("/discover"));
    }
    crate::web::ok(&LandingPage { page })
}

#[derive(Template)]
#[template(path = "home/discover.html")]
struct DiscoverPage {
    page: Page,
    me: Principal,
}

async fn discover(page: Page, me: Principal) -> Result<HttpResponse, AppError> {
    crate::web::ok(&DiscoverPage { page, me })
}
