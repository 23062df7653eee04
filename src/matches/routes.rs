//! `/matches`, `/matches/{id}`, `/matches/{id}/unmatch`.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::store::{self, Match, MatchId};
use crate::auth::{Principal, User, UserId};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::profiles::photos::Photo;
use crate::profiles::public::{Position, PublicProfile};
use crate::profiles::store::Profile;
use crate::state::AppState;
use crate::web::{redirect, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/matches", web::get().to(list))
        .route("/matches/{id}", web::get().to(show))
        .route("/matches/{id}/unmatch", web::post().to(unmatch));
}

/// A match as I see it: the other member's public card.
pub struct MatchView {
    pub id: MatchId,
    pub card: PublicProfile,
}

fn view(
    c: &mut DbConnection,
    me: UserId,
    m: &Match,
    today: chrono::NaiveDate,
    media: &crate::config::MediaSettings,
) -> diesel::QueryResult<Option<MatchView>> {
    let other = m.other(me);
    let (Some(user), Some(profile)) = (User::find(c, other)?, Profile::find(c, other)?) else {
        return Ok(None);
    };
    let mine = Profile::find(c, me)?.as_ref().and_then(Position::of);
    let photos = Photo::of_user(c, other)?;
    Ok(Some(MatchView {
        id: m.id,
        card: PublicProfile::new(&user.nickname, &profile, &photos, mine, today, media),
    }))
}

#[derive(Template)]
#[template(path = "matches/list.html")]
struct ListPage {
    page: Page,
    matches: Vec<MatchView>,
}

async fn list(
    state: web::Data<AppState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    let (id, today, media) = (me.id, state.clock.today(), state.settings.media.clone());
    let matches = state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for m in store::mine(c, id, 200)? {
                if let Some(v) = view(c, id, &m, today, &media)? {
                    out.push(v);
                }
            }
            Ok(out)
        })
        .await?;
    crate::web::ok(&ListPage { page, matches })
}

#[derive(Template)]
#[template(path = "matches/show.html")]
struct ShowPage {
    page: Page,
    m: MatchView,
}

async fn show(
    state: web::Data<AppState>,
    page: Page,
    me: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, today, media) = (me.id, state.clock.today(), state.settings.media.clone());
    let match_id = MatchId(path.into_inner());
    let m = state
        .db
        .read(move |c| match store::find_mine(c, id, match_id)? {
            Some(m) => Ok(view(c, id, &m, today, &media)?),
            None => Ok(None),
        })
        .await?
        .ok_or(AppError::NotFound)?;
    crate::web::ok(&ShowPage { page, m })
}

async fn unmatch(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, match_id) = (me.id, MatchId(path.into_inner()));
    let done = state
        .db
        .write(move |c| match store::find_mine(c, id, match_id)? {
            Some(m) => Ok(store::delete_between(c, m.user_a, m.user_b)? > 0),
            None => Ok(false),
        })
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/matches?notice=unmatched"))
}
