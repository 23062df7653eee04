//! "Remember me": the session cookie is a browser-session cookie unless the
//! member asked to be remembered, in which case it is given a `Max-Age` up
//! to the end of that session's absolute lifetime. actix-session sets one
//! lifecycle for all sessions, so this layer (outside it) adjusts the cookie.

use actix_web::body::MessageBody;
use actix_web::cookie::time::Duration;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::auth::Principal;
use crate::state::Spine;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<Spine>>().cloned() else {
        return next.call(req).await;
    };
    let (clock, name) = (
        state.clock.clone(),
        crate::web::session_cookie_name(&state.settings),
    );
    let mut res = next.call(req).await?;
    let remaining = res
        .request()
        .extensions()
        .get::<Principal>()
        .filter(|u| u.remember)
        .map(|u| (u.session_expires_at - clock.now()).num_seconds());
    let Some(secs) = remaining.filter(|s| *s > 0) else {
        return Ok(res);
    };
    let cookie = res
        .response()
        .cookies()
        .find(|c| c.name() == name && !c.value().is_empty() && c.max_age().is_none())
        .map(|c| c.into_owned());
    if let Some(mut cookie) = cookie {
        cookie.set_max_age(Duration::seconds(secs));
        let r = res.response_mut();
        r.del_cookie(name);
        r.add_cookie(&cookie)?;
    }
    Ok(res)
}
