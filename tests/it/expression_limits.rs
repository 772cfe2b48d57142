//! Filters that are valid SCIM but would make DynamoDB refuse the request:
//! checked against DynamoDB's expression limits before sending, and
//! refused as INVALID_ARGUMENT naming the filter, never INTERNAL; what
//! DynamoDB still refuses (a key value too long) is the caller's
//! INVALID_ARGUMENT too. On both servers.

use crate::support;

use curity_dynamodb::{
    api::status::detail,
    proto::{
        CountAccountsRequest, ListAccountsRequest, ListDelegationsRequest,
        account_service_client::AccountServiceClient,
        delegation_service_client::DelegationServiceClient,
    },
};
use support::app::{Backend, TestApp};
use tonic::{Code, Status};

async fn app(backend: Backend) -> TestApp {
    TestApp::start_backend(backend, |c| c.dynamodb.allow_table_scans = true).await
}

/// `attr ne "v0" and attr ne "v1" ...`: a scan filter of `n` comparisons.
fn chain(attr: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{attr} ne \"v{i}\""))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// OK, or INVALID_ARGUMENT naming the filter in the service's own words.
fn refused(result: Result<(), Status>) -> Option<String> {
    match result {
        Ok(()) => None,
        Err(s) => {
            assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
            assert_eq!(detail(&s).expect("detail").field, "filter", "{s:?}");
            assert!(!s.message().contains("ValidationException"), "{s:?}");
            Some(s.message().to_string())
        }
    }
}

/// The largest `n` whose filter is served, and the refusal of `n + 1`,
/// looked for around `guess` (each step must be served or refused, and
/// once refused stay refused).
async fn boundary<F, Fut>(guess: usize, mut call: F) -> (usize, String)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), Status>>,
{
    let mut last_ok = None;
    for n in guess - 10..guess + 10 {
        match refused(call(n).await) {
            None => {
                assert!(
                    last_ok.is_none_or(|l| l == n - 1),
                    "served {n} after refusing"
                );
                last_ok = Some(n);
            }
            Some(message) => {
                let ok = last_ok.expect("refused below the guessed boundary");
                assert_eq!(ok, n - 1);
                return (ok, message);
            }
        }
    }
    panic!("nothing refused up to {}", guess + 10)
}

#[tokio::test]
async fn account_filters_at_the_operator_limit_are_served_and_one_past_is_invalid_argument() {
    for backend in Backend::ALL {
        let mut app = app(backend).await;
        let c = AccountServiceClient::new(app.channel.clone());
        let list = |n: usize| {
            let mut c = c.clone();
            async move {
                c.list(ListAccountsRequest {
                    filter: chain("userName", n),
                    ..Default::default()
                })
                .await
                .map(|_| ())
            }
        };
        let (served, message) = boundary(150, list).await;
        assert!(message.contains("operators"), "{backend:?}: {message}");
        let count = |n: usize| {
            let mut c = c.clone();
            async move {
                c.count(CountAccountsRequest {
                    filter: chain("userName", n),
                    ..Default::default()
                })
                .await
                .map(|_| ())
            }
        };
        assert_eq!(boundary(150, count).await.0, served, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn delegation_filters_past_the_operator_limit_are_invalid_argument() {
    for backend in Backend::ALL {
        let mut app = app(backend).await;
        let c = DelegationServiceClient::new(app.channel.clone());
        let list = |n: usize| {
            let mut c = c.clone();
            async move {
                c.list(ListDelegationsRequest {
                    filter: chain("scope", n),
                    ..Default::default()
                })
                .await
                .map(|_| ())
            }
        };
        let (_, message) = boundary(150, list).await;
        assert!(message.contains("operators"), "{backend:?}: {message}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_key_value_longer_than_dynamodb_allows_is_the_callers_invalid_argument() {
    for backend in Backend::ALL {
        let mut app = app(backend).await;
        let mut c = AccountServiceClient::new(app.channel.clone());
        let long = "x".repeat(3000);
        let result = c
            .list(ListAccountsRequest {
                filter: format!("emails eq \"{long}@example.com\""),
                ..Default::default()
            })
            .await
            .map(|_| ());
        // Served (empty) where the server does not enforce DynamoDB's 2048-byte
        // partition keys; where it does, the caller's INVALID_ARGUMENT.
        refused(result);
        app.shutdown().await;
    }
}
