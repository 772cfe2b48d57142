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
    let cfg = env.config("[dynamodb]\nallow_table_scans = true\n");
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
    let cfg = env.config(&format!(
        "[server.auth]\nbearer_token_file = {:?}\n",
        token.display().to_string()
    ));
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

/// `RUST_LOG` naming sub-modules of every capped crate at TRACE: the most
/// specific directives there are, which a cap written as a directive lost to.
const SUB_MODULE_TRACE: &str = "trace,\
    aws_smithy_runtime::client::orchestrator=trace,\
    aws_smithy_runtime::client::http=trace,\
    aws_smithy_runtime_api::client::orchestrator=trace,\
    aws_smithy_http_client::hyper_1=trace,\
    aws_sdk_dynamodb::config=trace,\
    aws_sdk_sts::config=trace,\
    aws_sigv4::http_request::sign=trace,\
    aws_config::default_provider=trace,\
    dynoxide::server=trace,\
    dynoxide::actions=trace";

const JSON_PASSWORD: &str = "JSONPASSWORDMARKER-0123456789";
const JSON_NEW_PASSWORD: &str = "JSONNEWPASSWORDMARKER-0123456789";
const BUCKET_VALUE: &str = "BUCKETVALUEMARKER-0123456789";
const BASIC: &str = "BASICPASSWORDMARKER-0123456789";

#[tokio::test]
async fn no_sub_module_directive_puts_a_secret_of_any_rpc_or_the_json_port_in_the_log() {
    use curity_dynamodb::proto::{
        CreateAccountRequest, NewAccount, account_service_client::AccountServiceClient,
    };
    use support::http::send;

    let mut env = Env::new();
    env.set("RUST_LOG", SUB_MODULE_TRACE);
    let basic_file = env.write("basic", BASIC);
    let cfg = env.config(&format!(
        "[dynamodb]\nallow_table_scans = true\n\n[json_ds]\nlisten = \"127.0.0.1:0\"\n\
             backend_verifies_password = true\nbcrypt_cost = 4\n\n[json_ds.auth]\n\
             basic_username = \"curity\"\nbasic_password_file = {:?}\n",
        basic_file.display().to_string()
    ));
    let mut svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, std::time::Duration::from_secs(30)).await);
    every_rpc(ch.clone(), "acme").await;

    // The JSON port: a verification, a password change and a bucket, each
    // carrying a secret.
    let hash = bcrypt::hash(JSON_PASSWORD, 4).expect("hash");
    AccountServiceClient::new(ch)
        .create(CreateAccountRequest {
            account: Some(NewAccount {
                user_name: "json-user".into(),
                active: true,
                ..Default::default()
            }),
            password_hash: Some(hash.clone()),
            ..Default::default()
        })
        .await
        .expect("account");
    let listen = svc.events("serving Curity's JSON data source protocol")[0]["fields"]["listen"]
        .as_str()
        .expect("json listen")
        .parse()
        .expect("addr");
    let auth = support::http::basic("curity", BASIC);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let verify = format!(r#"{{"username":"json-user","password":"{JSON_PASSWORD}"}}"#);
    let update = format!(r#"{{"username":"json-user","password":"{JSON_NEW_PASSWORD}"}}"#);
    let bucket = format!(r#"{{"code":"{BUCKET_VALUE}"}}"#);
    // Each secret goes through the port once: verified, changed, stored, read.
    for (method, path, body) in [
        ("POST", "/json-ds/credentials", verify.as_str()),
        ("PUT", "/json-ds/credentials", update.as_str()),
        ("PUT", "/json-ds/buckets/json-user/otp", bucket.as_str()),
        ("GET", "/json-ds/buckets/json-user/otp", ""),
    ] {
        let reply = send(listen, method, path, &headers, body.as_bytes()).await;
        // A write may answer 204; a verification and a read answer 200.
        let ok = match method {
            "PUT" => reply.status < 300,
            _ => reply.status == 200,
        };
        assert!(ok, "{method} {path}: {reply:?}");
    }

    assert!(svc.terminate().await.success());
    let mut secrets = SECRETS.to_vec();
    secrets.extend([
        JSON_PASSWORD,
        JSON_NEW_PASSWORD,
        BUCKET_VALUE,
        BASIC,
        hash.as_str(),
    ]);
    assert_clean(&svc.logs(), &secrets);
}
