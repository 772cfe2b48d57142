//! The five access methods, each turned into one credentials provider behind
//! one identity cache. Role ARNs always mean a *refreshing* AssumeRole
//! provider: the Kotlin plugin assumes once and its credentials die after
//! an hour.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use aws_config::{
    default_provider::credentials::DefaultCredentialsChain,
    imds,
    imds::credentials::ImdsCredentialsProvider,
    profile::ProfileFileCredentialsProvider,
    provider_config::ProviderConfig,
    sts::AssumeRoleProvider,
    web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider},
};
use aws_credential_types::{
    Credentials,
    provider::{ProvideCredentials, SharedCredentialsProvider, future},
};
use aws_types::{SdkConfig, region::Region};

use crate::config::{AccessMethod, AwsConfig};

#[derive(Debug, thiserror::Error)]
pub enum CredentialSetupError {
    #[error("{key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Counts credential loads so operators (and tests) can see refreshes.
#[derive(Debug, Default)]
pub struct CredentialStats {
    loads: AtomicU64,
    failures: AtomicU64,
}

impl CredentialStats {
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// Wraps the chosen provider to log every (re)load: which method, which key
/// id, when it expires. Never the secret or the session token.
#[derive(Debug)]
struct ObservedProvider {
    inner: SharedCredentialsProvider,
    method: &'static str,
    stats: Arc<CredentialStats>,
}

impl ProvideCredentials for ObservedProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let result = self.inner.provide_credentials().await;
            match &result {
                Ok(c) => {
                    let n = self.stats.loads.fetch_add(1, Ordering::Relaxed) + 1;
                    metrics::counter!("curity_dynamodb_credential_loads_total").increment(1);
                    let expires_in = c
                        .expiry()
                        .and_then(|e| e.duration_since(std::time::SystemTime::now()).ok())
                        .map(|d| d.as_secs());
                    tracing::info!(
                        method = self.method,
                        access_key_id = c.access_key_id(),
                        expires_in_seconds = expires_in,
                        load = n,
                        "aws credentials loaded"
                    );
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("curity_dynamodb_credential_failures_total").increment(1);
                    tracing::warn!(
                        method = self.method,
                        error = %aws_smithy_types::error::display::DisplayErrorContext(e),
                        "aws credentials failed"
                    );
                }
            }
            result
        })
    }
}

/// Builds the credentials provider for the configured access method.
/// `base` carries region, HTTP client and timeouts for the STS clients of
/// the AssumeRole providers.
pub async fn provider(
    aws: &AwsConfig,
    base: &SdkConfig,
    stats: Arc<CredentialStats>,
) -> Result<SharedCredentialsProvider, CredentialSetupError> {
    let region = Region::new(aws.region.clone().ok_or(CredentialSetupError::Invalid {
        key: "aws.region",
        reason: "required".into(),
    })?);
    let provider_config = ProviderConfig::without_region().with_region(Some(region.clone()));
    let method = aws.access_method;
    let session_name = aws.assume_role.session_name.clone();
    let assume = |role_arn: String, source: SharedCredentialsProvider| {
        let session_name = session_name.clone();
        let region = region.clone();
        async move {
            let p = AssumeRoleProvider::builder(role_arn)
                .session_name(session_name)
                .session_length(Duration::from_secs(u64::from(
                    aws.assume_role.duration_seconds,
                )))
                .region(region)
                .configure(base)
                .build_from_provider(source)
                .await;
            SharedCredentialsProvider::new(p)
        }
    };

    let inner = match method {
        AccessMethod::WebIdentity => {
            let w = &aws.web_identity;
            let (Some(role_arn), Some(token_file)) = (&w.role_arn, &w.token_file) else {
                return Err(CredentialSetupError::Invalid {
                    key: "aws.web_identity",
                    reason: "role_arn and token_file are required".into(),
                });
            };
            SharedCredentialsProvider::new(
                WebIdentityTokenCredentialsProvider::builder()
                    .configure(&provider_config)
                    .static_configuration(StaticConfiguration {
                        web_identity_token_file: token_file.clone(),
                        role_arn: role_arn.clone(),
                        session_name: w.session_name.clone().unwrap_or(session_name.clone()),
                    })
                    .build(),
            )
        }
        AccessMethod::AccessKey => {
            let k = &aws.access_key;
            let (Some(id), Some(secret)) = (&k.access_key_id, &k.secret_access_key) else {
                return Err(CredentialSetupError::Invalid {
                    key: "aws.access_key",
                    reason: "access_key_id and secret_access_key are required".into(),
                });
            };
            let base_creds = SharedCredentialsProvider::new(Credentials::new(
                id.clone(),
                secret.expose().to_string(),
                None,
                None,
                "curity-dynamodb-config",
            ));
            match &k.role_arn {
                Some(arn) => assume(arn.clone(), base_creds).await,
                None => base_creds,
            }
        }
        AccessMethod::Profile => {
            let p = &aws.profile;
            let name = p.name.clone().unwrap_or_else(|| "default".into());
            let base_creds = SharedCredentialsProvider::new(
                ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config)
                    .profile_name(name)
                    .build(),
            );
            match &p.role_arn {
                Some(arn) => assume(arn.clone(), base_creds).await,
                None => base_creds,
            }
        }
        AccessMethod::InstanceProfile => {
            let mut builder = ImdsCredentialsProvider::builder().configure(&provider_config);
            if let Some(endpoint) = &aws.instance_profile.endpoint {
                let client = imds::Client::builder()
                    .configure(&provider_config)
                    .endpoint(endpoint)
                    .map_err(|e| CredentialSetupError::Invalid {
                        key: "aws.instance_profile.endpoint",
                        reason: e.to_string(),
                    })?
                    .build();
                builder = builder.imds_client(client);
            }
            SharedCredentialsProvider::new(builder.build())
        }
        AccessMethod::DefaultChain => SharedCredentialsProvider::new(
            DefaultCredentialsChain::builder()
                .region(region)
                .build()
                .await,
        ),
    };
    Ok(SharedCredentialsProvider::new(ObservedProvider {
        inner,
        method: method.as_str(),
        stats,
    }))
}
