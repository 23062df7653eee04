//! HTTP routes of the accounts feature: thin handlers that parse, call one
//! domain function and render.

mod data;
mod login;
mod oauth;
mod reset;
mod settings;
mod signup;
mod sms;
mod two_factor;
mod verify;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/signup")
            .route(web::get().to(signup::form))
            .route(web::post().to(signup::submit)),
    )
    .service(
        web::resource("/login")
            .route(web::get().to(login::form))
            .route(web::post().to(login::submit)),
    )
    .service(
        web::resource("/login/2fa")
            .route(web::get().to(login::second_step_form))
            .route(web::post().to(login::second_step_submit)),
    )
    .route("/logout", web::post().to(login::logout))
    .service(
        web::resource("/auth/oauth/complete")
            .route(web::get().to(oauth::complete_form))
            .route(web::post().to(oauth::complete_submit)),
    )
    .route("/auth/oauth/{provider}", web::get().to(oauth::start))
    .route(
        "/auth/oauth/{provider}/callback",
        web::get().to(oauth::callback),
    )
    .route(
        "/settings/oauth/{provider}/link",
        web::post().to(oauth::link),
    )
    .route(
        "/settings/oauth/{provider}/unlink",
        web::post().to(oauth::unlink),
    )
    .route("/captcha/{file}", web::get().to(login::captcha_image))
    .route("/verify-email", web::get().to(verify::verify))
    .route("/verify-email/resend", web::post().to(verify::resend))
    .service(
        web::resource("/password-reset")
            .route(web::get().to(reset::request_form))
            .route(web::post().to(reset::request_submit)),
    )
    .service(
        web::resource("/password-reset/confirm")
            .route(web::get().to(reset::confirm_form))
            .route(web::post().to(reset::confirm_submit)),
    )
    .service(
        web::resource("/login/sms")
            .route(web::get().to(sms::form))
            .route(web::post().to(sms::submit)),
    )
    .service(
        web::resource("/settings/phone")
            .route(web::get().to(sms::phone_form))
            .route(web::post().to(sms::phone_submit)),
    )
    .route("/settings/phone/remove", web::post().to(sms::phone_remove))
    .service(
        web::resource(super::routes::login::WELCOME)
            .route(web::get().to(sms::welcome_form))
            .route(web::post().to(sms::welcome_submit)),
    )
    .route("/settings", web::get().to(settings::show))
    .route(
        "/settings/password",
        web::post().to(settings::change_password),
    )
    .route(
        "/settings/language",
        web::post().to(settings::change_language),
    )
    .route("/language", web::post().to(settings::switch_language))
    .route("/settings/mails", web::post().to(settings::save_mails))
    .route("/settings/data", web::get().to(data::show))
    .route(
        "/settings/data/export",
        web::post().to(data::request_export),
    )
    .route("/settings/data/exports/{id}", web::get().to(data::download))
    .route("/settings/delete", web::post().to(data::delete))
    .service(
        web::resource("/settings/2fa")
            .route(web::get().to(two_factor::form))
            .route(web::post().to(two_factor::confirm)),
    )
    .route("/settings/2fa/qr.svg", web::get().to(two_factor::qr))
    .route("/settings/2fa/disable", web::post().to(two_factor::disable))
    .route("/settings/sessions", web::get().to(settings::sessions))
    .route(
        "/settings/sessions/revoke-others",
        web::post().to(settings::revoke_others),
    )
    .route(
        "/settings/sessions/{id}/revoke",
        web::post().to(settings::revoke_one),
    );
}

/// `/unsubscribe`: outside the session, identity and CSRF layers (a mail
/// client's one-click POST carries no token; the signed link is the proof).
pub fn configure_unsubscribe(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/unsubscribe")
            .route(web::get().to(settings::unsubscribe_form))
            .route(web::post().to(settings::unsubscribe)),
    );
}
