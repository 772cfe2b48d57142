//! The server's own behaviour: health before and after DynamoDB answers,
//! NOT_SERVING on shutdown, reflection.

use crate::support::{self, Answer};

use std::time::Duration;

use support::{app::TestApp, proxy::Fault};
use tokio_stream::StreamExt;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[tokio::test]
async fn health_is_serving_once_dynamodb_answers() {
    let mut app = TestApp::start().await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    let mut client = HealthClient::new(app.channel.clone());
    let per_service = client
        .check(HealthCheckRequest {
            service: "curity.datasource.v1.SessionService".into(),
        })
        .await
        .answer("check");
    assert_eq!(per_service.status(), ServingStatus::Serving);
    app.shutdown().await;
}

#[tokio::test]
async fn health_is_not_serving_until_the_accounts_table_answers() {
    let mut app = TestApp::start_without_tables().await;
    // Not serving at every look while several readiness retries (1 s
    // apart) fail.
    let until = std::time::Instant::now() + Duration::from_millis(2500);
    while std::time::Instant::now() < until {
        assert_eq!(
            support::health(&app.channel).await,
            Some(ServingStatus::NotServing)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The process is alive all the same: liveness must not follow DynamoDB.
    let live = HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: "liveness".into(),
        })
        .await
        .answer("liveness check");
    assert_eq!(live.status(), ServingStatus::Serving);
    app.create_tables().await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_reports_not_serving_to_watchers_before_closing() {
    let mut app = TestApp::start().await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    let mut client = HealthClient::new(app.channel.clone());
    let mut watch = client
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .answer("watch");
    let first = watch.next().await.expect("first").expect("status");
    assert_eq!(first.status(), ServingStatus::Serving);
    app.begin_shutdown();
    let next = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("a status change before the deadline");
    match next {
        Some(Ok(msg)) => assert_eq!(msg.status(), ServingStatus::NotServing),
        other => panic!("expected NOT_SERVING, got {other:?}"),
    }
    app.shutdown().await;
}

#[tokio::test]
async fn reflection_lists_the_data_services() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut app = TestApp::start_with(|c| c.server.reflection = Some(true)).await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .answer("reflection");
    let resp = stream.next().await.expect("one response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"curity.datasource.v1.SessionService"),
        "{names:?}"
    );
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");
    app.shutdown().await;
}

/// The service with a delaying proxy between it and DynamoDB.
async fn start_behind_proxy(
    adjust: impl FnOnce(&mut curity_dynamodb::config::Config),
) -> (TestApp, support::proxy::FaultProxy) {
    let mut proxy = None;
    let app = TestApp::start_with(|c| {
        let p = support::proxy::FaultProxy::start(c.aws.endpoint_url.as_deref().expect("endpoint"));
        c.aws.endpoint_url = Some(p.endpoint.clone());
        adjust(c);
        proxy = Some(p);
    })
    .await;
    (app, proxy.expect("proxy"))
}

