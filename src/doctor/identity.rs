//! Which identity AWS sees: endpoints, credentials, the clock against
//! AWS's, and the caller identity against the expected role.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use aws_credential_types::provider::ProvideCredentials;
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

use crate::{
    aws::{
        Aws,
        error::{classify, is_unreachable, root_cause},
    },
    config::{Config, EnvLookup},
};

use super::{Report, Status};

pub(super) fn report_endpoints(config: &Config, env: EnvLookup<'_>, report: &mut Report) {
    let region = config.region();
    let ddb = config
        .aws
        .endpoint_url
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_DYNAMODB"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| format!("https://dynamodb.{region}.amazonaws.com"));
    let sts = crate::aws::sts_endpoint(region, env);
    report.ok("region", region.to_string());
    report.ok("endpoints", format!("DynamoDB {ddb}, STS {sts}"));
}

pub(super) async fn check_credentials(aws: &Aws, report: &mut Report) -> bool {
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
        Err(e) if is_unreachable(&e) => {
            report.fail(
                "credentials",
                format!(
                    "cannot obtain credentials ({}): {} did not answer: {}",
                    aws.method().as_str(),
                    aws.credentials_endpoint(),
                    root_cause(&e)
                ),
                unreachable_fix(aws),
            );
            false
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

/// An endpoint that does not answer is a network problem, not a policy one.
fn unreachable_fix(aws: &Aws) -> String {
    format!(
        "make {} reachable from here: DNS, egress rules (NetworkPolicy, security group), a proxy \
         (HTTPS_PROXY / NO_PROXY), or in private subnets an STS VPC endpoint; \
         AWS_ENDPOINT_URL_STS overrides the address",
        aws.credentials_endpoint()
    )
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

pub(super) async fn check_identity(aws: &Aws, expected_role: Option<&str>, report: &mut Report) {
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
        Err(e) if is_unreachable(&e) => {
            report.fail(
                "identity",
                format!(
                    "sts:GetCallerIdentity: STS at {} did not answer: {}",
                    aws.sts_endpoint(),
                    root_cause(&e)
                ),
                unreachable_fix(aws),
            );
            return;
        }
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
                err.full(),
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
            Status::Ok | Status::Skip => report.ok("clock skew", detail),
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
