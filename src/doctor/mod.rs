//! `curity-dynamodb doctor`: which AWS identity the service really gets and
//! why, with the fix for each known IRSA failure. Every check reports; the
//! run fails when any check fails.
//!
//! `irsa` checks the web identity env and token, `identity` which identity
//! AWS sees (and the clock), `tables` the tables, indexes and initials.

mod identity;
mod irsa;
mod tables;

use std::path::Path;

use serde::Serialize;

use crate::{
    aws::Aws,
    config::{AccessMethod, Config, EnvLookup},
};

pub use self::{
    identity::{assumed_role_matches, skew_status},
    irsa::{check_claims, token_file_problem},
};
use self::{
    identity::{check_credentials, check_identity, report_endpoints},
    irsa::check_web_identity,
    tables::{check_initials, check_tables},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Does not apply here (a local store has no AWS identity).
    Skip,
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
                Status::Skip => "skip",
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

/// The checks that apply to a local store (`--embedded`, `--endpoint`):
/// the tables and the initials; what concerns an AWS identity is skipped,
/// and says so.
pub async fn run_local(config: &Config, endpoint: &str) -> Report {
    let mut report = Report::default();
    report.ok("store", format!("local, at {endpoint}"));
    for name in ["web identity", "credentials", "identity", "clock skew"] {
        report.push(
            name,
            Status::Skip,
            "does not apply to a local store (placeholder credentials, no STS)",
            None,
        );
    }
    match Aws::connect(&config.aws).await {
        Ok(aws) => {
            check_tables(&aws, config, &mut report).await;
            check_initials(&aws, config, &mut report).await;
        }
        Err(e) => report.fail("store", e.to_string(), "fix the key named above"),
    }
    finish(report)
}

fn finish(mut report: Report) -> Report {
    report.ok = report.checks.iter().all(|c| c.status != Status::Fail);
    report
}
