//! The general per-IP limit on state-changing requests (every POST counts),
//! on top of the per-action limits the features charge themselves.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::limits::rules;
use crate::state::Spine;
use crate::web::client_ip;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let safe = matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !safe {
        if let Some(state) = req.app_data::<web::Data<Spine>>().cloned() {
            let subject = client_ip::bucket(req.request());
            if let Err(e) = state
                .counters
                .enforce(&state.runtime, rules::POSTS_PER_IP, &subject)
                .await
            {
                return Ok(req.error_response(e).map_into_right_body());
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
