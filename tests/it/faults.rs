//! Faults between the service and DynamoDB, injected by a proxy on the
//! wire: a refused connection, a reply later than the attempt timeout, a
//! response cut half way, a 500, throttling. Calls fail fast with a
//! retryable `UNAVAILABLE`, the process stays alive, readiness follows and
//! comes back without a restart, and the table as stored never shows half
//! a multi-item write or the doubled effect of a retried one.

use crate::support;

use std::time::{Duration, Instant};

use curity_dynamodb::{
    api::status::detail,
    proto::{
        CreateAccountRequest, CreateTokenRequest, DeleteLinkRequest, GetSessionRequest,
        LinkRequest, NewAccount, account_service_client::AccountServiceClient,
        link_service_client::LinkServiceClient, session_service_client::SessionServiceClient,
        token_service_client::TokenServiceClient,
    },
};
use support::{
    app::{Backend, RawItem, TestApp},
    fixtures::token,
    proxy::{Fault, FaultProxy},
};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The service behind a fault proxy, and a raw client that bypasses it.
struct Faulty {
    app: TestApp,
    proxy: FaultProxy,
    direct: aws_sdk_dynamodb::Client,
}

impl Faulty {
    async fn start(backend: Backend) -> Faulty {
        let mut proxy = None;
        let mut upstream = None;
        let app = TestApp::start_backend(backend, |c| {
            let endpoint = c.aws.endpoint_url.clone().expect("endpoint");
            let p = FaultProxy::start(&endpoint);
            c.aws.endpoint_url = Some(p.endpoint.clone());
            // Short, so every fault ends well inside a test's patience.
            c.aws.api_call_attempt_timeout_seconds = Some(0.5);
            c.aws.api_call_timeout_seconds = Some(3.0);
            c.server.readiness_interval_seconds = 1;
            c.server.readiness_failure_threshold = 2;
            c.server.readiness_success_threshold = 1;
            c.json_ds.listen = Some("127.0.0.1:0".parse().expect("addr"));
            proxy = Some(p);
            upstream = Some(endpoint);
        })
        .await;
        let config = app
            .raw
            .config()
            .to_builder()
            .endpoint_url(upstream.expect("upstream"))
            .build();
        Faulty {
            direct: aws_sdk_dynamodb::Client::from_conf(config),
            proxy: proxy.expect("proxy"),
            app,
        }
    }

    /// Every item of table `name` whose hash key attribute `key` starts
    /// with `prefix`, read past the proxy.
    async fn raw_items(&self, name: &str, key: &str, prefix: &str) -> Vec<RawItem> {
        let page = self
            .direct
            .scan()
            .table_name(self.app.table(name))
            .consistent_read(true)
            .send()
            .await
            .expect("raw scan");
        page.items()
            .iter()
            .filter(|i| {
                i.get(key)
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|v| v.starts_with(prefix))
            })
            .cloned()
            .collect()
    }

    async fn health(&self, service: &str) -> Option<ServingStatus> {
        HealthClient::new(self.app.channel.clone())
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .ok()
            .map(|r| r.into_inner().status())
    }

    async fn wait_ready(&self, want: ServingStatus) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.health("").await == Some(want) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    async fn get_session(&self) -> Result<(), tonic::Status> {
        SessionServiceClient::new(self.app.channel.clone())
            .get_session(GetSessionRequest { id: "s-1".into() })
            .await
            .map(|_| ())
    }

    async fn create_account(&self, user_name: &str) -> Result<String, tonic::Status> {
        AccountServiceClient::new(self.app.channel.clone())
            .create(CreateAccountRequest {
                tenant: None,
                account: Some(NewAccount {
                    user_name: user_name.into(),
                    active: true,
                    attributes_json: format!(
                        r#"{{"emails":[{{"value":"{user_name}@example.com","primary":true}}]}}"#
                    ),
                    ..Default::default()
                }),
                password_hash: None,
            })
            .await
            .map(|r| r.into_inner().account.expect("account").id)
    }
}

fn assert_retryable_unavailable(what: &str, err: &tonic::Status) {
    assert_eq!(err.code(), Code::Unavailable, "{what}: {err:?}");
    let d = detail(err).unwrap_or_else(|| panic!("{what}: no ErrorDetail in {err:?}"));
    assert!(d.retryable, "{what}: {d:?}");
    assert!(
        !err.message().contains("injected") && !err.message().contains("127.0.0.1"),
        "{what}: the status tells the caller about the backend: {:?}",
        err.message()
    );
}

