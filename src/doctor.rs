//! `curity-dynamodb doctor`: which AWS identity the service really gets and
//! why, with the fix for each known IRSA failure. Every check reports; the
//! run fails when any check fails.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{Intercept, context::BeforeDeserializationInterceptorContextRef},
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::{
    config_bag::ConfigBag,
    date_time::{DateTime, Format},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;

use crate::{
    aws::{Aws, error::classify},
    config::{AccessMethod, Config, EnvLookup},
    store::{
        StoreError, backfill,
        expr::{Cond, Expr},
        schema::{self, AttrType},
    },
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

/// What the operator expects; each check compares against it when given.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub role_arn: Option<String>,
    pub subject: Option<String>,
    pub audience: String,
}

impl Default for Expectations {
    fn default() -> Self {
        Self {
            role_arn: None,
            subject: None,
            audience: "sts.amazonaws.com".into(),
        }
    }
}

impl Report {
    fn push(
        &mut self,
        name: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check {
            name: name.into(),
            status,
            detail: detail.into(),
            fix,
        });
    }

    fn ok(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.push(name, Status::Ok, detail, None);
    }

    fn fail(&mut self, name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(name, Status::Fail, detail, Some(fix.into()));
    }

    fn warn(&mut self, name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(name, Status::Warn, detail, Some(fix.into()));
    }

    /// Human-readable lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let tag = match c.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            out.push_str(&format!("[{tag}] {}: {}\n", c.name, c.detail));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("       fix: {fix}\n"));
            }
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count();
        out.push_str(&if failed == 0 {
            "doctor: all checks passed\n".to_string()
        } else {
            format!("doctor: {failed} check(s) failed\n")
        });
        out
    }
}

const RESTART_FIX: &str = "the EKS pod identity webhook did not mutate this pod: give the \
    ServiceAccount the annotation eks.amazonaws.com/role-arn, run the pod with that \
    serviceAccountName, and restart it (kubectl rollout restart deploy/<name>): annotations \
    added after a pod started only reach new pods";

/// Runs every check. Never panics on bad input; each problem is a check.
pub async fn run(path: Option<&Path>, expect: &Expectations, env: EnvLookup<'_>) -> Report {
    let mut report = Report::default();
    let config = match Config::parse(path) {
        Ok(c) => c,
        Err(e) => {
            report.fail(
                "config",
                e.to_string(),
                "fix the configuration file or CURITY_DYNAMODB_* variables",
            );
            return finish(report);
        }
    };
    let method = config.aws.access_method;
    report.ok("access method", method.as_str());

    let uses_web_identity = match method {
        AccessMethod::WebIdentity => true,
        AccessMethod::DefaultChain => env("AWS_WEB_IDENTITY_TOKEN_FILE").is_some(),
        _ => false,
    };
    if uses_web_identity {
        check_web_identity(&config, expect, env, &mut report);
    }

    let config = match config.validate(env) {
        Ok(c) => c,
        Err(e) => {
            report.fail(
                "config",
                e.to_string(),
                "set the keys named above (or their AWS_* variables)",
            );
            return finish(report);
        }
    };
    report_endpoints(&config, env, &mut report);

    let aws = match Aws::connect(&config.aws).await {
        Ok(a) => a,
        Err(e) => {
            report.fail("credentials", e.to_string(), "fix the key named above");
            return finish(report);
        }
    };
    if !check_credentials(&aws, &mut report).await {
        return finish(report);
    }
    let role = expect.role_arn.clone().or_else(|| {
        uses_web_identity
            .then(|| config.aws.web_identity.role_arn.clone())
            .flatten()
    });
    check_identity(&aws, role.as_deref(), &mut report).await;
    check_tables(&aws, &config, &mut report).await;
    check_initials(&aws, &config, &mut report).await;
    finish(report)
}

fn finish(mut report: Report) -> Report {
    report.ok = report.checks.iter().all(|c| c.status != Status::Fail);
    report
}

