use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::accounts::login::hash_password;
use crate::accounts::signup::{self, SignupError, SignupForm};
use crate::db;
use crate::error::AppError;
use crate::startup::AppState;
use crate::web::{redirect, render, FormErrors, Page};

#[derive(Template)]
#[template(path = "accounts/signup.html")]
struct SignupPage {
    page: Page,
    form: SignupForm,
    errors: FormErrors,
    max_birthday: String,
}

fn page(page: Page, form: SignupForm, errors: FormErrors) -> SignupPage {
    let today = chrono::Utc::now().date_naive();
    let max = today
        .checked_sub_months(chrono::Months::new(12 * 18))
        .unwrap_or(today);
    SignupPage {
        page,
        form,
        errors,
        max_birthday: max.format("%Y-%m-%d").to_string(),
    }
}

pub async fn form(page_ctx: Page) -> Result<HttpResponse, AppError> {
    if page_ctx.user.is_some() {
        return Ok(redirect("/discover"));
    }
    crate::web::ok(&page(
        page_ctx,
        SignupForm::default(),
        FormErrors::default(),
    ))
}

pub async fn submit(
    state: web::Data<AppState>,
    page_ctx: Page,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let today = chrono::Utc::now().date_naive();
    let account = match signup::validate(&form, today, state.settings.password_min_length) {
        Ok(a) => a,
        Err(errors) => {
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(page_ctx, form, errors),
            )
        }
    };
    let hash = hash_password(account.password.clone(), state.settings.password_iterations).await?;
    let lang = page_ctx.t.lang().to_string();
    let created = db::run(&state.pool, move |c| {
        Ok(signup::create_account(c, &account, &hash, &lang, db::now()))
    })
    .await?;
    match created {
        Ok(_) => {
            state.wake_worker();
            Ok(redirect("/login?notice=check_email"))
        }
        Err(SignupError::EmailTaken) => {
            let mut errors = FormErrors::default();
            errors.push("email", "email_taken");
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(page_ctx, form, errors),
            )
        }
        Err(SignupError::Database(e)) => Err(e.into()),
    }
}
