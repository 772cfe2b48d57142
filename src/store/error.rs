//! What can go wrong below the API layer, in terms Curity must be able to
//! tell apart (see `api::status` for how each surfaces over gRPC).

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },

    #[error("{what} already exists ({field} is taken)")]
    AlreadyExists {
        what: &'static str,
        field: &'static str,
    },

    #[error("{what} not found")]
    NotFound { what: &'static str },

    #[error("{what} was changed concurrently; gave up after {attempts} attempts")]
    VersionConflict { what: &'static str, attempts: usize },

    /// The layout cannot serve the request: a filter needing a scan while
    /// `dynamodb.allow_table_scans` is off, or an ordering no index has.
    #[error("{0}")]
    NotSupportedByLayout(String),

    #[error(
        "access denied: the AWS identity may not call {action} on table/{table}; \
         grant it in the IAM policy ({message})"
    )]
    AccessDenied {
        action: String,
        table: String,
        message: String,
    },

    #[error("table {table} does not exist (run `curity-dynamodb tables create`)")]
    TableMissing { table: String },

    #[error("DynamoDB throttled {action} on {table}: {message}")]
    Throttled {
        action: String,
        table: String,
        message: String,
    },

    #[error("DynamoDB unavailable ({action} on {table}): {message}")]
    Unavailable {
        action: String,
        table: String,
        message: String,
    },

    #[error("no DynamoDB client free after {waited:?} (pool.max_size reached)")]
    PoolExhausted { waited: Duration },

    #[error("AWS credentials ({method}): {message}")]
    Credentials {
        method: &'static str,
        message: String,
    },

    #[error("item in {table} does not have the expected layout: {reason}")]
    MalformedItem { table: String, reason: String },

    #[error("DynamoDB {action} on {table} failed: {code}: {message}")]
    Aws {
        action: String,
        table: String,
        code: String,
        message: String,
    },
}

impl StoreError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// Whether the same request may succeed later without any change.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. } | Self::Unavailable { .. } | Self::PoolExhausted { .. }
        )
    }
}
