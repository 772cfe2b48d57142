//! Each AWS access method end to end against MiniStack with AUTH=true:
//! the service, configured only through its own config (and the standard
//! AWS variables where the method reads them), serves reads and writes on a
//! `curity-*` table, STS names the expected identity, and the same identity
//! is denied on a table outside `curity-*` with an error that says so.

use crate::support;

use std::time::{Duration, Instant};

use curity_dynamodb::{
    api::status::detail,
    proto::{
        GetSessionRequest, InsertSessionRequest, Session, error_detail::Reason,
        session_service_client::SessionServiceClient,
    },
};
use support::{
    imds::FakeImds,
    ministack::Fixture,
    service::{Service, run_cli, stderr, stdout},
};
use tonic::Code;

/// The tables exist (made by an administrator): ours under `curity-*`, and
/// the same set under `other-` that the identity must not reach.
/// At TRACE level: every method's logs are checked for secrets.
async fn fixture() -> Fixture {
    let mut fx = Fixture::start(&["", "other-"]).await;
    fx.env.set("RUST_LOG", "trace");
    fx
}

/// No secret of any credential method reaches a log line: the static
/// secret key, the web-identity token, and whatever STS or IMDS hand out
/// (named by the fields their responses carry them in).
fn assert_no_secret_logged(logs: &[String], secrets: &[&str]) {
    assert!(logs.len() > 20, "TRACE produced only {} lines", logs.len());
    // STS-issued secrets are unknown to the test: their carriers are not.
    let markers = ["SecretAccessKey", "SessionToken", "x-amz-security-token"];
    for secret in secrets.iter().chain(&markers).filter(|s| !s.is_empty()) {
        let hits: Vec<&String> = logs.iter().filter(|l| l.contains(secret)).take(2).collect();
        assert!(hits.is_empty(), "{secret:?} logged:\n{hits:#?}");
    }
}

impl Fixture {
    /// A config file: region, DynamoDB endpoint, prefix, plus `method`.
    fn config(&self, name: &str, prefix: &str, method: &str) -> std::path::PathBuf {
        self.env.write(
            name,
            &format!(
                "[server]\nreadiness_retry_seconds = 1\n\n[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\n{method}\n\n[dynamodb]\ntable_name_prefix = \"{prefix}\"\n",
                self.ms.endpoint
            ),
        )
    }

    /// The whole allow/deny proof for one access method, with no secret
    /// in the logs; those logs, for checks of the method's own secrets.
    async fn assert_allowed_and_denied(&self, method: &str, expected_arn: &str) -> Vec<String> {
        let allowed = self.config("allowed.toml", "", method);
        let svc = Service::start(&self.env, &allowed, &[]).await;
        let ch = support::channel(svc.addr).await;
        assert!(
            support::wait_serving(&ch, Duration::from_secs(20)).await,
            "health never SERVING:\n{}",
            svc.logs().join("\n")
        );
        let mut client = SessionServiceClient::new(ch);
        client
            .insert_session(InsertSessionRequest {
                session: Some(Session {
                    id: "cred-test".into(),
                    data: "state".into(),
                    expires_at: 1_900_000_000,
                }),
            })
            .await
            .expect("write to curity-sessions");
        let got = support::read::session(&mut client, "cred-test")
            .await
            .expect("session present");
        assert_eq!(got.data, "state");

        let out = run_cli(&self.env, Some(&allowed), &["whoami", "--json"]).await;
        assert!(out.status.success(), "whoami failed: {}", stderr(&out));
        let id: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("whoami json");
        assert_eq!(
            id["arn"].as_str(),
            Some(expected_arn),
            "identity used: {id}"
        );

        let denied = self.config("denied.toml", "other-", method);
        let svc2 = Service::start(&self.env, &denied, &[]).await;
        let mut client = SessionServiceClient::new(support::channel(svc2.addr).await);
        let err = client
            .insert_session(InsertSessionRequest {
                session: Some(Session {
                    id: "x".into(),
                    data: "y".into(),
                    expires_at: 1,
                }),
            })
            .await
            .expect_err("write outside curity-* must be denied");
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert!(err.message().contains("access denied"), "{}", err.message());
        assert!(
            err.message().contains("dynamodb:PutItem"),
            "{}",
            err.message()
        );
        assert!(
            err.message().contains("table/other-curity-sessions"),
            "{}",
            err.message()
        );
        let d = detail(&err).expect("error detail");
        assert_eq!(d.reason(), Reason::AccessDenied);
        assert_eq!(d.field, "dynamodb:PutItem");
        assert_eq!(d.table, "other-curity-sessions");

        let jwt = std::fs::read_to_string(&self.iam.jwt_good).expect("token file");
        let mut logs = svc.logs();
        logs.extend(svc2.logs());
        logs.extend(stderr(&out).lines().map(str::to_string));
        assert_no_secret_logged(&logs, &[&self.iam.app_secret, jwt.trim()]);
        logs
    }

