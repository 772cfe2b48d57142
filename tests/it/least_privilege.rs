//! The generated IAM policy is enough for every RPC of every data type and
//! nothing more: a role holding exactly `curity-dynamodb policy` runs them
//! all against MiniStack (AUTH=true), and is denied on other tables.

use crate::support;

use std::time::Duration;

use curity_dynamodb::proto::{
    self, account_service_client::AccountServiceClient, link_service_client::LinkServiceClient,
    session_service_client::SessionServiceClient,
};
use support::{
    ministack::Fixture,
    rpcs::every_rpc,
    service::{Env, Service, run_cli, stderr, stdout},
};
use tonic::Code;

fn config(
    env: &Env,
    name: &str,
    endpoint: &str,
    key: &str,
    secret: &str,
    role: &str,
    prefix: &str,
) -> std::path::PathBuf {
    env.write(
        name,
        &format!(
            "[server]\nreadiness_retry_seconds = 1\n[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"{key}\"\nsecret_access_key = \"{secret}\"\nrole_arn = \"{role}\"\n[dynamodb]\ntable_name_prefix = \"{prefix}\"\nallow_table_scans = true\n"
        ),
    )
}

#[tokio::test]
async fn a_role_with_exactly_the_generated_policy_runs_every_rpc_and_nothing_else() {
    let Fixture { ms, iam, env } = Fixture::start(&["", "other-"]).await;
    let out = run_cli(
        &env,
        None,
        &["policy", "--region", "us-east-1", "--account", &iam.account],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let policy = stdout(&out);
    let role = ms
        .create_role_with_policy(&iam, "curity-least", &policy)
        .await;

    let cfg = config(
        &env,
        "ok.toml",
        &ms.endpoint,
        &iam.app_key_id,
        &iam.app_secret,
        &role,
        "",
    );
    let svc = Service::start(&env, &cfg, &[]).await;
    let ch = support::channel(svc.addr).await;
    assert!(
        support::wait_serving(&ch, Duration::from_secs(20)).await,
        "DescribeTable must be allowed:\n{}",
        svc.logs().join("\n")
    );
    every_rpc(ch, "acme").await;

    let denied = config(
        &env,
        "denied.toml",
        &ms.endpoint,
        &iam.app_key_id,
        &iam.app_secret,
        &role,
        "other-",
    );
    let svc2 = Service::start(&env, &denied, &[]).await;
    let ch2 = support::channel(svc2.addr).await;
    let err = AccountServiceClient::new(ch2.clone())
        .create(proto::CreateAccountRequest {
            tenant: None,
            account: Some(proto::NewAccount {
                user_name: "x".into(),
                active: true,
                attributes: None,
                ..Default::default()
            }),
            password_hash: None,
        })
        .await
        .expect_err("other-curity-accounts is outside the policy");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = SessionServiceClient::new(ch2)
        .get_session(proto::GetSessionRequest { id: "s".into() })
        .await
        .expect_err("other-curity-sessions is outside the policy");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains("dynamodb:GetItem"),
        "{}",
        err.message()
    );
}

/// MiniStack authorises index queries against the table ARN (real AWS
/// wants `table/.../index/*`, which the policy grants), so what can be
/// proven here is that each action of the policy is needed: without
/// `dynamodb:Query` the same role cannot list links.
#[tokio::test]
async fn each_action_of_the_policy_is_needed_query_for_example() {
    let Fixture { ms, iam, env } = Fixture::start(&[""]).await;
    let mut policy: serde_json::Value =
        serde_json::from_str(&stdout(&run_cli(&env, None, &["policy"]).await))
            .expect("policy json");
    let actions = policy["Statement"][0]["Action"]
        .as_array_mut()
        .expect("actions");
    actions.retain(|a| a != "dynamodb:Query");
    let role = ms
        .create_role_with_policy(&iam, "no-query", &policy.to_string())
        .await;
    let cfg = config(
        &env,
        "c.toml",
        &ms.endpoint,
        &iam.app_key_id,
        &iam.app_secret,
        &role,
        "",
    );
    let svc = Service::start(&env, &cfg, &[]).await;
    let ch = support::channel(svc.addr).await;
    SessionServiceClient::new(ch.clone())
        .get_session(proto::GetSessionRequest { id: "s".into() })
        .await
        .expect("GetItem is still allowed");
    let err = LinkServiceClient::new(ch)
        .list_links(proto::ListLinksRequest {
            tenant: None,
            linking_account_manager: "am".into(),
            local_account_id: "a".into(),
        })
        .await
        .expect_err("listing links needs dynamodb:Query");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains("dynamodb:Query"),
        "{}",
        err.message()
    );
}