fn check_web_identity(
    config: &Config,
    expect: &Expectations,
    env: EnvLookup<'_>,
    report: &mut Report,
) {
    let w = &config.aws.web_identity;
    let role = w.role_arn.clone().or_else(|| env("AWS_ROLE_ARN"));
    let token_file = w
        .token_file
        .clone()
        .or_else(|| env("AWS_WEB_IDENTITY_TOKEN_FILE").map(Into::into));
    let (Some(role), Some(token_file)) = (role, token_file) else {
        report.fail(
            "webhook env",
            "AWS_ROLE_ARN and/or AWS_WEB_IDENTITY_TOKEN_FILE are not set",
            RESTART_FIX,
        );
        return;
    };
    report.ok(
        "webhook env",
        format!("AWS_ROLE_ARN={role}, token file {}", token_file.display()),
    );
    let token = match std::fs::read_to_string(&token_file) {
        Ok(t) => t,
        Err(e) => {
            let (detail, fix) = token_file_problem(&token_file, &e);
            report.fail("token file", detail, fix);
            return;
        }
    };
    report.ok(
        "token file",
        format!("{} is readable", token_file.display()),
    );
    for (status, name, detail, fix) in check_claims(&token, expect, SystemTime::now()) {
        report.push(name, status, detail, fix);
    }
}

/// What an unreadable token file means, and its fix.
pub fn token_file_problem(path: &Path, e: &std::io::Error) -> (String, String) {
    match e.kind() {
        std::io::ErrorKind::NotFound => (
            format!("{} does not exist", path.display()),
            format!("the projected token volume is not mounted: {RESTART_FIX}"),
        ),
        std::io::ErrorKind::PermissionDenied => (
            format!("{} is not readable by this user", path.display()),
            "set the pod's securityContext.fsGroup (the chart uses 10001) so a non-root \
             user can read the projected token"
                .into(),
        ),
        _ => (
            format!("{}: {e}", path.display()),
            "check the projected token volume".into(),
        ),
    }
}

