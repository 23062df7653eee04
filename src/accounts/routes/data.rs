//! `/settings/data`: export my data, and delete my account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::deletion::{self, Deletion, Proof, ProofKind};
use crate::accounts::export::{self, Export};
use crate::accounts::reentry::Caller;
use crate::accounts::state::AccountsState;
use crate::auth::Principal;
use crate::error::{AppError, FieldCode};
use crate::security::SecretString;
use crate::web::{redirect, render, FormErrors, Page};

#[derive(Template)]
#[template(path = "accounts/data.html")]
struct DataPage {
    page: Page,
    exports: Vec<Export>,
    /// How I prove it is me: `password`, `code` or `fresh`.
    proof: &'static str,
    code_sent: bool,
    errors: FormErrors,
}

fn proof_name(kind: ProofKind) -> &'static str {
    match kind {
        ProofKind::Password => "password",
        ProofKind::Code => "code",
        ProofKind::FreshLogin => "fresh",
    }
}

async fn data_page(
    state: &AccountsState,
    page: Page,
    me: &Principal,
    code_sent: bool,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &DataPage {
            page,
            exports: export::mine(state, me).await?,
            proof: proof_name(deletion::proof_for(state, me).await?),
            code_sent,
            errors,
        },
    )
}

/// `GET /settings/data`.
pub async fn show(
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    data_page(
        &state,
        page,
        &me,
        false,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /settings/data/export`: the job builds it and mails the link.
pub async fn request_export(
    state: web::Data<AccountsState>,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    export::request(&state, &me).await?;
    Ok(redirect("/settings/data?notice=export_requested"))
}

/// `GET /settings/data/exports/{id}`: the mailed link (and the data
/// page's), for its member only (logged in); anyone else or an expired
/// export: 404.
pub async fn download(
    state: web::Data<AccountsState>,
    me: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let bytes = export::download(&state, &me, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"swiper-my-data.zip\"",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    password: SecretString,
    code: String,
}

/// `POST /settings/delete`: with the password (a phone account: a texted
/// code, asked for by the first post), the account is hidden at once and
/// restorable by logging in for 14 days.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
    session: actix_session::Session,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let DeleteForm { password, code } = form.into_inner();
    let proof = Proof { password, code };
    let lang = page.t.lang();
    match deletion::delete(&state, &me, &Caller::of(&req), proof, lang).await? {
        Deletion::Done => {
            // This browser's whole server-side state goes, as at logout.
            session.purge();
            Ok(redirect("/login?notice=account_deleted"))
        }
        Deletion::CodeSent => {
            data_page(
                &state,
                page,
                &me,
                true,
                FormErrors::default(),
                StatusCode::OK,
            )
            .await
        }
        Deletion::Refused(errors) => {
            let code_sent = errors.for_field("code").is_some();
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            data_page(&state, page, &me, code_sent, errors, status).await
        }
        Deletion::LoginAgain => {
            let errors = FormErrors::one("form", FieldCode::LoginAgain);
            let status = StatusCode::FORBIDDEN;
            data_page(&state, page, &me, false, errors, status).await
        }
    }
}
