//! Everything AWS: one `SdkConfig` with the chosen credentials provider and
//! its identity cache, the DynamoDB client pool, and error classification.

pub mod attempts;
pub mod credentials;
pub mod error;
pub mod policy;
pub mod pool;

use std::{sync::Arc, time::Duration};

use aws_config::{BehaviorVersion, identity::IdentityCache, timeout::TimeoutConfig};
use aws_smithy_http_client::tls;
use aws_types::{SdkConfig, region::Region};

use crate::config::{AccessMethod, AwsConfig};
pub use credentials::{CredentialSetupError, CredentialStats};
pub use pool::{DynamoPool, PoolBuildError, PooledClient};

/// The AWS side of the service, built once at start.
#[derive(Clone, Debug)]
pub struct Aws {
    sdk: SdkConfig,
    dynamodb: aws_sdk_dynamodb::Config,
    endpoint_url: Option<String>,
    sts_endpoint: String,
    method: AccessMethod,
    stats: Arc<CredentialStats>,
}

impl Aws {
    pub async fn connect(cfg: &AwsConfig) -> Result<Self, CredentialSetupError> {
        let region = Region::new(cfg.region.clone().ok_or(CredentialSetupError::Invalid {
            key: "aws.region",
            reason: "required".into(),
        })?);
        let mut timeouts = TimeoutConfig::builder();
        if let Some(s) = cfg.api_call_timeout_seconds {
            timeouts = timeouts.operation_timeout(Duration::from_secs_f64(s));
        }
        if let Some(s) = cfg.api_call_attempt_timeout_seconds {
            timeouts = timeouts.operation_attempt_timeout(Duration::from_secs_f64(s));
        }
        // One HTTP client for every AWS client: connections are pooled once.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https();
        let loader = || {
            aws_config::defaults(BehaviorVersion::latest())
                .region(region.clone())
                .timeout_config(timeouts.clone().build())
                .http_client(http.clone())
        };
        let base = loader().no_credentials().load().await;
        let stats = Arc::new(CredentialStats::default());
        let provider = credentials::provider(cfg, &base, stats.clone()).await?;
        let sdk = loader()
            .credentials_provider(provider)
            .identity_cache(IdentityCache::lazy().build())
            .load()
            .await;
        let mut ddb = aws_sdk_dynamodb::config::Builder::from(&sdk);
        if let Some(url) = &cfg.endpoint_url {
            ddb = ddb.endpoint_url(url);
        }
        let sts_endpoint = sts_endpoint(region.as_ref(), &crate::config::process_env);
        Ok(Self {
            dynamodb: ddb.build(),
            endpoint_url: cfg.endpoint_url.clone(),
            sts_endpoint,
            sdk,
            method: cfg.access_method,
            stats,
        })
    }

    pub fn method(&self) -> AccessMethod {
        self.method
    }

    /// Where STS calls go (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else
    /// the regional endpoint), for messages.
    pub fn sts_endpoint(&self) -> &str {
        &self.sts_endpoint
    }

    pub fn credential_stats(&self) -> &CredentialStats {
        &self.stats
    }

    pub fn dynamodb_config(&self) -> &aws_sdk_dynamodb::Config {
        &self.dynamodb
    }

    /// A single DynamoDB client (admin commands); the service uses the pool.
    pub fn dynamodb_client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(self.dynamodb.clone())
    }

    /// DynamoDB Streams through the same credentials, cache and endpoint
    /// as DynamoDB (the cache's cross-replica invalidation).
    pub fn streams_client(&self) -> aws_sdk_dynamodbstreams::Client {
        let mut b = aws_sdk_dynamodbstreams::config::Builder::from(&self.sdk);
        if let Some(url) = &self.endpoint_url {
            b = b.endpoint_url(url);
        }
        aws_sdk_dynamodbstreams::Client::from_conf(b.build())
    }

    /// The configured provider (without the cache in front of it).
    pub fn credentials_provider(
        &self,
    ) -> Option<aws_credential_types::provider::SharedCredentialsProvider> {
        self.sdk.credentials_provider()
    }

    /// STS through the same credentials and cache as DynamoDB.
    pub fn sts_client(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk)
    }
}

/// Where STS calls go, as the SDK resolves it from the environment.
pub fn sts_endpoint(region: &str, env: crate::config::EnvLookup<'_>) -> String {
    env("AWS_ENDPOINT_URL_STS")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"))
}

/// Who AWS says the service is (`sts:GetCallerIdentity`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

impl Aws {
    /// The endpoint credentials come from, for messages about reaching it.
    pub fn credentials_endpoint(&self) -> String {
        match self.method {
            AccessMethod::InstanceProfile => "the instance metadata service (IMDS)".into(),
            _ => format!("STS at {}", self.sts_endpoint),
        }
    }

    /// Asks STS through the same provider and cache DynamoDB calls use.
    pub async fn caller_identity(&self) -> Result<CallerIdentity, crate::error::StoreError> {
        let out = self
            .sts_client()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                if error::is_unreachable(&e) {
                    return crate::error::StoreError::Unavailable {
                        action: "sts:GetCallerIdentity".into(),
                        table: String::new(),
                        message: format!(
                            "{} did not answer: {}",
                            self.credentials_endpoint(),
                            error::root_cause(&e)
                        ),
                    };
                }
                error::classify(
                    &e,
                    error::CallSite {
                        action: "sts:GetCallerIdentity",
                        table: "",
                        method: self.method.as_str(),
                    },
                )
            })?;
        Ok(CallerIdentity {
            account: out.account.unwrap_or_default(),
            arn: out.arn.unwrap_or_default(),
            user_id: out.user_id.unwrap_or_default(),
        })
    }
}