type ClaimCheck = (Status, &'static str, String, Option<String>);

/// The token's `aud`, `iss`, `sub` and `exp` against expectations. The
/// signature is STS's business; doctor only reads the claims.
pub fn check_claims(token: &str, expect: &Expectations, now: SystemTime) -> Vec<ClaimCheck> {
    let mut out = Vec::new();
    let claims = token
        .trim()
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let Some(claims) = claims else {
        out.push((
            Status::Fail,
            "token claims",
            "the token file does not hold a JWT".into(),
            Some("the file must be the projected service-account token".into()),
        ));
        return out;
    };
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(a) => a == &expect.audience,
        serde_json::Value::Array(a) => a.iter().any(|v| v == expect.audience.as_str()),
        _ => false,
    };
    if aud_ok {
        out.push((
            Status::Ok,
            "token aud",
            format!("contains {}", expect.audience),
            None,
        ));
    } else {
        out.push((
            Status::Fail,
            "token aud",
            format!("aud is {}, expected {}", claims["aud"], expect.audience),
            Some(format!(
                "set the ServiceAccount annotation eks.amazonaws.com/audience to {} (or remove it), \
                 and list that audience on the IAM OIDC provider",
                expect.audience
            )),
        ));
    }
    match claims["iss"].as_str() {
        Some(iss) => out.push((
            Status::Ok,
            "token iss",
            format!(
                "{iss} (the IAM OIDC provider and the role's trust policy must name this issuer)"
            ),
            None,
        )),
        None => out.push((
            Status::Fail,
            "token iss",
            "no iss claim".into(),
            Some("the file must be the projected service-account token".into()),
        )),
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    match &expect.subject {
        Some(want) if want != sub => out.push((
            Status::Fail,
            "token sub",
            format!("sub is {sub:?}, expected {want:?}"),
            Some(format!(
                "run the pod as the service account the role trusts ({want}), or change the \
                 trust policy's :sub condition"
            )),
        )),
        _ => out.push((Status::Ok, "token sub", sub.to_string(), None)),
    }
    let now_s = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match claims["exp"].as_i64() {
        Some(exp) if exp <= now_s => out.push((
            Status::Fail,
            "token exp",
            format!("expired {} s ago", now_s - exp),
            Some("the kubelet refreshes projected tokens; an expired file means the volume is stale: restart the pod".into()),
        )),
        Some(exp) => out.push((Status::Ok, "token exp", format!("valid for {} s", exp - now_s), None)),
        None => out.push((
            Status::Fail,
            "token exp",
            "no exp claim".into(),
            Some("the file must be the projected service-account token".into()),
        )),
    }
    out
}

fn report_endpoints(config: &Config, env: EnvLookup<'_>, report: &mut Report) {
    let region = config.region();
    let ddb = config
        .aws
        .endpoint_url
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_DYNAMODB"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| format!("https://dynamodb.{region}.amazonaws.com"));
    let sts = env("AWS_ENDPOINT_URL_STS")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
    report.ok("region", region.to_string());
    report.ok("endpoints", format!("DynamoDB {ddb}, STS {sts}"));
}

async fn check_credentials(aws: &Aws, report: &mut Report) -> bool {
    match aws.credentials().await {
        Ok(c) => {
            let expires = c
                .expiry()
                .and_then(|e| e.duration_since(SystemTime::now()).ok());
            match expires {
                Some(left) if left < Duration::from_secs(300) => report.warn(
                    "credentials",
                    format!("key {} expires in {} s", c.access_key_id(), left.as_secs()),
                    "they are refreshed automatically; a short lifetime means frequent STS calls",
                ),
                Some(left) => report.ok(
                    "credentials",
                    format!(
                        "key {} (temporary, expires in {} s, refreshed before)",
                        c.access_key_id(),
                        left.as_secs()
                    ),
                ),
                None => report.ok(
                    "credentials",
                    format!("key {} (long-lived)", c.access_key_id()),
                ),
            }
            true
        }
        Err(e) => {
            report.fail(
                "credentials",
                format!("cannot obtain credentials ({}): {e}", aws.method().as_str()),
                "for web_identity, check the role's trust policy: its Federated principal must be \
                 the cluster's OIDC provider and its :sub / :aud conditions must match the token",
            );
            false
        }
    }
}

/// Captures the `Date` header of a response, for the clock-skew check.
#[derive(Debug, Clone, Default)]
struct DateCapture(Arc<Mutex<Option<String>>>);

impl Intercept for DateCapture {
    fn name(&self) -> &'static str {
        "DateCapture"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(d) = context.response().headers().get("date")
            && let Ok(mut slot) = self.0.lock()
        {
            *slot = Some(d.to_string());
        }
        Ok(())
    }
}

/// Clock skew classification: SigV4 rejects requests more than 5 minutes off.
pub fn skew_status(skew: Duration) -> Status {
    if skew < Duration::from_secs(60) {
        Status::Ok
    } else if skew < Duration::from_secs(300) {
        Status::Warn
    } else {
        Status::Fail
    }
}

async fn check_identity(aws: &Aws, expected_role: Option<&str>, report: &mut Report) {
    let date = DateCapture::default();
    let out = aws
        .sts_client()
        .get_caller_identity()
        .customize()
        .interceptor(date.clone())
        .send()
        .await;
    let identity = match out {
        Ok(o) => o,
        Err(e) => {
            let err = classify(
                &e,
                crate::aws::error::CallSite {
                    action: "sts:GetCallerIdentity",
                    table: "",
                    method: aws.method().as_str(),
                },
            );
            report.fail(
                "identity",
                err.to_string(),
                "check the STS endpoint and the credentials above",
            );
            return;
        }
    };
    let arn = identity.arn.unwrap_or_default();
    match expected_role {
        Some(role) if !assumed_role_matches(&arn, role) => report.fail(
            "identity",
            format!("STS says this is {arn}, not the role {role}"),
            "the credentials do not come from the role: a silent fall back (the node's instance \
             role through IMDS, or static keys in the environment). Make sure the webhook \
             variables are present and aws.access_method is web_identity",
        ),
        Some(role) => report.ok("identity", format!("{arn} (role {role})")),
        None => report.ok("identity", arn),
    }
    let server = date
        .0
        .lock()
        .ok()
        .and_then(|d| d.clone())
        .and_then(|d| DateTime::from_str(&d, Format::HttpDate).ok());
    if let Some(server) = server {
        let local = DateTime::from(SystemTime::now());
        let skew = Duration::from_secs(server.secs().abs_diff(local.secs()));
        let detail = format!("{} s between this host and STS", skew.as_secs());
        match skew_status(skew) {
            Status::Ok => report.ok("clock skew", detail),
            Status::Warn => report.warn(
                "clock skew",
                detail,
                "sync the node's clock (chrony / Amazon Time Sync)",
            ),
            Status::Fail => report.fail(
                "clock skew",
                detail,
                "requests signed more than 5 minutes off are rejected: sync the node's clock",
            ),
        }
    } else {
        report.warn(
            "clock skew",
            "the STS response had no Date header",
            "none needed if calls succeed",
        );
    }
}

