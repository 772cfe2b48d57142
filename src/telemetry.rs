//! Logs (plain or JSON, level from `RUST_LOG`, default `info`) on stderr,
//! and the optional Prometheus endpoint.

use std::{io::IsTerminal, net::SocketAddr};

use tracing_subscriber::{EnvFilter, filter::LevelFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Targets that log request or response bodies or signing input at TRACE
/// (password hashes, session state, tokens; aws-sigv4 1.3 logs the
/// canonical request with its `x-amz-security-token`): capped below TRACE
/// whatever `RUST_LOG` says, so no level setting can put a secret in the
/// log.
const BODY_LOGGERS: [&str; 8] = [
    "aws_smithy_runtime=debug",
    "aws_smithy_runtime_api=debug",
    "aws_smithy_http_client=debug",
    "aws_sdk_dynamodb=debug",
    "aws_sdk_sts=debug",
    "aws_sigv4=debug",
    "aws_config=debug",
    "dynoxide=info",
];

/// `filter` with the body loggers capped below TRACE. A cap is a
/// directive (`target=debug`), which would also raise a quieter target to
/// DEBUG: it is only added when some target may log at TRACE at all.
fn capped(mut filter: EnvFilter) -> EnvFilter {
    if filter.max_level_hint() != Some(LevelFilter::TRACE) && filter.max_level_hint().is_some() {
        return filter;
    }
    for cap in BODY_LOGGERS {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

pub fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,dynoxide=error"));
    let filter = capped(filter);
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests, embedded callers) keeps the first subscriber.
    let _ = match format {
        LogFormat::Plain => registry
            .with(
                fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init(),
    };
}

#[derive(Debug, thiserror::Error)]
#[error("server.metrics_listen {addr}: {reason}")]
pub struct MetricsError {
    addr: SocketAddr,
    reason: String,
}

/// Serves Prometheus metrics on `addr` (must run inside the Tokio runtime).
pub fn init_metrics(addr: SocketAddr) -> Result<(), MetricsError> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| MetricsError {
            addr,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::prelude::*;

    use super::*;

    /// Which (target, level) pairs `filter` (capped) lets through.
    fn check(filter: &str, f: impl FnOnce()) {
        let subscriber = tracing_subscriber::registry().with(capped(EnvFilter::new(filter)));
        tracing::subscriber::with_default(subscriber, f);
    }

    #[test]
    fn the_default_level_keeps_the_sdk_at_info_and_trace_is_capped() {
        check("info", || {
            assert!(!tracing::enabled!(target: "aws_smithy_runtime", Level::DEBUG));
            assert!(tracing::enabled!(target: "aws_smithy_runtime", Level::INFO));
        });
        check("trace", || {
            assert!(
                !tracing::enabled!(target: "aws_sigv4", Level::TRACE),
                "capped"
            );
            assert!(tracing::enabled!(target: "aws_sigv4", Level::DEBUG));
            assert!(tracing::enabled!(target: "curity_dynamodb", Level::TRACE));
        });
    }
}
