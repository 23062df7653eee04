//! Job kinds and their handlers. Each feature registers the kinds it owns.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::config::Settings;
use crate::db::Pool;
use crate::mail::Mailer;

/// What a handler may use.
#[derive(Clone)]
pub struct JobContext {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub mailer: Mailer,
}

/// A failed attempt; the message is stored on the job (never secrets).
#[derive(Debug)]
pub struct JobError(pub String);

impl<E: std::fmt::Display> From<E> for JobError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

pub type Handler =
    Arc<dyn Fn(JobContext, String) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    /// Registers `handler` for jobs of `kind`; it receives the JSON payload.
    pub fn register<F, Fut>(&mut self, kind: &str, handler: F)
    where
        F: Fn(JobContext, String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |ctx, payload| {
                let handler = handler.clone();
                Box::pin(async move { handler(ctx, payload).await })
            }),
        );
    }

    pub fn get(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }

    /// Every kind the application knows.
    pub fn standard() -> Self {
        let mut r = Self::default();
        crate::accounts::mails::register(&mut r);
        crate::jobs::schedule::register(&mut r);
        r
    }
}
