//! The landing page (members who are logged in go to `/discover`).

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::web::{redirect, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(landing));
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
