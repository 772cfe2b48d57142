//! A `StoreError` as a gRPC status: the code and `ErrorDetail` of its row
//! in `crate::error`, so Curity can tell failures apart without reading
//! messages.

use prost::Message;
use tonic::Status;

use crate::{proto::ErrorDetail, store::StoreError};

pub fn to_status(err: &StoreError) -> Status {
    let class = err.class();
    let detail = ErrorDetail {
        reason: class.reason as i32,
        field: class.field.to_string(),
        table: class.table.to_string(),
        retryable: class.retryable,
    };
    Status::with_details(class.code, err.to_string(), detail.encode_to_vec().into())
}

/// Reads the `ErrorDetail` back out of a status (for clients and tests).
pub fn detail(status: &Status) -> Option<ErrorDetail> {
    ErrorDetail::decode(status.details()).ok()
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;
    use crate::proto::error_detail::Reason;

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