#[tokio::test]
async fn the_json_port_answers_a_dynamodb_fault_with_503_and_retry_after_naming_nothing_behind_it()
{
    for backend in Backend::ALL {
        let f = Faulty::start(backend).await;
        let verify = || {
            support::http::send(
                f.app.json_addr.expect("json port"),
                "POST",
                "/json-ds/credentials",
                &[("Content-Type", "application/json")],
                br#"{"username":"jane"}"#,
            )
        };
        for fault in [Fault::Throttle, Fault::InternalError] {
            let what = format!("{backend:?} {fault:?}");
            f.proxy.inject(fault, None, u32::MAX);
            let r = verify().await;
            assert_eq!(
                r.status,
                503,
                "{what}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            assert_eq!(r.header("retry-after"), Some("1"), "{what}");
            assert_eq!(
                r.json(),
                serde_json::json!({"error": "unavailable"}),
                "{what}"
            );
            assert!(f.proxy.hits() >= 1, "{what}: the fault was never hit");
            f.proxy.clear();
        }
        // DynamoDB answers again: the same request is served (no such user).
        let r = verify().await;
        assert_eq!(r.status, 401, "{backend:?}");
        assert_eq!(r.header("retry-after"), None, "{backend:?}");
    }
}

#[tokio::test]
async fn every_fault_fails_fast_with_retryable_unavailable_and_the_service_recovers_without_a_restart()
 {
    for backend in Backend::ALL {
        let mut f = Faulty::start(backend).await;
        assert!(f.wait_ready(ServingStatus::Serving).await, "{backend:?}");
        for fault in [
            Fault::Refuse,
            Fault::Delay(Duration::from_secs(2)),
            Fault::CutResponse,
            Fault::InternalError,
            Fault::Throttle,
        ] {
            let what = format!("{backend:?} {fault:?}");
            f.proxy.inject(fault.clone(), None, u32::MAX);
            let started = Instant::now();
            let err = f.get_session().await.expect_err(&what);
            // The operation timeout (3 s) bounds every fault, backoff included.
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{what}: took {:?}",
                started.elapsed()
            );
            assert_retryable_unavailable(&what, &err);
            assert!(f.proxy.hits() >= 1, "{what}: the fault was never hit");
            // Alive throughout: liveness never follows DynamoDB.
            assert_eq!(
                f.health("liveness").await,
                Some(ServingStatus::Serving),
                "{what}"
            );
            f.proxy.clear();
            f.get_session()
                .await
                .map(|_| ())
                .or_else(|s| (s.code() == Code::NotFound).then_some(()).ok_or(s))
                .unwrap_or_else(|s| panic!("{what}: not recovered: {s:?}"));
        }
        f.app.shutdown().await;
    }
}

#[tokio::test]
async fn readiness_follows_a_refusing_dynamodb_out_and_back_in() {
    let mut f = Faulty::start(Backend::Embedded).await;
    assert!(f.wait_ready(ServingStatus::Serving).await);
    f.proxy.inject(Fault::Refuse, None, u32::MAX);
    assert!(
        f.wait_ready(ServingStatus::NotServing).await,
        "readiness never noticed"
    );
    assert_eq!(f.health("liveness").await, Some(ServingStatus::Serving));
    f.proxy.clear();
    assert!(
        f.wait_ready(ServingStatus::Serving).await,
        "readiness never came back"
    );
    f.get_session()
        .await
        .or_else(|s| (s.code() == Code::NotFound).then_some(()).ok_or(s))
        .expect("served again");
    f.app.shutdown().await;
}

