//! The one home of errors: what can go wrong below the API layer, in terms
//! Curity must be able to tell apart, and, in [`StoreError::class`], the
//! single table deciding how each surfaces: gRPC code, `ErrorDetail`
//! reason, retryable, the outcome label of metrics and spans, and the exit
//! code of the command line.

use std::time::Duration;

use tonic::Code;

use crate::proto::error_detail::Reason;

#[derive(Debug, Clone, thiserror::Error)]
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

    /// A write conditioned on the version the caller read found another
    /// version: someone else wrote in between, nothing was written.
    #[error("{what} changed since version {expected} was read; read it again")]
    VersionMoved { what: &'static str, expected: i64 },

    /// The layout cannot serve the request: a filter needing a scan while
    /// `dynamodb.allow_table_scans` is off, or an ordering no index has.
    #[error("{0}")]
    NotSupportedByLayout(String),

    #[error(
        "access denied: the AWS identity may not call {action} on table/{table}; \
         grant it in the IAM policy"
    )]
    AccessDenied {
        action: String,
        table: String,
        message: String,
    },

    #[error("table {table} does not exist (run `curity-dynamodb tables create`)")]
    TableMissing { table: String },

    #[error("DynamoDB throttled {action} on {table}")]
    Throttled {
        action: String,
        table: String,
        message: String,
    },

    #[error("{} unavailable ({action}{})", service_of(.action), on_table(.table))]
    Unavailable {
        action: String,
        table: String,
        message: String,
    },

    #[error("too many requests in flight (server.max_concurrent_requests = {limit}); retry later")]
    Overloaded { limit: usize },

    #[error("no DynamoDB client free after {waited:?} (pool.max_size reached); retry later")]
    PoolExhausted { waited: Duration },

    #[error(
        "AWS credentials ({method}) could not be obtained; the server log has the cause \
         and `curity-dynamodb doctor` explains it"
    )]
    Credentials {
        method: &'static str,
        message: String,
    },

    #[error("item in {table} does not have the expected layout: {reason}")]
    MalformedItem { table: String, reason: String },

    /// A fault of ours, with no DynamoDB call behind it: a request the SDK's
    /// builder refused, a value that would not encode as an item.
    #[error("internal error: {what}{}", on_table(.table))]
    Internal {
        what: &'static str,
        table: String,
        message: String,
    },

    #[error("DynamoDB {action} on {table} failed: {code}")]
    Aws {
        action: String,
        table: String,
        code: String,
        message: String,
    },
}

/// A request builder refused its input (a required field missing): a bug
/// in how we build requests, reported rather than panicking.
impl From<aws_sdk_dynamodb::error::BuildError> for StoreError {
    fn from(e: aws_sdk_dynamodb::error::BuildError) -> Self {
        Self::Internal {
            what: "building a request",
            table: String::new(),
            message: e.to_string(),
        }
    }
}

