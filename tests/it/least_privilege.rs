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
        .create(support::fixtures::new_account("", "x", None))
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

/// `policy --admin` is what `tables create` with its production settings
/// and `tables check` need: a role holding exactly it creates tables with
/// point-in-time recovery, deletion protection and a KMS key, and reads
/// each back; without either continuous-backups action it added, the
/// same run is refused naming that action. (MiniStack authorises
/// ListTagsOfResource and TagResource against `*`, not the table as AWS
/// does, so tags on existing tables are outside this proof; CreateTable
/// carries new tables' tags.)
#[tokio::test]
async fn a_role_with_exactly_the_admin_policy_creates_and_checks_protected_tables() {
    const KEY: &str = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let Fixture { ms, iam, env } = Fixture::start(&[]).await;
    let out = run_cli(
        &env,
        None,
        &[
            "policy",
            "--admin",
            "--sse-kms-key",
            KEY,
            "--region",
            "us-east-1",
            "--account",
            &iam.account,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let admin: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("policy json");
    let role_config = |name: &'static str, policy: serde_json::Value| {
        let (ms, iam, env) = (&ms, &iam, &env);
        async move {
            let role = ms
                .create_role_with_policy(iam, name, &policy.to_string())
                .await;
            config(
                env,
                &format!("{name}.toml"),
                &ms.endpoint,
                &iam.app_key_id,
                &iam.app_secret,
                &role,
                "",
            )
        }
    };
    let protect = [
        "tables",
        "create",
        "--pitr",
        "--deletion-protection",
        "--sse-kms-key",
        KEY,
        "--tag",
        "team=identity",
    ];

    let cfg = role_config("curity-admin", admin.clone()).await;
    let create = run_cli(&env, Some(&cfg), &protect).await;
    let out = stdout(&create);
    assert!(create.status.success(), "{out}\n{}", stderr(&create));
    assert_eq!(out.matches(": created").count(), 11, "{out}");
    assert_eq!(
        out.matches("point-in-time recovery enabled").count(),
        11,
        "{out}"
    );
    let check = run_cli(&env, Some(&cfg), &["tables", "check"]).await;
    let out = stdout(&check);
    assert!(check.status.success(), "{out}\n{}", stderr(&check));
    for setting in [
        "point-in-time recovery: on".to_string(),
        "deletion protection: on".to_string(),
        format!("encryption at rest: KMS key {KEY}"),
    ] {
        assert_eq!(out.matches(&setting).count(), 11, "{setting}:\n{out}");
    }

    // PITR off on one table again, so that turning it on is needed.
    aws_sdk_dynamodb::Client::new(&ms.root_config())
        .update_continuous_backups()
        .table_name("curity-sessions")
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("root turns PITR off");
    for (name, action) in [
        ("no-describe-backups", "dynamodb:DescribeContinuousBackups"),
        ("no-update-backups", "dynamodb:UpdateContinuousBackups"),
    ] {
        let mut narrowed = admin.clone();
        narrowed["Statement"][1]["Action"]
            .as_array_mut()
            .expect("admin actions")
            .retain(|a| a != action);
        let cfg = role_config(name, narrowed).await;
        let out = run_cli(&env, Some(&cfg), &["tables", "create", "--pitr"]).await;
        assert_eq!(out.status.code(), Some(1), "{action}: {}", stdout(&out));
        assert!(
            stderr(&out).contains(&format!("may not call {action}")),
            "{action}: {}",
            stderr(&out)
        );
    }
}
