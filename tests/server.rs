//! The server's own behaviour: health before and after DynamoDB answers,
//! NOT_SERVING on shutdown, reflection.

mod support;

use std::time::Duration;

use support::app::TestApp;
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
        .expect("check")
        .into_inner();
    assert_eq!(per_service.status(), ServingStatus::Serving);
    app.shutdown().await;
}

#[tokio::test]
async fn health_is_not_serving_until_the_accounts_table_answers() {
    let mut app = TestApp::start_without_tables().await;
    // Several readiness retries (1 s apart) fail meanwhile.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        support::health(&app.channel).await,
        Some(ServingStatus::NotServing)
    );
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
        .expect("watch")
        .into_inner();
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
    let mut app = TestApp::start().await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .expect("reflection")
        .into_inner();
    let resp = stream.next().await.expect("one response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"curity.datasource.v1.SessionService"), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");
    app.shutdown().await;
}
