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
    fn aws_words_stay_out_of_status_messages() {
        let aws = "User: arn:aws:iam::123456789012:assumed-role/node/i-0abc is not authorized";
        for err in [
            StoreError::AccessDenied {
                action: "dynamodb:GetItem".into(),
                table: "curity-sessions".into(),
                message: aws.into(),
            },
            StoreError::Credentials {
                method: "web_identity",
                message: aws.into(),
            },
            StoreError::Aws {
                action: "dynamodb:GetItem".into(),
                table: "curity-sessions".into(),
                code: "ValidationException".into(),
                message: aws.into(),
            },
            StoreError::Unavailable {
                action: "dynamodb:GetItem".into(),
                table: "curity-sessions".into(),
                message: "connect to 10.1.2.3:443 refused".into(),
            },
        ] {
            let s = to_status(&err);
            for secret in ["arn:aws", "123456789012", "10.1.2.3"] {
                assert!(!s.message().contains(secret), "{}", s.message());
            }
            assert!(
                err.full().contains(err.cause().unwrap()),
                "the log keeps the cause"
            );
        }
    }

    #[test]
    fn aws_credential_trouble_is_retryable_unavailable_not_unauthenticated() {
        let s = to_status(&StoreError::Credentials {
            method: "web_identity",
            message: "expired".into(),
        });
        assert_eq!(s.code(), Code::Unavailable);
        let d = detail(&s).unwrap();
        assert_eq!(d.reason(), Reason::Credentials);
        assert!(d.retryable);
    }

    #[test]
    fn pool_exhaustion_is_load_shedding_not_an_outage() {
        let s = to_status(&StoreError::PoolExhausted {
            waited: std::time::Duration::from_millis(5),
        });
        assert_eq!(s.code(), Code::ResourceExhausted);
        let d = detail(&s).unwrap();
        assert!(d.retryable);
        assert_eq!(d.reason(), Reason::Overloaded);
    }
}
