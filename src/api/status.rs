//! The one place where a `StoreError` becomes a gRPC status. Each variant
//! gets its code and an `ErrorDetail` in the status details, so Curity can
//! tell the failures apart without reading messages.

use prost::Message;
use tonic::{Code, Status};

use crate::{
    proto::{ErrorDetail, error_detail::Reason},
    store::StoreError,
};

pub fn to_status(err: &StoreError) -> Status {
    let (code, reason, field, table) = match err {
        StoreError::InvalidArgument { field, .. } => {
            (Code::InvalidArgument, Reason::InvalidArgument, *field, "")
        }
        StoreError::AlreadyExists { field, .. } => {
            (Code::AlreadyExists, Reason::AlreadyExists, *field, "")
        }
        StoreError::NotFound { .. } => (Code::NotFound, Reason::NotFound, "", ""),
        StoreError::VersionConflict { .. } => (Code::Aborted, Reason::VersionConflict, "", ""),
        StoreError::NotSupportedByLayout(_) => (
            Code::FailedPrecondition,
            Reason::NotSupportedByLayout,
            "filter",
            "",
        ),
        StoreError::AccessDenied { action, table, .. } => (
            Code::PermissionDenied,
            Reason::AccessDenied,
            action.as_str(),
            table.as_str(),
        ),
        StoreError::TableMissing { table } => (
            Code::FailedPrecondition,
            Reason::TableMissing,
            "",
            table.as_str(),
        ),
        StoreError::Throttled { table, .. } | StoreError::Unavailable { table, .. } => {
            (Code::Unavailable, Reason::Unavailable, "", table.as_str())
        }
        StoreError::PoolExhausted { .. } => (Code::Unavailable, Reason::Unavailable, "", ""),
        StoreError::Credentials { .. } => (Code::Unauthenticated, Reason::Credentials, "", ""),
        StoreError::MalformedItem { table, .. } => {
            (Code::DataLoss, Reason::MalformedItem, "", table.as_str())
        }
        StoreError::Aws { table, .. } => (Code::Internal, Reason::Unspecified, "", table.as_str()),
    };
    let detail = ErrorDetail {
        reason: reason as i32,
        field: field.to_string(),
        table: table.to_string(),
        retryable: err.is_retryable(),
    };
    Status::with_details(code, err.to_string(), detail.encode_to_vec().into())
}

/// Reads the `ErrorDetail` back out of a status (for clients and tests).
pub fn detail(status: &Status) -> Option<ErrorDetail> {
    ErrorDetail::decode(status.details()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_field() {
        let s = to_status(&StoreError::invalid("session.id", "must not be empty"));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().contains("session.id"));
        let d = detail(&s).unwrap();
        assert_eq!(d.field, "session.id");
        assert!(!d.retryable);
    }

    #[test]
    fn access_denied_is_permission_denied_not_internal() {
        let s = to_status(&StoreError::AccessDenied {
            action: "dynamodb:PutItem".into(),
            table: "other".into(),
            message: "no".into(),
        });
        assert_eq!(s.code(), Code::PermissionDenied);
        let d = detail(&s).unwrap();
        assert_eq!(d.reason(), Reason::AccessDenied);
        assert_eq!(d.field, "dynamodb:PutItem");
        assert_eq!(d.table, "other");
    }

    #[test]
    fn pool_exhaustion_is_retryable_unavailable() {
        let s = to_status(&StoreError::PoolExhausted {
            waited: std::time::Duration::from_millis(5),
        });
        assert_eq!(s.code(), Code::Unavailable);
        assert!(detail(&s).unwrap().retryable);
    }
}