    fn role_arn_session(&self, session: &str) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/scoped-role/{session}",
            self.iam.account
        )
    }
}

#[tokio::test]
async fn web_identity_is_the_default_and_reads_the_webhook_env() {
    let mut fx = fixture().await;
    fx.env
        .set("AWS_ROLE_ARN", fx.iam.role_arn.clone())
        .set(
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            fx.iam.jwt_good.display().to_string(),
        )
        .set("AWS_ROLE_SESSION_NAME", "irsa-pod");
    // No access_method key at all: web_identity is the default.
    fx.assert_allowed_and_denied("", &fx.role_arn_session("irsa-pod"))
        .await;
}

#[tokio::test]
async fn web_identity_with_a_foreign_subject_fails_saying_sts_refused() {
    let fx = fixture().await;
    let method = format!(
        "access_method = \"web_identity\"\n[aws.web_identity]\nrole_arn = \"{}\"\ntoken_file = \"{}\"",
        fx.iam.role_arn,
        fx.iam.jwt_bad.display()
    );
    let cfg = fx.config("bad-sub.toml", "", &method);
    let out = run_cli(&fx.env, Some(&cfg), &["whoami"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let msg = stderr(&out);
    assert!(msg.contains("web_identity"), "{msg}");
    assert!(msg.contains("AssumeRoleWithWebIdentity"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");

    let svc = Service::start(&fx.env, &cfg, &[]).await;
    let ch = support::channel(svc.addr).await;
    let mut client = SessionServiceClient::new(ch.clone());
    let err = client
        .get_session(GetSessionRequest { id: "a".into() })
        .await
        .expect_err("no credentials, no data");
    // UNAVAILABLE, not UNAUTHENTICATED: the caller's own authentication is
    // fine. The cause (STS's words, ARNs) stays in the server log.
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains("web_identity"), "{}", err.message());
    assert!(!err.message().contains("arn:aws"), "{}", err.message());
    let d = detail(&err).expect("detail");
    assert_eq!(d.reason(), Reason::Credentials);
    assert!(d.retryable);
    assert!(!support::wait_serving(&ch, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn access_key_alone_acts_as_the_iam_user() {
    let fx = fixture().await;
    let method = format!(
        "access_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"",
        fx.iam.app_key_id, fx.iam.app_secret
    );
    fx.assert_allowed_and_denied(&method, &fx.iam.user_arn)
        .await;
}

#[tokio::test]
async fn access_key_with_role_arn_assumes_the_role() {
    let fx = fixture().await;
    let method = format!(
        "access_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\nrole_arn = \"{}\"",
        fx.iam.app_key_id, fx.iam.app_secret, fx.iam.role_arn
    );
    fx.assert_allowed_and_denied(&method, &fx.role_arn_session("curity-dynamodb"))
        .await;
}

#[tokio::test]
async fn assumed_role_credentials_are_refreshed_before_they_expire() {
    let fx = fixture().await;
    // 12-second sessions: MiniStack rejects them once expired, so a call
    // after 13 s only succeeds if the provider fetched new ones.
    let method = format!(
        "access_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\nrole_arn = \"{}\"\n[aws.assume_role]\nduration_seconds = 12",
        fx.iam.app_key_id, fx.iam.app_secret, fx.iam.role_arn
    );
    let cfg = fx.config("refresh.toml", "", &method);
    let svc = Service::start(&fx.env, &cfg, &[]).await;
    let mut client = SessionServiceClient::new(support::channel(svc.addr).await);
    let write = |id: &str| InsertSessionRequest {
        session: Some(Session {
            id: id.into(),
            data: "d".into(),
            expires_at: 1,
        }),
    };
    client
        .insert_session(write("before"))
        .await
        .expect("first write");
    // The access key ids the provider loaded so far, in order.
    let loaded = || -> Vec<String> {
        svc.events("aws credentials loaded")
            .iter()
            .filter_map(|e| e["fields"]["access_key_id"].as_str().map(String::from))
            .collect()
    };
    let keys_before = loaded();
    assert!(!keys_before.is_empty());

    // Writes go on succeeding while the provider loads new credentials,
    // which it must do before the first ones expire (12 s after they were
    // issued, so within 12 s of the first write).
    let expiry = Instant::now() + Duration::from_secs(12);
    let mut writes = 0;
    let keys_after = loop {
        writes += 1;
        client
            .insert_session(write(&format!("meanwhile-{writes}")))
            .await
            .expect("a write while the credentials are refreshed");
        let keys = loaded();
        if keys.iter().any(|k| !keys_before.contains(k)) {
            break keys;
        }
        assert!(
            Instant::now() < expiry,
            "no new credentials before the first expired: {keys:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let newest = keys_after.last().expect("a key");
    assert!(
        !keys_before.contains(newest),
        "the newest credentials are new: {keys_after:?}"
    );
    client
        .insert_session(write("after"))
        .await
        .expect("a write with the new credentials");
}

#[tokio::test]
async fn profile_with_role_arn_reads_the_shared_files_and_assumes_the_role() {
    let fx = fixture().await;
    fx.env.write(
        "aws-credentials",
        &format!(
            "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            fx.iam.app_key_id, fx.iam.app_secret
        ),
    );
    fx.env
        .write("aws-config", "[profile ci]\nregion = us-east-1\n");
    let method = format!(
        "access_method = \"profile\"\n[aws.profile]\nname = \"ci\"\nrole_arn = \"{}\"",
        fx.iam.role_arn
    );
    fx.assert_allowed_and_denied(&method, &fx.role_arn_session("curity-dynamodb"))
        .await;
}

#[tokio::test]
async fn instance_profile_uses_imdsv2_credentials() {
    let mut fx = fixture().await;
    let creds = fx.ms.assume_scoped_role(&fx.iam, "ec2-instance").await;
    let imds = FakeImds::start("curity-node-role", creds.clone(), Duration::from_secs(3600)).await;
    fx.env.remove("AWS_EC2_METADATA_DISABLED");
    let method = format!(
        "access_method = \"instance_profile\"\n[aws.instance_profile]\nendpoint = \"{}\"",
        imds.endpoint
    );
    let logs = fx
        .assert_allowed_and_denied(&method, &fx.role_arn_session("ec2-instance"))
        .await;
    assert_no_secret_logged(
        &logs,
        &[
            creds.secret_access_key(),
            creds.session_token().unwrap_or(""),
        ],
    );
    assert!(
        imds.credential_fetches
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
}

#[tokio::test]
async fn default_chain_picks_web_identity_env_vars() {
    let mut fx = fixture().await;
    fx.env
        .set("AWS_ROLE_ARN", fx.iam.role_arn.clone())
        .set(
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            fx.iam.jwt_good.display().to_string(),
        )
        .set("AWS_ROLE_SESSION_NAME", "chain-irsa");
    fx.assert_allowed_and_denied(
        "access_method = \"default_chain\"",
        &fx.role_arn_session("chain-irsa"),
    )
    .await;
}

#[tokio::test]
async fn default_chain_picks_static_env_keys() {
    let mut fx = fixture().await;
    fx.env
        .set("AWS_ACCESS_KEY_ID", fx.iam.app_key_id.clone())
        .set("AWS_SECRET_ACCESS_KEY", fx.iam.app_secret.clone());
    let user = fx.iam.user_arn.clone();
    fx.assert_allowed_and_denied("access_method = \"default_chain\"", &user)
        .await;
}
