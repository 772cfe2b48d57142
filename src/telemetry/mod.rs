//! Logs (plain or JSON, level from `RUST_LOG`, default `info`) on stderr,
//! the optional Prometheus endpoint, and distributed traces (`traces`).

pub mod traces;

use std::{io::IsTerminal, net::SocketAddr, path::Path, sync::Arc};

use tracing::{Level, Metadata};
use tracing_subscriber::{
    EnvFilter,
    filter::{FilterExt, filter_fn},
    fmt::{self, writer::BoxMakeWriter},
    prelude::*,
};

use crate::config::LogFormat;

/// Crates that log request or response bodies or signing input below
/// these levels (password hashes, session state, tokens; aws-sigv4 logs the
/// canonical request with its `x-amz-security-token` at TRACE, Dynoxide's
/// server logs bodies at DEBUG), with the most each may log at.
const CAPS: [(&str, Level); 8] = [
    ("aws_smithy_runtime", Level::DEBUG),
    ("aws_smithy_runtime_api", Level::DEBUG),
    ("aws_smithy_http_client", Level::DEBUG),
    ("aws_sdk_dynamodb", Level::DEBUG),
    ("aws_sdk_sts", Level::DEBUG),
    ("aws_sigv4", Level::DEBUG),
    ("aws_config", Level::DEBUG),
    ("dynoxide", Level::INFO),
];

/// Whether `meta` is within its crate's cap. A cap is enforced by this
/// filter on the log layer itself, not by `RUST_LOG` directives: a more
/// specific directive (`aws_smithy_runtime::client::orchestrator=trace`)
/// would win over a cap written as a directive, and no directive can undo
/// this filter.
fn within_caps(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    for (krate, max) in CAPS {
        let inside = target
            .strip_prefix(krate)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
        if inside {
            return *meta.level() <= max;
        }
    }
    true
}

/// The tracing target of the audit trail (`api::audit`): its events go to
/// their own JSON-lines sink, whatever `RUST_LOG` says, and never to the
/// log.
pub const AUDIT_TARGET: &str = "audit";

/// Logging for `serve`, with the audit trail on stderr or appended to
/// `audit_file` (`server.audit_file`), and the exported spans to `traces`.
pub fn init_logging(
    format: LogFormat,
    audit_file: Option<&Path>,
    traces: Option<&traces::Traces>,
) -> Result<(), String> {
    let audit = match audit_file {
        None => BoxMakeWriter::new(std::io::stderr),
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("server.audit_file {}: {e}", path.display()))?;
            BoxMakeWriter::new(Arc::new(file))
        }
    };
    init_logging_at(format, "info,dynoxide=error", Some(audit), traces);
    Ok(())
}

/// Logging for the one-shot commands (`tables`, `whoami`, ...): warnings
/// and errors only unless `RUST_LOG` asks for more, so their output is
/// what they print.
pub fn init_command_logging(format: LogFormat) {
    init_logging_at(format, "warn,dynoxide=error", None, None);
}

/// The target of the span every RPC runs in (`api::glue::rpc`).
pub const RPC_SPAN_TARGET: &str = "curity_dynamodb::rpc";

/// The target of the span every JSON data source request runs in.
pub const JSON_SPAN_TARGET: &str = "curity_dynamodb::json_ds::request";

