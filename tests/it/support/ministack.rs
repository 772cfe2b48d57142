//! A MiniStack process with `AUTH=true` (real SigV4 checks, IAM policies,
//! web-identity trust conditions), one per test, killed on drop; and the
//! IAM set-up the credential tests share.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    time::Duration,
};

use aws_credential_types::Credentials;
use aws_types::{SdkConfig, region::Region};
use base64::Engine;
use tempfile::TempDir;

use super::{REGION, service::Env};

/// Where `scripts/test` installs MiniStack; `MINISTACK_BIN` overrides.
fn ministack_bin() -> PathBuf {
    if let Ok(p) = std::env::var("MINISTACK_BIN") {
        return PathBuf::from(p);
    }
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.venv-test/bin/ministack"
    ))
}

pub struct MiniStack {
    /// A shell that runs MiniStack and kills it when its stdin closes.
    child: Child,
    /// Closing it (on drop, or when the test binary exits however it
    /// exits) ends MiniStack: a per-binary instance in a `static` is never
    /// dropped, and must not outlive the binary.
    lifeline: Option<ChildStdin>,
    pub endpoint: String,
    _dir: TempDir,
}

/// Runs `$0` in the background and kills it once stdin reaches EOF.
const LIFELINE: &str = r#""$0" & child=$!
while read -r _; do :; done
kill "$child" 2>/dev/null
wait "$child""#;

static SHARED: tokio::sync::OnceCell<MiniStack> = tokio::sync::OnceCell::const_new();

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl MiniStack {
    pub async fn start() -> MiniStack {
        let bin = ministack_bin();
        assert!(
            bin.exists(),
            "ministack not found at {}: run scripts/test, which installs it (pinned) into .venv-test",
            bin.display()
        );
        for _attempt in 0..3 {
            let dir = tempfile::tempdir().expect("ministack dir");
            let port = free_port();
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(LIFELINE)
                .arg(&bin)
                .current_dir(dir.path())
                .env("GATEWAY_PORT", port.to_string())
                .env("BIND_HOST", "127.0.0.1")
                .env("AUTH", "true")
                .env("TMPDIR", dir.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn ministack");
            let lifeline = child.stdin.take();
            let mut ms = MiniStack {
                child,
                lifeline,
                endpoint: format!("http://127.0.0.1:{port}"),
                _dir: dir,
            };
            if ms.wait_healthy().await {
                return ms;
            }
            // Most likely the port was taken in the meantime: drop (kill)
            // and try another.
        }
        panic!("ministack did not become healthy in three attempts")
    }

    /// One MiniStack for the whole test binary, started by the first test
    /// that asks; tests isolate themselves by table prefix.
    pub async fn shared() -> &'static MiniStack {
        SHARED.get_or_init(MiniStack::start).await
    }

    async fn wait_healthy(&mut self) -> bool {
        let url = format!("{}/_ministack/health", self.endpoint);
        for _ in 0..300 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if http_get_ok(&url).await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// SDK config with MiniStack's root credentials (`test`/`test`).
    pub fn root_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    "test",
                    "test",
                    None,
                    None,
                    "ministack-root",
                )),
            )
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    /// IAM as the credential tests need it (see `Iam`).
    pub async fn setup_iam(&self, out: &Path) -> Iam {
        let root = self.root_config();
        let iam = aws_sdk_iam::Client::new(&root);
        let sts = aws_sdk_sts::Client::new(&root);
        let account = sts
            .get_caller_identity()
            .send()
            .await
            .expect("root identity")
            .account
            .expect("account");
        let ddb_policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "dynamodb:*",
                "Resource": [
                    "arn:aws:dynamodb:*:*:table/curity-*",
                    "arn:aws:dynamodb:*:*:table/curity-*/index/*"
                ]
            }]
        })
        .to_string();

        let user = iam
            .create_user()
            .user_name("app")
            .send()
            .await
            .expect("create user")
            .user
            .expect("user");
        iam.put_user_policy()
            .user_name("app")
            .policy_name("assume-and-tables")
            .policy_document(
                serde_json::json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
                        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": [
                            "arn:aws:dynamodb:*:*:table/curity-*",
                            "arn:aws:dynamodb:*:*:table/curity-*/index/*"
                        ]}
                    ]
                })
                .to_string(),
            )
            .send()
            .await
            .expect("user policy");
        let key = iam
            .create_access_key()
            .user_name("app")
            .send()
            .await
            .expect("access key")
            .access_key
            .expect("key");

        let issuer = ISSUER;
        iam.create_open_id_connect_provider()
            .url(format!("https://{issuer}"))
            .client_id_list("sts.amazonaws.com")
            .thumbprint_list("a".repeat(40))
            .send()
            .await
            .expect("oidc provider");
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": user.arn()}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow",
                 "Principal": {"Federated": format!("arn:aws:iam::{account}:oidc-provider/{issuer}")},
                 "Action": "sts:AssumeRoleWithWebIdentity",
                 "Condition": {"StringEquals": {
                     format!("{issuer}:sub"): "system:serviceaccount:curity:dynamo-sa",
                     format!("{issuer}:aud"): "sts.amazonaws.com"
                 }}}
            ]
        })
        .to_string();
        let role = iam
            .create_role()
            .role_name("scoped-role")
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("create role")
            .role
            .expect("role");
        iam.put_role_policy()
            .role_name("scoped-role")
            .policy_name("curity-tables")
            .policy_document(ddb_policy)
            .send()
            .await
            .expect("role policy");

        let jwt_good = out.join("jwt-good");
        let jwt_bad = out.join("jwt-bad");
        std::fs::write(
            &jwt_good,
            unsigned_jwt(issuer, "system:serviceaccount:curity:dynamo-sa"),
        )
        .expect("write jwt");
        std::fs::write(
            &jwt_bad,
            unsigned_jwt(issuer, "system:serviceaccount:other:intruder"),
        )
        .expect("write jwt");
        Iam {
            account,
            user_arn: user.arn().to_string(),
            app_key_id: key.access_key_id().to_string(),
            app_secret: key.secret_access_key().to_string(),
            role_arn: role.arn().to_string(),
            jwt_good,
            jwt_bad,
        }
    }

    /// A role trusted by the `app` user with exactly `policy` attached.
    pub async fn create_role_with_policy(&self, iam: &Iam, name: &str, policy: &str) -> String {
        let client = aws_sdk_iam::Client::new(&self.root_config());
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": iam.user_arn}, "Action": "sts:AssumeRole"}]
        })
        .to_string();
        let role = client
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("create role")
            .role
            .expect("role");
        client
            .put_role_policy()
            .role_name(name)
            .policy_name("generated")
            .policy_document(policy)
            .send()
            .await
            .expect("role policy");
        role.arn().to_string()
    }

    /// Assumes the scoped role with the app user's key, as an EC2 instance
    /// profile would hand out (for the fake IMDS).
    pub async fn assume_scoped_role(&self, iam: &Iam, session: &str) -> Credentials {
        let conf =
            SdkConfig::builder()
                .region(Region::new(REGION))
                .endpoint_url(&self.endpoint)
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(
                        Credentials::new(&iam.app_key_id, &iam.app_secret, None, None, "app"),
                    ),
                )
                .behavior_version(aws_config::BehaviorVersion::latest())
                .build();
        let out = aws_sdk_sts::Client::new(&conf)
            .assume_role()
            .role_arn(&iam.role_arn)
            .role_session_name(session)
            .send()
            .await
            .expect("assume role")
            .credentials
            .expect("credentials");
        Credentials::new(
            out.access_key_id(),
            out.secret_access_key(),
            Some(out.session_token().to_string()),
            None,
            "imds",
        )
    }
}