impl StoreError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// This error as the caller's mistake when DynamoDB refused a request
    /// (`ValidationException`) whose expressions the caller's `field`
    /// shaped; DynamoDB's own words go to the server log only.
    pub fn refused_input(self, field: &'static str) -> Self {
        match self {
            Self::Aws {
                code,
                message,
                action,
                table,
            } if code == "ValidationException" => {
                tracing::debug!(%action, %table, cause = %message, field, "DynamoDB refused an expression built from the request");
                Self::invalid(
                    field,
                    "DynamoDB cannot evaluate it: a value longer than a key allows, or an expression past DynamoDB's limits",
                )
            }
            other => other,
        }
    }

    /// What AWS said (its message may name principals, account ids and
    /// endpoints): for the server log and the command line, never for a
    /// gRPC caller, who gets the `Display` text and the `ErrorDetail`.
    pub fn cause(&self) -> Option<&str> {
        match self {
            Self::AccessDenied { message, .. }
            | Self::Throttled { message, .. }
            | Self::Unavailable { message, .. }
            | Self::Credentials { message, .. }
            | Self::Internal { message, .. }
            | Self::Aws { message, .. } => {
                Some(message).filter(|m| !m.is_empty()).map(|m| m.as_str())
            }
            _ => None,
        }
    }

    /// The message with its cause, for the operator's eyes.
    pub fn full(&self) -> String {
        match self.cause() {
            Some(cause) => format!("{self}: {cause}"),
            None => self.to_string(),
        }
    }

    /// Whether the same request may succeed later without any change.
    pub fn is_retryable(&self) -> bool {
        self.class().retryable
    }

    /// How every surface treats the error: its row of the table, and what
    /// it names.
    pub fn class(&self) -> Class<'_> {
        let (code, reason, retryable, outcome, exit_code, caller_fault) = self.row();
        let (field, table) = self.subject();
        Class {
            code,
            reason,
            retryable,
            outcome,
            exit_code,
            caller_fault,
            field,
            table,
        }
    }

    /// The error table, one row per variant, across: the gRPC code, the
    /// reason, retryable, the outcome label, the exit code, and whether it
    /// is the caller's own doing (logged at debug) rather than something an
    /// operator must hear about (warn). Laid out as a table, by hand.
    #[rustfmt::skip]
    fn row(&self) -> (Code, Reason, bool, &'static str, u8, bool) {
        use Code as C;
        use Reason as R;
        match self {
            Self::InvalidArgument { .. } => (C::InvalidArgument, R::InvalidArgument, false, "invalid_argument", 1, true),
            Self::AlreadyExists { .. } => (C::AlreadyExists, R::AlreadyExists, false, "already_exists", 1, true),
            Self::NotFound { .. } => (C::NotFound, R::NotFound, false, "not_found", 1, true),
            Self::VersionConflict { .. } | Self::VersionMoved { .. } =>
                (C::Aborted, R::VersionConflict, false, "version_conflict", 1, true),
            Self::NotSupportedByLayout(_) =>
                (C::FailedPrecondition, R::NotSupportedByLayout, false, "not_supported_by_layout", 1, true),
            Self::AccessDenied { .. } => (C::PermissionDenied, R::AccessDenied, false, "access_denied", 1, false),
            Self::TableMissing { .. } => (C::FailedPrecondition, R::TableMissing, false, "table_missing", 1, false),
            Self::Throttled { .. } => (C::Unavailable, R::Unavailable, true, "throttled", 1, false),
            Self::Unavailable { .. } => (C::Unavailable, R::Unavailable, true, "unavailable", 2, false),
            // Logged at debug like a caller's error: a warning per shed call
            // would add to the load it sheds. An exhausted pool is load
            // shedding too, not an outage: more requests were admitted than
            // the pool serves within its wait, and UNAVAILABLE would tell the
            // caller DynamoDB is down.
            Self::Overloaded { .. } | Self::PoolExhausted { .. } =>
                (C::ResourceExhausted, R::Overloaded, true, "overloaded", 1, true),
            // Not UNAUTHENTICATED: a client would read that as its own
            // authentication failing. Retryable: STS or the token file may
            // recover (a lasting misconfiguration keeps readiness down).
            Self::Credentials { .. } => (C::Unavailable, R::Credentials, true, "credentials", 2, false),
            Self::MalformedItem { .. } => (C::DataLoss, R::MalformedItem, false, "malformed_item", 1, false),
            Self::Internal { .. } => (C::Internal, R::Unspecified, false, "internal", 1, false),
            Self::Aws { .. } => (C::Internal, R::Unspecified, false, "aws_error", 1, false),
        }
    }

    /// What `ErrorDetail` names: the request field (or the denied IAM
    /// action), and the table.
    fn subject(&self) -> (&str, &str) {
        match self {
            Self::InvalidArgument { field, .. } | Self::AlreadyExists { field, .. } => (field, ""),
            Self::NotSupportedByLayout(_) => ("filter", ""),
            Self::AccessDenied { action, table, .. } => (action, table),
            Self::TableMissing { table }
            | Self::Throttled { table, .. }
            | Self::Unavailable { table, .. }
            | Self::MalformedItem { table, .. }
            | Self::Internal { table, .. }
            | Self::Aws { table, .. } => ("", table),
            Self::NotFound { .. }
            | Self::VersionConflict { .. }
            | Self::VersionMoved { .. }
            | Self::Overloaded { .. }
            | Self::PoolExhausted { .. }
            | Self::Credentials { .. } => ("", ""),
        }
    }
}