async fn insert_in_flight(
    app: &TestApp,
    id: &str,
) -> tokio::task::JoinHandle<Result<(), tonic::Status>> {
    use curity_dynamodb::proto::{
        InsertSessionRequest, Session, session_service_client::SessionServiceClient,
    };
    let mut client = SessionServiceClient::new(app.channel.clone());
    let id = id.to_string();
    tokio::spawn(async move {
        client
            .insert_session(InsertSessionRequest {
                session: Some(Session {
                    id,
                    data: "d".into(),
                    expires_at: 1,
                }),
            })
            .await
            .map(|_| ())
    })
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_rpc_finish_within_the_grace_period() {
    let (mut app, proxy) = start_behind_proxy(|c| {
        c.server.shutdown_grace_seconds = 20;
    })
    .await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    proxy.inject(
        Fault::Delay(Duration::from_millis(1500)),
        Some("PutItem"),
        u32::MAX,
    );
    let rpc = insert_in_flight(&app, "drained").await;
    assert!(
        proxy.wait_hits(1, Duration::from_secs(10)).await,
        "the call reached DynamoDB"
    );
    let started = std::time::Instant::now();
    app.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    rpc.await
        .expect("rpc task")
        .expect("the in-flight rpc completed");
}

#[tokio::test]
async fn shutdown_gives_up_on_rpcs_still_running_after_the_grace_period() {
    let (mut app, proxy) = start_behind_proxy(|c| {
        c.server.shutdown_grace_seconds = 1;
    })
    .await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    proxy.inject(
        Fault::Delay(Duration::from_secs(8)),
        Some("PutItem"),
        u32::MAX,
    );
    let rpc = insert_in_flight(&app, "cut").await;
    assert!(
        proxy.wait_hits(1, Duration::from_secs(10)).await,
        "the call reached DynamoDB"
    );
    let started = std::time::Instant::now();
    app.begin_shutdown();
    app.shutdown().await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    drop(rpc);
}

#[tokio::test]
async fn a_request_waiting_past_the_pool_timeout_is_shed_as_retryable_resource_exhausted() {
    let (mut app, proxy) = start_behind_proxy(|c| {
        c.pool.max_size = 1;
        c.pool.wait_timeout_ms = 200;
    })
    .await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    proxy.inject(
        Fault::Delay(Duration::from_millis(1500)),
        Some("PutItem"),
        u32::MAX,
    );
    let slow = insert_in_flight(&app, "holds-the-only-client").await;
    assert!(
        proxy.wait_hits(1, Duration::from_secs(10)).await,
        "the call reached DynamoDB"
    );
    let waiting = insert_in_flight(&app, "waits").await;
    let err = waiting
        .await
        .expect("task")
        .expect_err("no client free within 200 ms");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");
    let d = curity_dynamodb::api::status::detail(&err).expect("detail");
    assert!(d.retryable);
    assert_eq!(
        d.reason(),
        curity_dynamodb::proto::error_detail::Reason::Overloaded
    );
    slow.await
        .expect("task")
        .expect("the first request still succeeds");
    app.shutdown().await;
}

#[tokio::test]
async fn past_the_concurrency_limit_calls_are_shed_with_retryable_resource_exhausted() {
    let (mut app, proxy) = start_behind_proxy(|c| {
        c.server.max_concurrent_requests = 1;
    })
    .await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    proxy.inject(
        Fault::Delay(Duration::from_millis(1500)),
        Some("PutItem"),
        u32::MAX,
    );
    let slow = insert_in_flight(&app, "holds-the-only-slot").await;
    assert!(
        proxy.wait_hits(1, Duration::from_secs(10)).await,
        "the call reached DynamoDB"
    );
    let started = std::time::Instant::now();
    let err = insert_in_flight(&app, "shed")
        .await
        .await
        .expect("task")
        .expect_err("over the limit");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "shed at once, not queued"
    );
    let d = curity_dynamodb::api::status::detail(&err).expect("detail");
    assert!(d.retryable);
    assert_eq!(
        d.reason(),
        curity_dynamodb::proto::error_detail::Reason::Overloaded
    );
    // Probes are never shed.
    assert_eq!(
        support::health(&app.channel).await,
        Some(tonic_health::pb::health_check_response::ServingStatus::Serving)
    );
    slow.await
        .expect("task")
        .expect("the first request still succeeds");
    app.shutdown().await;
}

