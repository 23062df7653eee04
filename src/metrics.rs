//! The process's Prometheus metrics: one registry, the counters features
//! increment (logins by outcome, rate-limit refusals, job failures by kind),
//! and the gauges filled when `/metrics` is read (job queue depth, open chat
//! sockets). Request counts and latency by route pattern come from the
//! actix-web-prom middleware on the same registry. Nothing here knows a
//! feature: it sits at the bottom of the module map.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

pub struct Metrics {
    pub registry: Registry,
    /// Login attempts by outcome (`success`, `failure`, `captcha_required`,
    /// `wait`, `second_factor`…).
    pub logins: IntCounterVec,
    /// Requests refused by a rate limit, by rule.
    pub rate_limited: IntCounterVec,
    /// Job attempts that failed, by kind.
    pub job_failures: IntCounterVec,
    /// Jobs by kind and state, read from the queue at scrape time.
    pub jobs: IntGaugeVec,
    /// Open chat sockets on this instance.
    pub chat_sockets: IntGauge,
}

fn counter(name: &str, help: &str, label: &str) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help).namespace("swiper"), &[label])
        .unwrap_or_else(|e| panic!("metric {name}: {e}"))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let m = Metrics {
        logins: counter("logins_total", "Login attempts by outcome.", "outcome"),
        rate_limited: counter(
            "rate_limited_total",
            "Requests refused by a rate limit, by rule.",
            "rule",
        ),
        job_failures: counter(
            "job_failures_total",
            "Failed job attempts, by kind.",
            "kind",
        ),
        jobs: IntGaugeVec::new(
            Opts::new("jobs", "Jobs in the queue by kind and state.").namespace("swiper"),
            &["kind", "state"],
        )
        .unwrap_or_else(|e| panic!("metric jobs: {e}")),
        chat_sockets: IntGauge::with_opts(
            Opts::new("chat_sockets", "Open chat WebSockets on this instance.").namespace("swiper"),
        )
        .unwrap_or_else(|e| panic!("metric chat_sockets: {e}")),
        registry,
    };
    for c in [
        Box::new(m.logins.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(m.rate_limited.clone()),
        Box::new(m.job_failures.clone()),
        Box::new(m.jobs.clone()),
        Box::new(m.chat_sockets.clone()),
    ] {
        if let Err(e) = m.registry.register(c) {
            tracing::error!(error = %e, "metric not registered");
        }
    }
    m
});

/// The metrics of this process.
pub fn get() -> &'static Metrics {
    &METRICS
}

/// The registry in the Prometheus text format.
pub fn encode() -> String {
    use prometheus::Encoder;
    let mut out = Vec::new();
    if let Err(e) = prometheus::TextEncoder::new().encode(&METRICS.registry.gather(), &mut out) {
        tracing::error!(error = %e, "metrics not encodable");
    }
    String::from_utf8(out).unwrap_or_default()
}
