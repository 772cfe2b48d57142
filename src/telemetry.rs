//! Logs (plain or JSON, level from `RUST_LOG`, default `info`) on stderr,
//! and the optional Prometheus endpoint.

use std::{io::IsTerminal, net::SocketAddr};

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

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

pub fn init_logging(format: LogFormat) {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,dynoxide=error"));
    for cap in BODY_LOGGERS {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
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
