//! Members, for staff: search, detail, and the actions on an account (ban,
//! unban, mark verified, revoke sessions, resend the verification mail,
//! roles), each run by [`super::accounts`].

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::accounts::{self, AccountAction};
use super::audit::Actor;
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::auth::directory::{self, Filter, PlanFilter, Sort};
use crate::auth::events::{self as auth_events, AuthEventRow};
use crate::auth::{plans, rbac};
use crate::auth::{User, UserId};
use crate::error::AppError;
use crate::matches::reports::{self, ReportRow};
use crate::profiles::imaging::SIZES;
use crate::profiles::photos::{size_key, Photo, PhotoStatus};
use crate::profiles::store::Profile;
use crate::web::{redirect, Page};

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    /// `active` or `banned`.
    status: String,
    /// `yes` or `no`.
    verified: String,
    /// A role name.
    role: String,
    /// A plan name.
    plan: String,
    /// `oldest` (default), `newest` or `email`.
    sort: String,
    /// The keyset cursor of the next page.
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    page: Page,
    staff: Staff,
    query: ListQuery,
    sorts: &'static [Sort],
    role_names: Vec<String>,
    plan_names: Vec<String>,
    /// Every plan's id and name, for the plan column.
    plans: Vec<(crate::db::types::PlanId, String)>,
    users: Vec<User>,
    /// The query string of the next page.
    next: Option<String>,
}

impl ListPage {
    /// A member's plan by name (`free` when none is assigned).
    fn plan_of(&self, user: &User) -> &str {
        user.plan_id
            .and_then(|id| self.plans.iter().find(|(p, _)| *p == id))
            .map_or(crate::auth::plans::FREE, |(_, name)| name.as_str())
    }

    /// The list sorted by `sort`, with the same search and filters: a
    /// column header's link.
    fn sorted_by(&self, sort: &str) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.query.q),
            ("status", &self.query.status),
            ("verified", &self.query.verified),
            ("role", &self.query.role),
            ("plan", &self.query.plan),
        ] {
            if !value.is_empty() {
                pairs.append_pair(key, value);
            }
        }
        pairs.append_pair("sort", sort);
        format!("/admin/users?{}", pairs.finish())
    }

    /// `aria-sort` of a column sorted by `ascending` or `descending` (or neither).
    fn aria_sort(&self, ascending: &str, descending: &str) -> &'static str {
        let current = if self.query.sort.is_empty() {
            "oldest"
        } else {
            self.query.sort.as_str()
        };
        if current == ascending {
            "ascending"
        } else if current == descending {
            "descending"
        } else {
            "none"
        }
    }
}

/// `Some(yes)` for `yes_word`, `Some(!yes)` for `no_word`, `None` for
/// empty; anything else is bad input.
fn choice(raw: &str, yes_word: &str, no_word: &str) -> Result<Option<bool>, AppError> {
    match raw {
        "" => Ok(None),
        w if w == yes_word => Ok(Some(true)),
        w if w == no_word => Ok(Some(false)),
        _ => Err(AppError::InvalidInput),
    }
}

pub async fn list(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let mut query = query.into_inner();
    query.q = query.q.chars().take(254).collect();
    let sort = match query.sort.as_str() {
        "" => Sort::default(),
        s => Sort::parse(s).ok_or(AppError::InvalidInput)?,
    };
    let mut filter = Filter {
        active: choice(&query.status, "active", "banned")?,
        verified: choice(&query.verified, "yes", "no")?,
        ..Filter::default()
    };
    let (q, role, plan, after) = (
        query.q.clone(),
        query.role.clone(),
        query.plan.clone(),
        query.after.clone(),
    );
    let found = state
        .db
        .read(move |c| {
            if !role.is_empty() {
                match rbac::role_id(c, &role)? {
                    Some(id) => filter.role = Some(id),
                    None => return Ok(None),
                }
            }
            if !plan.is_empty() {
                match plans::by_name(c, &plan)? {
                    Some(p) if p.name == plans::FREE => {
                        filter.plan = Some(PlanFilter::Free { id: p.id })
                    }
                    Some(p) => filter.plan = Some(PlanFilter::Other { id: p.id }),
                    None => return Ok(None),
                }
            }
            let users = directory::list(c, &q, &filter, sort, after.as_deref(), PAGE_SIZE + 1)?;
            let role_names = rbac::role_names(c)?;
            let all_plans = plans::all(c)?;
            let plan_names = all_plans.iter().map(|p| p.name.clone()).collect();
            let plans = all_plans.into_iter().map(|p| (p.id, p.name)).collect();
            Ok(Some((users, role_names, plan_names, plans)))
        })
        .await?;
    let Some((users, role_names, plan_names, plans)) = found else {
        return Err(AppError::InvalidInput);
    };
    let more = users.len() > PAGE_SIZE as usize;
    let users: Vec<User> = users.into_iter().take(PAGE_SIZE as usize).collect();
    // Keyset pages for the whole list; a search shows its first matches.
    let next = (more && query.q.trim().is_empty())
        .then(|| users.last())
        .flatten()
        .map(|last| next_page(&query, sort, last));
    crate::web::ok(&ListPage {
        page,
        staff,
        query,
        sorts: Sort::ALL,
        role_names,
        plan_names,
        plans,
        users,
        next,
    })
}

