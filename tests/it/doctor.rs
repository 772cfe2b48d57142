//! `doctor` against MiniStack (AUTH=true), real files and environments:
//! one test per failure it detects, and a clean bill of health.

use crate::support;

use curity_dynamodb::store::tables::{Billing, Protection, TableAdmin};
use serde_json::{Value, json};
use support::{
    ministack::{self, Fixture},
    service::{run_cli, stderr, stdout},
};

const SA: &str = "system:serviceaccount:curity:dynamo-sa";

async fn fixture(create_tables: bool) -> Fixture {
    Fixture::start(if create_tables { &[""] } else { &[] }).await
}

impl Fixture {
    fn doctor_config(&self, extra: &str) -> std::path::PathBuf {
        self.env.write(
            "doctor.toml",
            &format!(
                "[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\n{extra}\n",
                self.ms.endpoint
            ),
        )
    }

    /// As the EKS webhook leaves a pod: role ARN and token file in the env.
    fn irsa_env(&mut self, token: &str) {
        let path = self.env.write("token", token);
        self.env
            .set("AWS_ROLE_ARN", self.iam.role_arn.clone())
            .set("AWS_WEB_IDENTITY_TOKEN_FILE", path.display().to_string());
    }

    async fn doctor(&self, cfg: &std::path::Path, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["doctor", "--json"];
        all.extend_from_slice(args);
        let out = run_cli(&self.env, Some(cfg), &all).await;
        let report: Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("doctor json: {e}\n{}\n{}", stdout(&out), stderr(&out)));
        (out.status.code().unwrap_or(-1), report)
    }
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name:?} in {report:#}"))
}

fn good_claims() -> Value {
    json!({"iss": format!("https://{}", ministack::ISSUER), "sub": SA, "aud": "sts.amazonaws.com", "exp": 4_102_444_800u64})
}

#[tokio::test]
async fn a_correct_irsa_pod_passes_every_check() {
    let mut fx = fixture(true).await;
    fx.irsa_env(&ministack::jwt(good_claims()));
    let cfg = fx.doctor_config("");
    let (code, report) = fx.doctor(&cfg, &["--expect-subject", SA]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(check(&report, "webhook env")["status"], "ok");
    assert_eq!(check(&report, "token sub")["status"], "ok");
    assert_eq!(check(&report, "identity")["status"], "ok");
    assert!(
        check(&report, "identity")["detail"]
            .as_str()
            .unwrap()
            .contains("assumed-role/scoped-role")
    );
    assert_eq!(check(&report, "clock skew")["status"], "ok");
    assert_eq!(
        check(
            &report,
            "index curity-accounts/userNameInitial-userName-index"
        )["status"],
        "ok"
    );
    assert_eq!(
        check(&report, "index curity-database-clients/lsi-created-index")["status"],
        "ok"
    );
    let tables = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("table "))
        .count();
    assert_eq!(tables, 11);
    // The tables have neither PITR nor deletion protection: warnings,
    // not failures, each naming the tables and its fix.
    let pitr = check(&report, "point-in-time recovery");
    assert_eq!(pitr["status"], "warn", "{pitr}");
    assert!(
        pitr["detail"]
            .as_str()
            .unwrap()
            .starts_with("off on curity-accounts, curity-links")
            && pitr["fix"]
                .as_str()
                .unwrap()
                .contains("tables create --pitr"),
        "{pitr}"
    );
    let deletion = check(&report, "deletion protection");
    assert_eq!(deletion["status"], "warn", "{deletion}");
    assert!(
        deletion["detail"]
            .as_str()
            .unwrap()
            .contains("curity-sessions")
            && deletion["fix"]
                .as_str()
                .unwrap()
                .contains("tables create --deletion-protection"),
        "{deletion}"
    );
}

/// Tables with point-in-time recovery and deletion protection pass both
/// checks; one table without PITR is named in a warning.
#[tokio::test]
async fn protected_tables_pass_and_a_table_without_pitr_is_named() {
    let fx = fixture(false).await;
    let root = aws_sdk_dynamodb::Client::new(&fx.ms.root_config());
    let admin = TableAdmin {
        client: &root,
        prefix: "",
        method: "access_key",
    };
    let protection = Protection {
        pitr: true,
        deletion_protection: true,
        ..Protection::default()
    };
    admin
        .create_protected(Billing::OnDemand, false, &protection)
        .await
        .unwrap();
    let cfg = fx.doctor_config(
        "access_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"test\"\nsecret_access_key = \"test\"",
    );
    let (_, report) = fx.doctor(&cfg, &[]).await;
    assert_eq!(check(&report, "point-in-time recovery")["status"], "ok");
    assert_eq!(check(&report, "deletion protection")["status"], "ok");

    root.update_continuous_backups()
        .table_name("curity-tokens")
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (_, report) = fx.doctor(&cfg, &[]).await;
    let pitr = check(&report, "point-in-time recovery");
    assert_eq!(pitr["status"], "warn", "{pitr}");
    assert_eq!(pitr["detail"], "off on curity-tokens", "{pitr}");
}