#[tokio::test]
async fn a_write_whose_reply_was_lost_is_retried_without_a_false_conflict_or_a_second_effect() {
    for backend in Backend::ALL {
        let mut f = Faulty::start(backend).await;
        assert!(f.wait_ready(ServingStatus::Serving).await);

        // A transaction (four items): the retry carries the same client
        // request token, so the server answers it as already done.
        f.proxy
            .inject(Fault::CutResponse, Some("TransactWriteItems"), 1);
        let id = f
            .create_account("cut")
            .await
            .unwrap_or_else(|s| panic!("{backend:?}: create after a lost reply: {s:?}"));
        assert_eq!(f.proxy.hits(), 1, "{backend:?}");
        for pk in [
            format!("ai#{id}"),
            "un#cut".to_string(),
            "em#cut@example.com".to_string(),
        ] {
            assert_eq!(
                f.raw_items("curity-accounts", "pk", &pk).await.len(),
                1,
                "{backend:?} {pk}"
            );
        }

        // A conditional put: the retry meets the item its first attempt
        // wrote, which is exactly ours.
        let mut tokens = TokenServiceClient::new(f.app.channel.clone());
        f.proxy.inject(Fault::CutResponse, Some("PutItem"), 1);
        tokens
            .create_token(CreateTokenRequest {
                token: Some(token("lost-reply")),
            })
            .await
            .unwrap_or_else(|s| panic!("{backend:?}: create token after a lost reply: {s:?}"));
        assert_eq!(f.proxy.hits(), 1, "{backend:?}");
        // A second create of the same token by a caller still conflicts.
        let again = tokens
            .create_token(CreateTokenRequest {
                token: Some(token("lost-reply")),
            })
            .await
            .expect_err("a duplicate create");
        assert_eq!(again.code(), Code::AlreadyExists, "{backend:?}");

        // A conditional delete: the retry finds the item gone, which its
        // first attempt did.
        let mut links = LinkServiceClient::new(f.app.channel.clone());
        links
            .link(LinkRequest {
                tenant: None,
                linking_account_manager: "am1".into(),
                local_account_id: id.clone(),
                foreign_domain: "idp".into(),
                foreign_user_name: "u1".into(),
            })
            .await
            .expect("link");
        f.proxy.inject(Fault::CutResponse, Some("DeleteItem"), 1);
        let deleted = links
            .delete_link(DeleteLinkRequest {
                tenant: None,
                linking_account_manager: "am1".into(),
                local_account_id: id.clone(),
                foreign_domain: "idp".into(),
                foreign_account_id: "u1".into(),
            })
            .await
            .unwrap_or_else(|s| panic!("{backend:?}: unlink after a lost reply: {s:?}"))
            .into_inner()
            .deleted;
        assert!(deleted, "{backend:?}: the unlink happened");
        assert_eq!(f.proxy.hits(), 1, "{backend:?}");
        f.app.shutdown().await;
    }
}

#[tokio::test]
async fn a_multi_item_write_is_all_or_nothing_whatever_the_fault() {
    for backend in Backend::ALL {
        let mut f = Faulty::start(backend).await;
        assert!(f.wait_ready(ServingStatus::Serving).await);
        for (n, fault) in [
            Fault::Refuse,
            Fault::Delay(Duration::from_secs(2)),
            Fault::CutResponse,
            Fault::InternalError,
            Fault::Throttle,
        ]
        .into_iter()
        .enumerate()
        {
            let what = format!("{backend:?} {fault:?}");
            let user = format!("u{n}");
            f.proxy
                .inject(fault.clone(), Some("TransactWriteItems"), u32::MAX);
            let result = f.create_account(&user).await;
            // A delayed transaction may still be on its way when the call
            // has failed: read once it has landed, or the two reads below
            // could fall either side of it.
            assert!(
                f.proxy.wait_idle(Duration::from_secs(30)).await,
                "{what}: the proxy drains"
            );
            f.proxy.clear();
            let by_name = f
                .raw_items("curity-accounts", "pk", &format!("un#{user}"))
                .await;
            let by_email = f
                .raw_items("curity-accounts", "pk", &format!("em#{user}@example.com"))
                .await;
            match result {
                // Only a cut reply can succeed: the token makes its
                // retries answer as done.
                Ok(id) => {
                    assert_eq!(fault, Fault::CutResponse, "{what}: succeeded");
                    let by_id = f
                        .raw_items("curity-accounts", "pk", &format!("ai#{id}"))
                        .await;
                    assert_eq!(
                        (by_id.len(), by_name.len(), by_email.len()),
                        (1, 1, 1),
                        "{what}"
                    );
                }
                Err(err) => {
                    assert_retryable_unavailable(&what, &err);
                    // Whether an attempt reached the server or not, the
                    // account is there whole or not at all.
                    let whole = by_name.len() == 1 && by_email.len() == 1;
                    let none = by_name.is_empty() && by_email.is_empty();
                    assert!(
                        whole || none,
                        "{what}: half written: {by_name:?} {by_email:?}"
                    );
                    if fault != Fault::CutResponse && fault != Fault::Delay(Duration::from_secs(2))
                    {
                        assert!(none, "{what}: never reached the server, yet written");
                    }
                }
            }
        }
        f.app.shutdown().await;
    }
}