/// The query string of the page after `last`, keeping the filters.
fn next_page(query: &ListQuery, sort: Sort, last: &User) -> String {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("status", &query.status),
        ("verified", &query.verified),
        ("role", &query.role),
        ("plan", &query.plan),
    ] {
        if !value.is_empty() {
            pairs.append_pair(key, value);
        }
    }
    pairs.append_pair("sort", sort.as_str());
    pairs.append_pair("after", &sort.cursor(last));
    pairs.finish()
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct DetailPage {
    page: Page,
    staff: Staff,
    member: Member,
    /// Each photo with the address of its thumbnail (ready ones).
    photos: Vec<(Photo, Option<String>)>,
}

/// Everything the member page shows, read in one go.
struct Member {
    user: User,
    profile: Option<Profile>,
    roles: Vec<String>,
    all_roles: Vec<String>,
    events: Vec<AuthEventRow>,
    plan: String,
    plan_names: Vec<String>,
    photos: Vec<Photo>,
    reports_about: Vec<ReportRow>,
    reports_by: Vec<ReportRow>,
}

impl Member {
    fn load(c: &mut crate::db::DbConnection, id: UserId) -> diesel::QueryResult<Option<Self>> {
        let Some(user) = User::find(c, id)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            user,
            profile: Profile::find(c, id)?,
            roles: rbac::roles_of(c, id)?,
            all_roles: rbac::role_names(c)?,
            events: auth_events::recent(c, id, 20)?,
            plan: plans::of_member(c, id)?.map(|p| p.name).unwrap_or_default(),
            plan_names: plans::all(c)?.into_iter().map(|p| p.name).collect(),
            photos: Photo::of_user(c, id)?,
            reports_about: reports::involving(c, id, true, 20)?,
            reports_by: reports::involving(c, id, false, 20)?,
        }))
    }
}

pub async fn detail(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let member = state
        .db
        .primary(move |c| Ok(Member::load(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let photos = member
        .photos
        .iter()
        .map(|p| {
            let url = (p.status == PhotoStatus::Ready).then(|| {
                crate::storage::public_url(
                    &state.settings.media,
                    &size_key(&p.storage_key, SIZES[0]),
                )
            });
            (p.clone(), url)
        })
        .collect();
    crate::web::ok(&DetailPage {
        page,
        staff,
        member,
        photos,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BanForm {
    reason: String,
}

/// Runs one account action for the staff member behind `req`, then shows
/// the member page again.
async fn act(
    req: &HttpRequest,
    state: &AdminState,
    staff: &Staff,
    id: UserId,
    action: AccountAction,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::staff(staff, req, state.clock.now());
    let notice = action.notice();
    accounts::act(state, actor, id, action).await?;
    Ok(redirect(&format!("/admin/users/{id}?notice={notice}")))
}

/// `POST /admin/users/{id}/unban`, `/verify`, `/revoke-sessions` and
/// `/resend-verification`: the account actions without a form, named by the
/// path's last segment.
pub async fn plain_action(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    let action = req
        .path()
        .rsplit('/')
        .next()
        .and_then(AccountAction::without_form)
        .ok_or(AppError::NotFound)?;
    act(&req, &state, &staff, path.into_inner(), action).await
}

/// `POST /admin/users/{id}/ban`: a reason is required.
pub async fn ban(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<UserId>,
    form: web::Form<BanForm>,
) -> Result<HttpResponse, AppError> {
    let reason: String = form.into_inner().reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(AppError::InvalidInput);
    }
    let action = AccountAction::Ban { reason };
    act(&req, &state, &staff, path.into_inner(), action).await
}

/// `POST /admin/users/{id}/roles`: the member's roles become exactly the
/// `role` fields sent (repeatable); a sensitive action, so the staff member's
/// password comes too.
pub async fn set_roles(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<UserId>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let fields = form.into_inner();
    super::guard::require_password(&state, &staff, &req, super::form_field(&fields, "password"))
        .await?;
    let mut names: Vec<String> = fields
        .into_iter()
        .filter(|(k, _)| k == "role")
        .map(|(_, v)| v)
        .collect();
    names.sort();
    names.dedup();
    let action = AccountAction::SetRoles(names);
    act(&req, &state, &staff, path.into_inner(), action).await
}