/// `arn:aws:sts::<acct>:assumed-role/<name>/<session>` is role
/// `arn:aws:iam::<acct>:role/<path/><name>`.
pub fn assumed_role_matches(caller: &str, role_arn: &str) -> bool {
    let role_name = role_arn.rsplit('/').next().unwrap_or_default();
    let role_account = role_arn.split(':').nth(4).unwrap_or_default();
    let mut parts = caller.split(':');
    let account = parts.nth(4).unwrap_or_default();
    let resource = parts.next().unwrap_or_default();
    let mut seg = resource.split('/');
    seg.next() == Some("assumed-role")
        && seg.next() == Some(role_name)
        && account == role_account
        && !role_name.is_empty()
}

async fn check_tables(aws: &Aws, config: &Config, report: &mut Report) {
    let client = aws.dynamodb_client();
    let prefix = &config.dynamodb.table_name_prefix;
    let method = aws.method().as_str();
    for def in schema::ALL {
        let table = def.name(prefix);
        let at = |action| crate::aws::error::CallSite {
            action,
            table: &table,
            method,
        };
        match client.describe_table().table_name(&table).send().await {
            Ok(_) => report.ok(format!("table {table}"), "DescribeTable allowed"),
            Err(e) => {
                let err = classify(&e, at("dynamodb:DescribeTable"));
                let fix = match &err {
                    StoreError::TableMissing { .. } => {
                        "create it: curity-dynamodb tables create (with table-admin rights)"
                            .to_string()
                    }
                    StoreError::AccessDenied { .. } => format!(
                        "grant dynamodb:DescribeTable on table/{prefix}curity-* (curity-dynamodb policy)"
                    ),
                    _ => "see the error".to_string(),
                };
                report.fail(format!("table {table}"), err.to_string(), fix);
                continue;
            }
        }
        for index in def.global_indexes.iter().chain(def.local_indexes) {
            let probe = match index.hash.ty {
                AttrType::S => AttributeValue::S("curity-dynamodb-doctor".into()),
                AttrType::N => AttributeValue::N("0".into()),
            };
            let mut e = Expr::new();
            let key = e.cond(&Cond::eq(index.hash.name, probe));
            let (names, values) = e.into_parts();
            let result = client
                .query()
                .table_name(&table)
                .index_name(index.name)
                .key_condition_expression(key)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .limit(1)
                .send()
                .await;
            let name = format!("index {table}/{}", index.name);
            match result {
                Ok(_) => report.ok(name, "Query allowed"),
                Err(e) => {
                    let err = classify(&e, at("dynamodb:Query"));
                    let fix = match &err {
                        StoreError::AccessDenied { .. } => format!(
                            "grant dynamodb:Query on table/{prefix}curity-*/index/* (the seed's \
                             policy lists only the tables): curity-dynamodb policy"
                        ),
                        _ => "compare the table with `curity-dynamodb tables check`".to_string(),
                    };
                    report.fail(name, err.to_string(), fix);
                }
            }
        }
    }
}

/// Items read for the initials sample: bounded, whatever the table's size.
const INITIALS_SAMPLE: i32 = 1000;