fn init_logging_at(
    format: LogFormat,
    default: &str,
    audit: Option<BoxMakeWriter>,
    traces: Option<&traces::Traces>,
) {
    let env_filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let mut filter = env_filter();
    if let (Some(_), Ok(all)) = (&audit, format!("{AUDIT_TARGET}=info").parse()) {
        filter = filter.add_directive(all);
    }
    // The log formats a span's fields when it opens and re-formats them on
    // each record (JSON: parse and re-serialise): a third of a cached
    // read's instructions, spent for no line when the call succeeds. The
    // RPC spans reach the log only when `RUST_LOG` asks for debug
    // somewhere; failures are logged with the same fields on the event.
    let rpc_spans = filter
        .max_level_hint()
        .is_some_and(|max| max >= tracing::level_filters::LevelFilter::DEBUG);
    // With traces, the spans they export must exist whatever `RUST_LOG`
    // says: the shared filter lets them through, and the log keeps to
    // `RUST_LOG` by a filter of its own (only then: it costs a check per
    // callsite the shared filter lets through).
    let log_only = traces.map(|_| env_filter());
    if traces.is_some() {
        for directive in traces::SPAN_DIRECTIVES {
            if let Ok(d) = directive.parse() {
                filter = filter.add_directive(d);
            }
        }
    }
    let audit = audit.map(|writer| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(writer)
            .with_filter(filter_fn(|meta| meta.target() == AUDIT_TARGET))
    });
    let registry = tracing_subscriber::registry().with(filter).with(audit);
    // No layer at all rather than `None` when traces are off: a `None`
    // layer answers every callsite `always`, which above per-layer filters
    // turns the shared filter's `never` into `sometimes`, and every
    // disabled debug callsite of every crate is then evaluated per call
    // (a third more instructions per request).
    match traces {
        Some(t) => install(registry.with(t.layer()), format, rpc_spans, log_only),
        None => install(registry, format, rpc_spans, log_only),
    }
}

/// Adds the log layer to `subscriber` and installs it; a second init
/// (tests, embedded callers) keeps the first subscriber.
fn install<S>(subscriber: S, format: LogFormat, rpc_spans: bool, log_only: Option<EnvFilter>)
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    let caps = filter_fn(move |meta| {
        meta.target() != AUDIT_TARGET
            && within_caps(meta)
            && (rpc_spans || !(meta.is_span() && meta.target() == RPC_SPAN_TARGET))
    })
    .and(log_only);
    let _ = match format {
        LogFormat::Plain => subscriber
            .with(
                fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr)
                    .with_filter(caps),
            )
            .try_init(),
        LogFormat::Json => subscriber
            .with(
                fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_filter(caps),
            )
            .try_init(),
    };
}

#[derive(Debug, thiserror::Error)]
#[error("server.metrics_listen {addr}: {reason}")]
pub struct MetricsError {
    addr: SocketAddr,
    reason: String,
}

/// Upper bounds (seconds) of the latency histograms: from a cached read's
/// fraction of a millisecond to the server timeout.
const LATENCY_BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// `curity_dynamodb_ready`: 1 while the replica reports SERVING.
pub const READY: &str = "curity_dynamodb_ready";

enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric the service exports, with its help text (the chart's alerts
/// and dashboard select only these: `tests/it/monitoring.rs`).
const METRICS: [(Kind, &str, &str); 13] = [
    (
        Kind::Histogram,
        "curity_dynamodb_rpc_seconds",
        "gRPC calls of the data services by service, method and outcome, each counted once",
    ),
    (
        Kind::Gauge,
        READY,
        "1 while this replica reports SERVING (DynamoDB reachable), else 0",
    ),
    (
        Kind::Counter,
        "curity_dynamodb_cache_requests_total",
        "reads of the cached types by result (hit, miss, bypass)",
    ),
    (
        Kind::Counter,
        "curity_dynamodb_cache_evictions_total",
        "cache entries evicted by size or age",
    ),
    (
        Kind::Counter,
        "curity_dynamodb_cache_invalidations_total",
        "cache entries dropped because their item changed",
    ),
    (
        Kind::Gauge,
        "curity_dynamodb_cache_stream_lag_seconds",
        "how far the stream reader of a cached table is behind",
    ),
    (
        Kind::Gauge,
        "curity_dynamodb_pool_size",
        "pooled DynamoDB clients",
    ),
    (
        Kind::Gauge,
        "curity_dynamodb_pool_in_use",
        "pooled DynamoDB clients in use",
    ),
    (
        Kind::Gauge,
        "curity_dynamodb_pool_waiting",
        "calls waiting for a pooled DynamoDB client",
    ),
    (
        Kind::Counter,
        "curity_dynamodb_pool_timeouts_total",
        "calls shed because no pooled client came free in time",
    ),
    (
        Kind::Counter,
        "curity_dynamodb_credential_loads_total",
        "AWS credential loads and refreshes",
    ),
    (
        Kind::Counter,
        "curity_dynamodb_credential_failures_total",
        "failed AWS credential loads and refreshes",
    ),
    (
        Kind::Counter,
        "curity_dynamodb_json_ds_requests_total",
        "requests of the JSON data source port by method and status",
    ),
];

/// Series that count trouble, exported at 0 from the start: an alert on
/// them tells "nothing went wrong" from "not scraped".
const FROM_ZERO: [&str; 3] = [
    "curity_dynamodb_pool_timeouts_total",
    "curity_dynamodb_credential_loads_total",
    "curity_dynamodb_credential_failures_total",
];

/// Serves Prometheus metrics on `addr` (must run inside the Tokio runtime).
pub fn init_metrics(addr: SocketAddr) -> Result<(), MetricsError> {
    // Histograms with buckets, not summaries: buckets add up across
    // replicas (`histogram_quantile` over `sum by (le)`), a summary's
    // quantiles do not, and a bucket costs a request one atomic add where
    // a summary sorts samples.
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&LATENCY_BUCKETS)
        .map_err(|e| MetricsError {
            addr,
            reason: e.to_string(),
        })?
        .install()
        .map_err(|e| MetricsError {
            addr,
            reason: e.to_string(),
        })?;
    for (kind, name, help) in METRICS {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, metrics::Unit::Seconds, help),
        }
    }
    for name in FROM_ZERO {
        metrics::counter!(name).increment(0);
    }
    metrics::gauge!(READY).set(0.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::{Layer, layer::Context, prelude::*};

    use super::*;

    /// Records "target LEVEL" of every event the capped layer sees.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let meta = event.metadata();
            let line = format!("{} {}", meta.target(), meta.level());
            self.0.lock().unwrap().push(line);
        }
    }

    /// What reaches the log under `RUST_LOG=filter` when `f` logs.
    fn logged(filter: &str, f: impl FnOnce()) -> Vec<String> {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(filter))
            .with(seen.clone().with_filter(filter_fn(within_caps)));
        tracing::subscriber::with_default(subscriber, f);
        seen.0.lock().unwrap().clone()
    }

    #[test]
    fn trace_is_capped_for_the_body_loggers_and_open_for_ours() {
        let seen = logged("trace", || {
            tracing::trace!(target: "aws_sigv4", "canonical request");
            tracing::debug!(target: "aws_sigv4", "signing");
            tracing::trace!(target: "curity_dynamodb", "ours");
        });
        assert_eq!(seen, ["aws_sigv4 DEBUG", "curity_dynamodb TRACE"]);
    }

    #[test]
    fn a_more_specific_directive_cannot_reopen_a_capped_crate() {
        let directives = CAPS
            .iter()
            .map(|(krate, _)| format!("{krate}::client::orchestrator=trace"))
            .collect::<Vec<_>>()
            .join(",");
        let seen = logged(&format!("info,{directives},dynoxide::server=trace"), || {
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "body");
            tracing::trace!(target: "aws_sdk_dynamodb::client::orchestrator", "body");
            tracing::debug!(target: "dynoxide::server", "body");
            tracing::info!(target: "dynoxide::server", "listening");
        });
        assert_eq!(seen, ["dynoxide::server INFO"]);
    }

    #[test]
    fn the_default_level_leaves_the_sdk_at_info() {
        let seen = logged("info,dynoxide=error", || {
            tracing::debug!(target: "aws_smithy_runtime", "noise");
            tracing::info!(target: "aws_smithy_runtime", "notice");
        });
        assert_eq!(seen, ["aws_smithy_runtime INFO"]);
    }

    #[test]
    fn a_crate_whose_name_only_starts_alike_is_not_capped() {
        let seen = logged("trace", || {
            tracing::trace!(target: "aws_configurator", "not aws_config");
        });
        assert_eq!(seen, ["aws_configurator TRACE"]);
    }
}
