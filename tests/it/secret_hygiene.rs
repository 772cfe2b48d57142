//! At TRACE level, over every RPC, no password hash, session state, token,
//! token data, nonce value or bearer token reaches the service's log, and
//! no status message carries one either.

use crate::support;

use curity_dynamodb::proto::{GetSessionRequest, session_service_client::SessionServiceClient};
use support::{
    rpcs::{SECRETS, every_rpc},
    service::{Env, Service},
};
use tonic::Request;

fn assert_clean(logs: &[String], secrets: &[&str]) {
    assert!(logs.len() > 50, "TRACE produced only {} lines", logs.len());
    for secret in secrets {
        let hits: Vec<&String> = logs.iter().filter(|l| l.contains(secret)).take(3).collect();
        assert!(hits.is_empty(), "{secret:?} logged:\n{hits:#?}");
    }
}

#[tokio::test]
async fn no_secret_of_any_rpc_reaches_the_log_at_trace() {
    let mut env = Env::new();
    env.set("RUST_LOG", "trace");
    let cfg = env.write("c.toml", "[dynamodb]\nallow_table_scans = true\n");
    let mut svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, std::time::Duration::from_secs(30)).await);
    every_rpc(ch, "acme").await;
    assert!(svc.terminate().await.success());
    assert_clean(&svc.logs(), &SECRETS);
}

#[tokio::test]
async fn bearer_tokens_right_or_wrong_are_never_logged_nor_echoed() {
    const RIGHT: &str = "RIGHTBEARERMARKER-0123456789";
    const WRONG: &str = "WRONGBEARERMARKER-0123456789";
    let mut env = Env::new();
    env.set("RUST_LOG", "trace");
    let token = env.write("token", RIGHT);
    let cfg = env.write(
        "c.toml",
        &format!(
            "[server.auth]\nbearer_token_file = {:?}\n",
            token.display().to_string()
        ),
    );
    let mut svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, std::time::Duration::from_secs(30)).await);
    let mut client = SessionServiceClient::new(ch);
    for (token, ok) in [(RIGHT, true), (WRONG, false)] {
        let mut req = Request::new(GetSessionRequest { id: "s".into() });
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        match client.get_session(req).await {
            Ok(_) => assert!(ok),
            Err(status) => {
                assert!(!ok, "{status:?}");
                assert!(!status.message().contains(token), "{}", status.message());
            }
        }
    }
    assert!(svc.terminate().await.success());
    assert_clean(&svc.logs(), &[RIGHT, WRONG]);
}
