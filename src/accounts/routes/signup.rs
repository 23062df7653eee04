use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::accounts::signup::{self, SignupForm, SignupOutcome};
use crate::accounts::state::AccountsState;
use crate::error::AppError;
use crate::web::client_ip;
use crate::web::{redirect, render, FormErrors, Page};

#[derive(Template)]
#[template(path = "accounts/signup.html")]
struct SignupPage {
    page: Page,
    form: SignupForm,
    errors: FormErrors,
    max_birthday: String,
}

fn page(page: Page, form: SignupForm, errors: FormErrors, today: chrono::NaiveDate) -> SignupPage {
    SignupPage {
        page,
        form,
        errors,
        max_birthday: signup::max_birthday(today),
    }
}

pub async fn form(
    state: web::Data<AccountsState>,
    page_ctx: Page,
) -> Result<HttpResponse, AppError> {
    if page_ctx.user.is_some() {
        return Ok(redirect("/discover"));
    }
    crate::web::ok(&page(
        page_ctx,
        SignupForm::default(),
        FormErrors::default(),
        state.clock.today(),
    ))
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page_ctx: Page,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    signup::limit_address(&state, &client_ip::bucket(&req)).await?;
    let errors = match signup::sign_up(&state, &form, page_ctx.t.lang()).await? {
        // A registered address gets the same answer (its owner is mailed),
        // so the form cannot be used to find out who has an account.
        SignupOutcome::Created(_) | SignupOutcome::EmailTaken => {
            return Ok(redirect("/login?notice=check_email"))
        }
        SignupOutcome::Invalid(errors) => errors,
    };
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(page_ctx, form, errors, state.clock.today()),
    )
}