#[tokio::test]
async fn missing_webhook_variables_say_the_pod_was_not_mutated() {
    let fx = fixture(false).await;
    let cfg = fx.doctor_config("");
    let (code, report) = fx.doctor(&cfg, &[]).await;
    assert_eq!(code, 1);
    let c = check(&report, "webhook env");
    assert_eq!(c["status"], "fail");
    assert!(
        c["fix"].as_str().unwrap().contains("rollout restart"),
        "{c}"
    );
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains("eks.amazonaws.com/role-arn"),
        "{c}"
    );
}

#[tokio::test]
async fn a_missing_token_file_is_named() {
    let mut fx = fixture(false).await;
    fx.env.set("AWS_ROLE_ARN", fx.iam.role_arn.clone()).set(
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
    );
    let cfg = fx.doctor_config("");
    let (code, report) = fx.doctor(&cfg, &[]).await;
    assert_eq!(code, 1);
    let c = check(&report, "token file");
    assert_eq!(c["status"], "fail");
    assert!(
        c["detail"].as_str().unwrap().contains("does not exist"),
        "{c}"
    );
}

#[tokio::test]
async fn wrong_audience_subject_and_expiry_are_each_reported() {
    let mut fx = fixture(true).await;
    let mut claims = good_claims();
    claims["aud"] = json!("kubernetes.default.svc");
    claims["sub"] = json!("system:serviceaccount:default:default");
    claims["exp"] = json!(1_000_000_000u64);
    fx.irsa_env(&ministack::jwt(claims));
    let cfg = fx.doctor_config("");
    let (code, report) = fx.doctor(&cfg, &["--expect-subject", SA]).await;
    assert_eq!(code, 1);
    for name in ["token aud", "token sub", "token exp"] {
        assert_eq!(check(&report, name)["status"], "fail", "{name}: {report:#}");
    }
    // STS refuses the token too, and the report says so instead of crashing.
    let c = check(&report, "credentials");
    assert_eq!(c["status"], "fail");
    assert!(
        c["detail"].as_str().unwrap().contains("web_identity"),
        "{c}"
    );
}

#[tokio::test]
async fn running_as_another_identity_than_the_role_is_a_silent_fallback() {
    let mut fx = fixture(true).await;
    // Static keys in the environment stand in for the node's role.
    fx.env
        .set("AWS_ACCESS_KEY_ID", fx.iam.app_key_id.clone())
        .set("AWS_SECRET_ACCESS_KEY", fx.iam.app_secret.clone());
    let cfg = fx.doctor_config("access_method = \"default_chain\"");
    let role = fx.iam.role_arn.clone();
    let (code, report) = fx.doctor(&cfg, &["--expect-role-arn", &role]).await;
    assert_eq!(code, 1, "{report:#}");
    let c = check(&report, "identity");
    assert_eq!(c["status"], "fail");
    assert!(c["detail"].as_str().unwrap().contains("user/app"), "{c}");
    assert!(c["fix"].as_str().unwrap().contains("fall back"), "{c}");
}

#[tokio::test]
async fn a_policy_without_query_fails_every_index_check_and_missing_tables_are_named() {
    let fx = fixture(false).await;
    let root = aws_sdk_dynamodb::Client::new(&fx.ms.root_config());
    TableAdmin {
        client: &root,
        prefix: "",
        method: "access_key",
    }
    .create_all(Billing::OnDemand, false)
    .await
    .unwrap();
    // One table is missing.
    root.delete_table()
        .table_name("curity-bucket")
        .send()
        .await
        .unwrap();
    let mut policy: Value =
        serde_json::from_str(&stdout(&run_cli(&fx.env, None, &["policy"]).await)).unwrap();
    policy["Statement"][0]["Action"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a != "dynamodb:Query");
    let role = fx
        .ms
        .create_role_with_policy(&fx.iam, "no-query", &policy.to_string())
        .await;
    let cfg = fx.doctor_config(&format!(
        "access_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\nrole_arn = \"{role}\"",
        fx.iam.app_key_id, fx.iam.app_secret
    ));
    let (code, report) = fx.doctor(&cfg, &[]).await;
    assert_eq!(code, 1);
    let idx = check(&report, "index curity-links/list-links-index");
    assert_eq!(idx["status"], "fail");
    assert!(idx["fix"].as_str().unwrap().contains("/index/*"), "{idx}");
    let t = check(&report, "table curity-bucket");
    assert_eq!(t["status"], "fail");
    assert!(t["fix"].as_str().unwrap().contains("tables create"), "{t}");
    assert_eq!(check(&report, "table curity-accounts")["status"], "ok");
    // The service's policy does not grant reading PITR: said, as a warning.
    let pitr = check(&report, "point-in-time recovery");
    assert_eq!(pitr["status"], "warn", "{pitr}");
    assert!(
        pitr["detail"]
            .as_str()
            .unwrap()
            .contains("may not call dynamodb:DescribeContinuousBackups"),
        "{pitr}"
    );
}

#[tokio::test]
async fn human_output_lists_checks_and_fixes() {
    let fx = fixture(false).await;
    let cfg = fx.doctor_config("");
    let out = run_cli(&fx.env, Some(&cfg), &["doctor"]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("[FAIL] webhook env"), "{text}");
    assert!(text.contains("fix: "), "{text}");
    assert!(text.contains("check(s) failed"), "{text}");
}
