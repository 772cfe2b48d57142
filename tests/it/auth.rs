//! Caller authentication: with a bearer token configured, every data call
//! and reflection need it, health does not; the token file is re-read when
//! it changes; reflection is off unless enabled and then speaks v1 and
//! v1alpha; `serve` refuses a non-loopback address without authentication
//! unless `--insecure`.

use crate::support;

use std::time::Duration;

use curity_dynamodb::proto::{GetSessionRequest, session_service_client::SessionServiceClient};
use support::{
    app::TestApp,
    service::{Env, Service, run_cli, stderr},
};
use tokio_stream::StreamExt;
use tonic::{Code, Request, transport::Channel};

const TOKEN: &str = "first-token-0123456789abcdef";

fn with_token<T>(msg: T, token: &str) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

async fn get_session(ch: &Channel, token: Option<&str>) -> Result<(), Code> {
    let msg = GetSessionRequest { id: "s".into() };
    let req = match token {
        Some(t) => with_token(msg, t),
        None => Request::new(msg),
    };
    SessionServiceClient::new(ch.clone())
        .get_session(req)
        .await
        .map(|_| ())
        .map_err(|s| s.code())
}

#[tokio::test]
async fn data_calls_need_the_bearer_token_and_health_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let path = file.clone();
    let mut app = TestApp::start_with(move |c| {
        c.server.auth.bearer_token_file = Some(path);
        c.server.auth.reload_seconds = 1;
    })
    .await;
    assert!(support::wait_serving(&app.channel, Duration::from_secs(20)).await);

    assert_eq!(
        get_session(&app.channel, None).await,
        Err(Code::Unauthenticated)
    );
    assert_eq!(
        get_session(&app.channel, Some("first-token-0123456789abcdeX")).await,
        Err(Code::Unauthenticated)
    );
    assert_eq!(get_session(&app.channel, Some(TOKEN)).await, Ok(()));

    // Rotation, as a Secret update rewrites the mounted file.
    let second = "second-token-0123456789abcdef";
    std::fs::write(&file, second).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while get_session(&app.channel, Some(second)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "new token never accepted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        get_session(&app.channel, Some(TOKEN)).await,
        Err(Code::Unauthenticated),
        "the old token is refused after rotation"
    );
    app.shutdown().await;
}

/// `list_services` over one reflection version (`v1`, `v1alpha`): the
/// service names, or the status code.
macro_rules! list_services {
    ($name:ident, $version:ident) => {
        async fn $name(ch: &Channel, token: Option<&str>) -> Result<Vec<String>, Code> {
            use tonic_reflection::pb::$version::{
                ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
                server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse,
            };
            let msg = tokio_stream::iter([ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            }]);
            let req = match token {
                Some(t) => with_token(msg, t),
                None => Request::new(msg),
            };
            let mut stream = ServerReflectionClient::new(ch.clone())
                .server_reflection_info(req)
                .await
                .map_err(|s| s.code())?
                .into_inner();
            match stream.next().await {
                Some(Ok(resp)) => match resp.message_response {
                    Some(MessageResponse::ListServicesResponse(l)) => {
                        Ok(l.service.into_iter().map(|s| s.name).collect())
                    }
                    other => panic!("unexpected reflection response {other:?}"),
                },
                Some(Err(s)) => Err(s.code()),
                None => panic!("no reflection response"),
            }
        }
    };
}

list_services!(list_services_v1, v1);
list_services!(list_services_v1alpha, v1alpha);

#[tokio::test]
async fn reflection_is_off_by_default_and_speaks_v1_and_v1alpha_when_on() {
    let mut off = TestApp::start().await;
    assert_eq!(
        list_services_v1(&off.channel, None).await,
        Err(Code::Unimplemented)
    );
    off.shutdown().await;

    let mut on = TestApp::start_with(|c| c.server.reflection = Some(true)).await;
    let v1 = list_services_v1(&on.channel, None).await.expect("v1");
    let v1alpha = list_services_v1alpha(&on.channel, None)
        .await
        .expect("v1alpha");
    for list in [&v1, &v1alpha] {
        assert!(
            list.iter()
                .any(|s| s == "curity.datasource.v1.AccountService"),
            "{list:?}"
        );
    }
    on.shutdown().await;
}

#[tokio::test]
async fn reflection_is_behind_the_same_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, TOKEN).unwrap();
    let mut app = TestApp::start_with(move |c| {
        c.server.reflection = Some(true);
        c.server.auth.bearer_token_file = Some(file);
    })
    .await;
    assert_eq!(
        list_services_v1(&app.channel, None).await,
        Err(Code::Unauthenticated)
    );
    assert!(list_services_v1(&app.channel, Some(TOKEN)).await.is_ok());
    app.shutdown().await;
}

#[tokio::test]
async fn serve_refuses_a_network_address_without_authentication_naming_what_to_set() {
    let env = Env::new();
    let out = run_cli(
        &env,
        None,
        &["serve", "--embedded", "--listen", "0.0.0.0:0"],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for needle in ["server.auth.bearer_token_file", "--insecure", "0.0.0.0:0"] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}

#[tokio::test]
async fn serve_insecure_on_a_network_address_starts_and_warns_naming_the_address() {
    let env = Env::new();
    let cfg = env.config("[json_ds]\nlisten = \"0.0.0.0:0\"\n");
    let mut svc = Service::start_on(&env, &cfg, "0.0.0.0:0", &["--embedded", "--insecure"]).await;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], svc.addr.port()));
    let ch = support::channel(addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(30)).await);
    assert_eq!(get_session(&ch, None).await, Ok(()));
    assert!(svc.terminate().await.success());

    let warnings: Vec<_> = svc
        .logs()
        .into_iter()
        .filter(|l| l.contains("\"WARN\"") && l.contains("--insecure"))
        .collect();
    let grpc = format!("0.0.0.0:{}", svc.addr.port());
    assert!(
        warnings
            .iter()
            .any(|l| l.contains(&grpc) && l.contains("not authenticated")),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("JSON data source port") && l.contains("not authenticated")),
        "{warnings:#?}"
    );
}

#[tokio::test]
async fn an_authenticated_network_address_raises_no_insecure_warning() {
    let env = Env::new();
    let token = env.write("token", "a-token-of-sufficient-length-0123");
    let cfg = env.config(&format!(
        "[server.auth]\nbearer_token_file = {:?}\n",
        token.display().to_string()
    ));
    let mut svc = Service::start_on(&env, &cfg, "0.0.0.0:0", &["--embedded"]).await;
    assert!(svc.terminate().await.success());
    assert!(
        svc.logs().iter().all(|l| !l.contains("--insecure")),
        "{:#?}",
        svc.logs()
    );
}

#[tokio::test]
async fn serve_with_an_unusable_token_file_names_the_key() {
    let env = Env::new();
    let short = env.write("token", "short");
    let cfg = env.config(&format!(
        "[server.auth]\nbearer_token_file = {:?}\n",
        short.display().to_string()
    ));
    let out = run_cli(&env, Some(&cfg), &["serve", "--embedded"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("server.auth.bearer_token_file"), "{err}");
    assert!(err.contains("shorter than 16"), "{err}");
}
