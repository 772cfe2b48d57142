//! Turns an AWS SDK failure into a `StoreError` that says what happened:
//! denied (which action, which table), throttled, unreachable, bad
//! credentials, or a plain service error with its code.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::error::StoreError;

/// The call that failed: the DynamoDB action (`dynamodb:PutItem`) and table.
#[derive(Debug, Clone, Copy)]
pub struct CallSite<'a> {
    pub action: &'static str,
    pub table: &'a str,
    pub method: &'static str,
}

pub fn classify<E, R>(err: &SdkError<E, R>, at: CallSite<'_>) -> StoreError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    if let Some(cred) = find_in_chain::<CredentialsError>(err) {
        return StoreError::Credentials {
            method: at.method,
            message: DisplayErrorContext(cred).to_string(),
        };
    }
    let action = || at.action.to_string();
    let table = || at.table.to_string();
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let code = e.code().unwrap_or("Unknown");
            let message = e.message().unwrap_or_default().to_string();
            classify_code(code, message, at)
        }
        SdkError::TimeoutError(_) => StoreError::Unavailable {
            action: action(),
            table: table(),
            message: "timed out (aws.api_call_timeout_seconds)".into(),
        },
        // Everything but a request the client itself could not build (a
        // bad endpoint URL) is the network's doing: a refused or reset
        // connection, one closed before the reply, a timeout.
        SdkError::DispatchFailure(d) if !d.is_user() => StoreError::Unavailable {
            action: action(),
            table: table(),
            message: format!(
                "cannot reach the endpoint (check aws.endpoint_url and aws.region): {}",
                root_cause(err)
            ),
        },
        SdkError::ResponseError(_) => StoreError::Unavailable {
            action: action(),
            table: table(),
            message: DisplayErrorContext(err).to_string(),
        },
        _ => StoreError::Aws {
            action: action(),
            table: table(),
            code: "ClientError".into(),
            message: DisplayErrorContext(err).to_string(),
        },
    }
}

/// Store-call helpers on every SDK result: `.classify(at)` turns a failure
/// into a `StoreError`; `.conditional(at)` also turns a refused condition
/// expression into `Ok(None)` (callers decide what a refusal means: a
/// conflict, `false`, nothing to do).
pub trait SdkResultExt<T> {
    fn classify(self, at: CallSite<'_>) -> Result<T, StoreError>;
    fn conditional(self, at: CallSite<'_>) -> Result<Option<T>, StoreError>;
}

impl<T, E, R> SdkResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    fn classify(self, at: CallSite<'_>) -> Result<T, StoreError> {
        self.map_err(|e| classify(&e, at))
    }

    fn conditional(self, at: CallSite<'_>) -> Result<Option<T>, StoreError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(classify(&e, at)),
        }
    }
}

/// A single-item write refused by its condition expression (callers turn
/// it into their own outcome: conflict, `false`, nothing to do).
pub fn condition_failed<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    err.as_service_error()
        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException"))
}

/// Classification by AWS error code, shared by every operation.
pub fn classify_code(code: &str, message: String, at: CallSite<'_>) -> StoreError {
    let action = at.action.to_string();
    let table = at.table.to_string();
    match code {
        "AccessDeniedException" | "AccessDenied" => StoreError::AccessDenied {
            action,
            table,
            message,
        },
        "ResourceNotFoundException" => StoreError::TableMissing { table },
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "LimitExceededException" => StoreError::Throttled {
            action,
            table,
            message,
        },
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "MissingAuthenticationToken"
        | "IncompleteSignature" => StoreError::Credentials {
            method: at.method,
            message: format!("{code}: {message}"),
        },
        "InternalServerError" | "ServiceUnavailable" | "InternalFailure" => {
            StoreError::Unavailable {
                action,
                table,
                message: format!("{code}: {message}"),
            }
        }
        _ => StoreError::Aws {
            action,
            table,
            code: code.to_string(),
            message,
        },
    }
}

/// Whether the error is a network failure on the way to an AWS endpoint
/// (refused, reset, unresolvable, timed out), not an answer from AWS.
pub fn is_unreachable(err: &(dyn StdError + 'static)) -> bool {
    use aws_smithy_runtime_api::client::result::ConnectorError;
    if find_in_chain::<ConnectorError>(err).is_some() {
        return true;
    }
    matches!(
        find_in_chain::<CredentialsError>(err),
        Some(CredentialsError::ProviderTimedOut(_))
    )
}

/// The innermost error's own message ("Connection refused (os error 111)").
pub fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn find_in_chain<'e, T: StdError + 'static>(err: &'e (dyn StdError + 'static)) -> Option<&'e T> {
    let mut cur: Option<&'e (dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: CallSite<'static> = CallSite {
        action: "dynamodb:PutItem",
        table: "other-table",
        method: "web_identity",
    };

    #[test]
    fn access_denied_names_action_and_table() {
        let e = classify_code(
            "AccessDeniedException",
            "User: x is not authorized".into(),
            AT,
        );
        let msg = e.to_string();
        assert!(matches!(e, StoreError::AccessDenied { .. }));
        assert!(msg.contains("dynamodb:PutItem"), "{msg}");
        assert!(msg.contains("table/other-table"), "{msg}");
    }

    #[test]
    fn throttling_is_retryable_and_validation_is_not() {
        assert!(classify_code("ThrottlingException", String::new(), AT).is_retryable());
        assert!(!classify_code("ValidationException", String::new(), AT).is_retryable());
    }

    #[test]
    fn expired_token_is_a_credentials_error() {
        let e = classify_code("ExpiredTokenException", "expired".into(), AT);
        assert!(matches!(
            e,
            StoreError::Credentials {
                method: "web_identity",
                ..
            }
        ));
    }
}
