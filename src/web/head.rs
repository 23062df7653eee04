//! `HEAD` is answered wherever `GET` is (uptime checks and caches use it):
//! the request is routed as a `GET` and the response is sent without its body.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
    }
    let res = next.call(req).await?;
    if !head {
        return Ok(res.map_into_boxed_body());
    }
    Ok(res.map_body(|_, _| BoxBody::new(())))
}
