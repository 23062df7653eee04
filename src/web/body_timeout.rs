//! A bound on the time a client may take to send its request body, so a
//! client announcing a body and never sending it cannot hold a worker (the
//! request head has its own bound, `client_request_timeout`). A body that
//! does not arrive within `HTTP_BODY_TIMEOUT` is answered 408 and the
//! connection closed.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage};
use futures_util::Stream;

use crate::error::AppError;
use crate::state::Spine;

/// The body stream, ended with a time-out error once the deadline passes.
struct Bounded<S> {
    inner: S,
    sleep: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
    done: bool,
}

impl<S> Stream for Bounded<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            if item.is_none() {
                self.done = true;
            }
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.done = true;
            self.timed_out.store(true, Ordering::Relaxed);
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body too slow");
            return Poll::Ready(Some(Err(PayloadError::Io(e))));
        }
        Poll::Pending
    }
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let bound = req
        .app_data::<web::Data<Spine>>()
        .map(|s| s.settings.http.body_timeout);
    // A WebSocket's "body" is the socket itself: it has its own heartbeat.
    let upgrade = req.headers().contains_key(header::UPGRADE);
    let Some(bound) = bound.filter(|_| !upgrade) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let timed_out = Arc::new(AtomicBool::new(false));
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(Bounded {
            inner,
            sleep: Box::pin(tokio::time::sleep(bound)),
            timed_out: timed_out.clone(),
            done: false,
        }),
    });
    let res = next.call(req).await?;
    if !timed_out.load(Ordering::Relaxed) {
        return Ok(res.map_into_left_body());
    }
    let (req, _) = res.into_parts();
    let mut response = actix_web::ResponseError::error_response(&AppError::RequestTimeout);
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}
