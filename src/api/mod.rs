//! One tonic service per data type: decode, validate, call the store,
//! encode. Knows protobuf, nothing about DynamoDB.

pub mod accounts;
pub mod buckets;
pub mod convert;
pub mod credentials;
pub mod links;
pub mod sessions;
pub mod status;
pub mod tokens;

use std::{future::Future, time::Instant};

use tonic::{Response, Status};
use tracing::{Instrument, field::Empty};

use crate::store::StoreError;

/// Runs one RPC inside a span carrying method, table, tenant, outcome and
/// latency. Request payloads are never recorded: they hold tokens, session
/// state and password hashes.
pub(crate) async fn rpc<T, F>(
    method: &'static str,
    table: &str,
    tenant: Option<&str>,
    work: F,
) -> Result<Response<T>, Status>
where
    F: Future<Output = Result<T, StoreError>>,
{
    let span = tracing::info_span!(
        "rpc",
        method,
        table,
        tenant = tenant.unwrap_or(""),
        outcome = Empty,
        latency_us = Empty
    );
    let started = Instant::now();
    let result = work.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => outcome_of(e),
    };
    span.record("outcome", outcome);
    span.record("latency_us", elapsed.as_micros() as u64);
    metrics::histogram!("curity_dynamodb_rpc_seconds", "method" => method, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
    let _entered = span.enter();
    match result {
        Ok(v) => {
            tracing::debug!("rpc done");
            Ok(Response::new(v))
        }
        Err(e) => {
            if is_server_side(&e) {
                tracing::warn!(error = %e, "rpc failed");
            } else {
                tracing::debug!(error = %e, "rpc rejected");
            }
            Err(status::to_status(&e))
        }
    }
}

fn outcome_of(e: &StoreError) -> &'static str {
    match e {
        StoreError::InvalidArgument { .. } => "invalid_argument",
        StoreError::AlreadyExists { .. } => "already_exists",
        StoreError::NotFound { .. } => "not_found",
        StoreError::VersionConflict { .. } => "version_conflict",
        StoreError::NotSupportedByLayout(_) => "not_supported_by_layout",
        StoreError::AccessDenied { .. } => "access_denied",
        StoreError::TableMissing { .. } => "table_missing",
        StoreError::Throttled { .. } => "throttled",
        StoreError::Unavailable { .. } | StoreError::PoolExhausted { .. } => "unavailable",
        StoreError::Credentials { .. } => "credentials",
        StoreError::MalformedItem { .. } => "malformed_item",
        StoreError::Aws { .. } => "aws_error",
    }
}

/// Failures an operator must hear about (as opposed to the caller's own).
fn is_server_side(e: &StoreError) -> bool {
    !matches!(
        e,
        StoreError::InvalidArgument { .. }
            | StoreError::AlreadyExists { .. }
            | StoreError::NotFound { .. }
            | StoreError::VersionConflict { .. }
            | StoreError::NotSupportedByLayout(_)
    )
}