/// How one error surfaces everywhere it can (see [`StoreError::class`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class<'e> {
    pub code: Code,
    pub reason: Reason,
    /// The same request may succeed later without any change.
    pub retryable: bool,
    /// The `outcome` label of the RPC span and metric.
    pub outcome: &'static str,
    /// The command line's exit code: 2 means "fix the configuration or
    /// environment", 1 any other failure.
    pub exit_code: u8,
    /// The caller's own doing (logged at debug), as opposed to a failure an
    /// operator must hear about (logged at warn).
    pub caller_fault: bool,
    /// `ErrorDetail.field`: the request field, or the denied IAM action.
    pub field: &'e str,
    /// `ErrorDetail.table`.
    pub table: &'e str,
}

impl Class<'_> {
    /// The status an HTTP surface (the JSON data source port) answers: 503
    /// for what may succeed later (the port adds `Retry-After`), the
    /// caller's own mistakes by kind, 500 for the rest: the operator's to
    /// fix, and the caller learns nothing more.
    pub fn http_status(&self) -> u16 {
        if self.retryable {
            return 503;
        }
        if !self.caller_fault {
            return 500;
        }
        match self.code {
            Code::InvalidArgument | Code::FailedPrecondition => 400,
            Code::NotFound => 404,
            Code::AlreadyExists | Code::Aborted => 409,
            _ => 500,
        }
    }

    /// The `error` code of an HTTP surface's JSON body, by `http_status`.
    pub fn http_error(&self) -> &'static str {
        match self.http_status() {
            400 => "invalid_request",
            404 => "not_found",
            409 => "conflict",
            503 => "unavailable",
            _ => "server_error",
        }
    }
}

/// The AWS service an action belongs to, as the error names it.
fn service_of(action: &str) -> &'static str {
    match action.split(':').next() {
        Some("sts") => "STS",
        _ => "DynamoDB",
    }
}

fn on_table(table: &str) -> String {
    if table.is_empty() {
        String::new()
    } else {
        format!(" on {table}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_surface_answers_503_for_what_may_pass_and_hides_the_operators_failures() {
        let s = String::new;
        for (e, status, code) in [
            (
                StoreError::InvalidArgument {
                    field: "username",
                    reason: s(),
                },
                400,
                "invalid_request",
            ),
            (
                StoreError::NotSupportedByLayout(s()),
                400,
                "invalid_request",
            ),
            (StoreError::NotFound { what: "account" }, 404, "not_found"),
            (
                StoreError::AlreadyExists {
                    what: "account",
                    field: "user_name",
                },
                409,
                "conflict",
            ),
            (
                StoreError::VersionMoved {
                    what: "account",
                    expected: 1,
                },
                409,
                "conflict",
            ),
            (
                StoreError::Throttled {
                    action: s(),
                    table: s(),
                    message: s(),
                },
                503,
                "unavailable",
            ),
            (
                StoreError::Unavailable {
                    action: s(),
                    table: s(),
                    message: s(),
                },
                503,
                "unavailable",
            ),
            (StoreError::Overloaded { limit: 1 }, 503, "unavailable"),
            (
                StoreError::PoolExhausted {
                    waited: Duration::ZERO,
                },
                503,
                "unavailable",
            ),
            (
                StoreError::Credentials {
                    method: "web_identity",
                    message: s(),
                },
                503,
                "unavailable",
            ),
            (
                StoreError::AccessDenied {
                    action: s(),
                    table: s(),
                    message: s(),
                },
                500,
                "server_error",
            ),
            (StoreError::TableMissing { table: s() }, 500, "server_error"),
        ] {
            let class = e.class();
            assert_eq!(class.http_status(), status, "{e:?}");
            assert_eq!(class.http_error(), code, "{e:?}");
            assert_eq!(class.retryable, status == 503, "{e:?}");
        }
    }
}
