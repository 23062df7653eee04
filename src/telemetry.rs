//! Logging through `tracing`: text or JSON, a request id per request, and the
//! client IP from our own resolver (never a client-sent header from an
//! untrusted peer).

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// What is logged unless `RUST_LOG` says otherwise.
const DEFAULT_FILTER: &str = "info,actix_server=warn,diesel=warn";

/// Added to any filter: actix-web-prom warns "Cannot build mixed cardinality
/// pattern" whenever a middleware (the admin guard) answers before the
/// route's parameters are read; it then labels the request with the route
/// pattern, which is what we want, so those warnings are noise.
const QUIET: &str = "actix_web_prom=error";

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let filter = match QUIET.parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let builder = fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.fmt_fields(text_fields()).try_init(),
    };
}

/// Fields of the text format with every control character escaped, so a
/// value a user sent (an OAuth `error` with `%0A`, a header, a nickname)
/// cannot start a forged line. The JSON format escapes by itself.
fn text_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        // What the log crate's bridge adds (its target, file, line).
        if field.name().starts_with("log.") {
            return Ok(());
        }
        let text = escape_controls(&format!("{value:?}"));
        if field.name() == "message" {
            write!(w, "{text}")
        } else {
            write!(w, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// `text` with control characters written as escapes (`\n`, `\u{1b}`).
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The root span of each request: method, route, status, request id and the
/// trusted client IP. Query strings are left out (they may carry tokens).
pub struct SwiperRootSpan;

impl RootSpanBuilder for SwiperRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let client_ip = crate::web::client_ip::of_service_request(request);
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            client_ip = %client_ip,
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        if let Ok(res) = outcome {
            span.record("status", res.status().as_u16());
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    /// The lines a text-format subscriber writes.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut out) = self.0.lock() {
                out.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_value_with_a_newline_cannot_forge_a_line_in_the_text_log() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(super::text_fields())
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let sent = "access_denied\n2026-01-01T00:00:00Z  INFO login succeeded user_id=1";
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(error = %sent, "provider refused: {sent}");
        });
        let out = String::from_utf8(lines.0.lock().map(|o| o.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains("access_denied\\n2026"), "{out}");
    }
}