/// Accounts written by plugin versions before October 2022 lack initials,
/// and prefix / initials filters miss them: counted on a bounded sample.
async fn check_initials(aws: &Aws, config: &Config, report: &mut Report) {
    let client = aws.dynamodb_client();
    let table = schema::ACCOUNTS.name(&config.dynamodb.table_name_prefix);
    let name = format!("initials in {table}");
    match backfill::sample_missing_initials(&client, &table, INITIALS_SAMPLE).await {
        Ok((0, scanned)) => report.ok(
            name,
            format!("no main item lacks initials among {scanned} items sampled"),
        ),
        Ok((found, scanned)) => report.warn(
            name,
            format!("{found} main items lack initials among {scanned} items sampled"),
            "curity-dynamodb tables backfill-initials (userName sw / emails sw and initials \
             filters miss these accounts until then)",
        ),
        Err(e) => {
            let method = aws.method().as_str();
            let err = classify(
                &e,
                crate::aws::error::CallSite {
                    action: "dynamodb:Scan",
                    table: &table,
                    method,
                },
            );
            report.warn(
                name,
                err.to_string(),
                "the sample needs dynamodb:Scan (curity-dynamodb policy grants it)",
            );
        }
    }
}

impl Aws {
    /// The credentials the service would use now (through the cache).
    pub async fn credentials(
        &self,
    ) -> Result<
        aws_credential_types::Credentials,
        aws_credential_types::provider::error::CredentialsError,
    > {
        match self.credentials_provider() {
            Some(p) => p.provide_credentials().await,
            None => Err(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no credentials provider configured",
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn statuses(token: &str, expect: &Expectations) -> Vec<(&'static str, Status)> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        check_claims(token, expect, now)
            .into_iter()
            .map(|(s, n, _, _)| (n, s))
            .collect()
    }

    #[test]
    fn claims_are_checked_against_expectations() {
        let expect = Expectations {
            subject: Some("system:serviceaccount:curity:dynamo-sa".into()),
            ..Expectations::default()
        };
        let good = jwt(
            serde_json::json!({"aud": ["sts.amazonaws.com"], "iss": "https://oidc", "sub": "system:serviceaccount:curity:dynamo-sa", "exp": 2000}),
        );
        assert!(
            statuses(&good, &expect)
                .iter()
                .all(|(_, s)| *s == Status::Ok)
        );
        let bad = jwt(
            serde_json::json!({"aud": "kubernetes", "iss": "https://oidc", "sub": "system:serviceaccount:x:y", "exp": 999}),
        );
        let s = statuses(&bad, &expect);
        for claim in ["token aud", "token sub", "token exp"] {
            assert!(s.contains(&(claim, Status::Fail)), "{claim}: {s:?}");
        }
        assert_eq!(
            statuses("not-a-jwt", &expect),
            [("token claims", Status::Fail)]
        );
    }

    #[test]
    fn unreadable_token_file_points_at_fs_group() {
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let (_, fix) = token_file_problem(Path::new("/t"), &e);
        assert!(fix.contains("fsGroup"), "{fix}");
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        let (_, fix) = token_file_problem(Path::new("/t"), &e);
        assert!(fix.contains("rollout restart"), "{fix}");
    }

    #[test]
    fn skew_thresholds_follow_sigv4() {
        assert_eq!(skew_status(Duration::from_secs(3)), Status::Ok);
        assert_eq!(skew_status(Duration::from_secs(120)), Status::Warn);
        assert_eq!(skew_status(Duration::from_secs(301)), Status::Fail);
    }

    #[test]
    fn assumed_role_arns_are_matched_to_role_arns() {
        let role = "arn:aws:iam::111122223333:role/team/curity-dynamo";
        assert!(assumed_role_matches(
            "arn:aws:sts::111122223333:assumed-role/curity-dynamo/s1",
            role
        ));
        assert!(!assumed_role_matches(
            "arn:aws:sts::111122223333:assumed-role/node-role/i-123",
            role
        ));
        assert!(!assumed_role_matches(
            "arn:aws:iam::111122223333:user/app",
            role
        ));
        assert!(!assumed_role_matches(
            "arn:aws:sts::999999999999:assumed-role/curity-dynamo/s1",
            role
        ));
    }
}