impl Drop for MiniStack {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let _ = self.child.wait();
    }
}

/// What `setup_iam` made: a user `app` (may assume the role, and use
/// `curity-*` tables itself), an OIDC provider, and `scoped-role`, trusted
/// by `app` and by the web identity `system:serviceaccount:curity:dynamo-sa`
/// (aud `sts.amazonaws.com`), allowed DynamoDB only on `table/curity-*` and
/// its indexes.
pub struct Iam {
    pub account: String,
    pub user_arn: String,
    pub app_key_id: String,
    pub app_secret: String,
    pub role_arn: String,
    pub jwt_good: PathBuf,
    pub jwt_bad: PathBuf,
}

/// The OIDC issuer the IAM set-up trusts (without `https://`).
pub const ISSUER: &str = "oidc.eks.us-east-1.amazonaws.com/id/CURITYTEST";

/// MiniStack checks the claims against the trust policy but not the
/// signature, so an unsigned token with the right claims stands in for the
/// EKS-projected one.
fn unsigned_jwt(issuer: &str, sub: &str) -> String {
    jwt(serde_json::json!({
        "iss": format!("https://{issuer}"),
        "sub": sub,
        "aud": "sts.amazonaws.com",
        "exp": 4_102_444_800u64
    }))
}

/// An unsigned JWT with the given claims.
pub fn jwt(claims: serde_json::Value) -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2ln",
        b64(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(claims)
    )
}

/// A bare HTTP/1.1 GET; true on a 200.
async fn http_get_ok(url: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut s) = tokio::net::TcpStream::connect(host).await else {
        return false;
    };
    let req = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    buf.starts_with(b"HTTP/1.1 200") || buf.starts_with(b"HTTP/1.0 200")
}

/// What most MiniStack tests start from: a MiniStack with IAM set up, a
/// clean child environment whose STS is MiniStack, and the `curity-*`
/// tables created by root under each of `prefixes`.
pub struct Fixture {
    pub ms: MiniStack,
    pub iam: Iam,
    pub env: Env,
}

impl Fixture {
    pub async fn start(prefixes: &[&str]) -> Fixture {
        let ms = MiniStack::start().await;
        let mut env = Env::new();
        env.set("AWS_ENDPOINT_URL_STS", ms.endpoint.clone());
        let iam = ms.setup_iam(env.home.path()).await;
        let root = aws_sdk_dynamodb::Client::new(&ms.root_config());
        for prefix in prefixes {
            curity_dynamodb::store::tables::TableAdmin {
                client: &root,
                prefix,
                method: "access_key",
            }
            .create_all(curity_dynamodb::store::tables::Billing::OnDemand, false)
            .await
            .expect("root creates tables");
        }
        Fixture { ms, iam, env }
    }
}