#[tokio::test]
async fn an_rpc_past_the_server_timeout_ends_instead_of_hanging() {
    let (mut app, proxy) = start_behind_proxy(|c| {
        c.server.request_timeout_seconds = 1;
    })
    .await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(10)).await);
    proxy.set_delay(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let err = insert_in_flight(&app, "too-slow")
        .await
        .await
        .expect("task")
        .expect_err("past the server timeout");
    assert_eq!(err.code(), tonic::Code::Cancelled, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    proxy.set_delay(Duration::ZERO);
    app.shutdown().await;
}

async fn wait_health(app: &TestApp, want: ServingStatus, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if support::health(&app.channel).await == Some(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn readiness_goes_not_serving_when_dynamodb_fails_and_comes_back_without_a_restart() {
    let mut app = TestApp::start_with(|c| {
        c.server.readiness_interval_seconds = 1;
        c.server.readiness_failure_threshold = 2;
        c.server.readiness_success_threshold = 1;
    })
    .await;
    assert!(wait_health(&app, ServingStatus::Serving, Duration::from_secs(10)).await);
    app.raw
        .delete_table()
        .table_name(app.table("curity-accounts"))
        .send()
        .await
        .expect("drop the accounts table");
    assert!(
        wait_health(&app, ServingStatus::NotServing, Duration::from_secs(10)).await,
        "readiness must follow DynamoDB out"
    );
    let mut health = HealthClient::new(app.channel.clone());
    let live = health
        .check(HealthCheckRequest {
            service: "liveness".into(),
        })
        .await
        .answer("liveness check");
    assert_eq!(
        live.status(),
        ServingStatus::Serving,
        "liveness never follows"
    );
    app.create_tables().await;
    assert!(
        wait_health(&app, ServingStatus::Serving, Duration::from_secs(10)).await,
        "and back in"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn after_sigterm_it_reports_not_serving_but_keeps_serving_calls_for_the_delay() {
    let mut app = TestApp::start_with(|c| c.server.shutdown_delay_seconds = 2).await;
    assert!(wait_health(&app, ServingStatus::Serving, Duration::from_secs(10)).await);
    let started = std::time::Instant::now();
    app.begin_shutdown();
    assert!(wait_health(&app, ServingStatus::NotServing, Duration::from_secs(1)).await);
    insert_in_flight(&app, "late-arrival")
        .await
        .await
        .expect("task")
        .expect("a call during the delay is still served");
    app.shutdown().await;
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_timed_out_call_and_a_shed_call_are_each_counted_once_with_their_outcome() {
    // The store, and a proxy in front of it that holds GetItem for 3 s.
    let app = TestApp::start().await;
    let proxy =
        support::proxy::FaultProxy::start(app.config.aws.endpoint_url.as_deref().expect("store"));
    proxy.inject(
        Fault::Delay(Duration::from_secs(3)),
        Some("GetItem"),
        u32::MAX,
    );
    let port = support::free_port();
    let env = support::service::Env::new();
    let cfg = env.write(
        "timeout.toml",
        &format!(
            "[server]\nrequest_timeout_seconds = 1\nmax_concurrent_requests = 1\nmetrics_listen = \"127.0.0.1:{port}\"\n\
             [aws]\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\naccess_method = \"access_key\"\n\
             [aws.access_key]\naccess_key_id = \"embedded\"\nsecret_access_key = \"embedded\"\n\
             [dynamodb]\ntable_name_prefix = \"{}\"\n",
            proxy.endpoint, app.config.dynamodb.table_name_prefix
        ),
    );
    let svc = support::service::Service::start(&env, &cfg, &[]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(20)).await);
    let sessions =
        curity_dynamodb::proto::session_service_client::SessionServiceClient::new(ch.clone());
    let get = |id: &str| {
        let mut c = sessions.clone();
        let req = curity_dynamodb::proto::GetSessionRequest { id: id.into() };
        async move { c.get_session(req).await }
    };
    // The one slot taken by a call held at the store; the next is shed,
    // the health probe is not.
    let slow = tokio::spawn(get("slow"));
    assert!(proxy.wait_hits(1, Duration::from_secs(10)).await);
    let shed = get("shed").await.expect_err("no slot free");
    assert_eq!(shed.code(), tonic::Code::ResourceExhausted, "{shed:?}");
    assert_eq!(
        support::health(&ch).await,
        Some(tonic_health::pb::health_check_response::ServingStatus::Serving)
    );
    let err = slow
        .await
        .expect("task")
        .expect_err("ended by the server's timeout");
    assert_eq!(err.code(), tonic::Code::Cancelled, "{err:?}");
    let timed_out = "curity_dynamodb_rpc_seconds_count{service=\"SessionService\",\
                     method=\"GetSession\",outcome=\"timed_out\"} 1";
    let overloaded = "curity_dynamodb_rpc_seconds_count{service=\"SessionService\",\
                      method=\"GetSession\",outcome=\"overloaded\"} 1";
    let body = support::http::metrics(port).await;
    for line in [timed_out, overloaded] {
        assert!(
            body.lines().any(|l| l == line),
            "{line} missing from:\n{body}"
        );
    }
    let counted: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("curity_dynamodb_rpc_seconds_count{service=\"SessionService\""))
        .collect();
    assert_eq!(counted.len(), 2, "each call counted once: {counted:?}");
    let logged = svc.events("rpc ended before it finished");
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["fields"]["outcome"], "timed_out");
}
