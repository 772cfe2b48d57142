//! The binary's command line: bad input gives one clear line naming the key
//! or file and exit code 2, never a panic; `serve --embedded` works from
//! nothing; `config print` hides secrets.

use crate::support;

use std::time::Duration;

use curity_dynamodb::proto::{
    GetSessionRequest, InsertSessionRequest, Session, session_service_client::SessionServiceClient,
};
use support::service::{Env, Service, run_cli, stderr, stdout};

/// Runs the CLI and asserts: exit 2, one `error:` line naming `needle`.
async fn assert_bad_input(
    env: &Env,
    config: Option<&std::path::Path>,
    args: &[&str],
    needle: &str,
) {
    let out = run_cli(env, config, args).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "args {args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "exactly one error line: {err}");
    assert!(lines[0].contains(needle), "{needle:?} not in {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_access_method_names_the_key() {
    let env = Env::new();
    let cfg = env.config("[aws]\nregion = \"eu-west-1\"\naccess_method = \"telepathy\"\n");
    assert_bad_input(&env, Some(&cfg), &["whoami"], "aws.access_method").await;
}

#[tokio::test]
async fn web_identity_without_role_or_token_names_the_keys() {
    let env = Env::new();
    let cfg = env.config("[aws]\nregion = \"eu-west-1\"\n");
    assert_bad_input(&env, Some(&cfg), &["serve"], "aws.web_identity.role_arn").await;
    assert_bad_input(&env, Some(&cfg), &["serve"], "aws.web_identity.token_file").await;
}

#[tokio::test]
async fn unreadable_token_file_names_key_and_file() {
    let env = Env::new();
    let cfg = env.config("[aws]\nregion = \"eu-west-1\"\n[aws.web_identity]\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\ntoken_file = \"/var/run/secrets/nope/token\"\n",
    );
    assert_bad_input(
        &env,
        Some(&cfg),
        &["serve"],
        "aws.web_identity.token_file: cannot read /var/run/secrets/nope/token",
    )
    .await;
}

#[tokio::test]
async fn bad_region_names_the_key() {
    let env = Env::new();
    let cfg = env.config("[aws]\nregion = \"mars-1\"\naccess_method = \"default_chain\"\n");
    assert_bad_input(&env, Some(&cfg), &["tables", "check"], "aws.region").await;
}

#[tokio::test]
async fn malformed_toml_names_the_file() {
    let env = Env::new();
    let cfg = env.write("broken.toml", "[aws\nregion = \"eu-west-1\"\n");
    assert_bad_input(&env, Some(&cfg), &["config", "print"], "broken.toml").await;
}

#[tokio::test]
async fn missing_config_file_names_the_file() {
    let env = Env::new();
    let missing = env.path("absent.toml");
    assert_bad_input(&env, Some(&missing), &["config", "print"], "absent.toml").await;
}

#[tokio::test]
async fn unreachable_endpoint_is_reported_with_the_key() {
    let env = Env::new();
    let cfg = env.config("[aws]\nregion = \"eu-west-1\"\nendpoint_url = \"http://127.0.0.1:9\"\naccess_method = \"access_key\"\napi_call_timeout_seconds = 5\n[aws.access_key]\naccess_key_id = \"a\"\nsecret_access_key = \"b\"\n",
    );
    assert_bad_input(&env, Some(&cfg), &["tables", "check"], "aws.endpoint_url").await;
}

#[tokio::test]
async fn env_overrides_the_file_and_config_print_redacts_secrets() {
    let mut env = Env::new();
    let cfg = env.config("[aws]\nregion = \"eu-west-1\"\naccess_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"AKIAFILE\"\nsecret_access_key = \"very-secret-value\"\n",
    );
    env.set("CURITY_DYNAMODB_AWS__REGION", "eu-north-1");
    env.set("CURITY_DYNAMODB_DYNAMODB__TABLE_NAME_PREFIX", "dev-");
    let out = run_cli(&env, Some(&cfg), &["config", "print"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains("region = \"eu-north-1\""), "{printed}");
    assert!(
        printed.contains("table_name_prefix = \"dev-\""),
        "{printed}"
    );
    assert!(printed.contains("AKIAFILE"), "{printed}");
    assert!(!printed.contains("very-secret-value"), "{printed}");
    assert!(printed.contains("<redacted>"), "{printed}");
}

#[tokio::test]
async fn serve_embedded_needs_no_setup_and_answers_serving() {
    let env = Env::new();
    let cfg = env.write("empty.toml", "");
    let svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(20)).await);
    let mut client = SessionServiceClient::new(ch);
    client
        .insert_session(InsertSessionRequest {
            session: Some(Session {
                id: "hello".into(),
                data: "world".into(),
                expires_at: 5,
            }),
        })
        .await
        .expect("insert on embedded");
}

#[tokio::test]
async fn serve_embedded_dir_keeps_data_across_restarts_and_sigterm_exits_cleanly() {
    let env = Env::new();
    let cfg = env.write("empty.toml", "");
    let dir = env.path("data");
    let dir_arg = dir.display().to_string();
    {
        let mut svc = Service::start(&env, &cfg, &["--embedded", &dir_arg]).await;
        let mut client = SessionServiceClient::new(support::channel(svc.addr).await);
        client
            .insert_session(InsertSessionRequest {
                session: Some(Session {
                    id: "kept".into(),
                    data: "across restarts".into(),
                    expires_at: 5,
                }),
            })
            .await
            .expect("insert");
        let status = svc.terminate().await;
        assert!(status.success(), "SIGTERM exit: {status}");
        assert!(!svc.events("stopped").is_empty(), "{:?}", svc.logs());
        assert!(
            svc.events("grace period over: dropping unfinished rpcs")
                .is_empty(),
            "an idle client connection must not hold shutdown for the grace period"
        );
    }
    let svc = Service::start(&env, &cfg, &["--embedded", &dir_arg]).await;
    let mut client = SessionServiceClient::new(support::channel(svc.addr).await);
    let got = support::read::session(&mut client, "kept")
        .await
        .expect("session survived the restart");
    assert_eq!(got.data, "across restarts");
}

#[tokio::test]
async fn metrics_endpoint_exposes_pool_and_rpc_metrics() {
    let port = support::free_port();
    let env = Env::new();
    let cfg = env.write(
        "metrics.toml",
        &format!("[server]\nmetrics_listen = \"127.0.0.1:{port}\"\n"),
    );
    let svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(20)).await);
    let mut client = SessionServiceClient::new(ch);
    client
        .get_session(GetSessionRequest { id: "m".into() })
        .await
        .expect("get");
    let body = support::http::metrics(port).await;
    for metric in [
        "curity_dynamodb_pool_size",
        "curity_dynamodb_pool_in_use",
        "curity_dynamodb_pool_waiting",
        "curity_dynamodb_rpc_seconds",
        // Buckets (not a summary's quantiles): they add up across replicas.
        "curity_dynamodb_rpc_seconds_bucket{",
        "curity_dynamodb_credential_loads_total",
    ] {
        assert!(body.contains(metric), "{metric} missing from:\n{body}");
    }
}
