//! Typed configuration: a TOML file plus `CURITY_DYNAMODB_...` environment
//! overrides, validated once at start. Every problem names its key, and all
//! problems are reported together. This module has the types and their
//! defaults; `load` reads and validates them.

mod cache;
mod json_ds;
mod load;
mod messages;
mod secrets;
mod telemetry;
pub mod url_path;

pub use cache::{CacheConfig, CachedType, StreamsConfig};
pub use json_ds::{JsonDsAuthConfig, JsonDsConfig, JsonDsRoutes};
pub use secrets::{poll, read_certs, read_key, read_token};
pub use telemetry::TelemetryConfig;

pub use self::load::is_region_name;

use std::{fmt, net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};

/// Prefix of environment overrides; nesting uses `__`
/// (`CURITY_DYNAMODB_AWS__REGION=eu-west-1` sets `aws.region`).
pub const ENV_PREFIX: &str = "CURITY_DYNAMODB_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Parse(String),
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub aws: AwsConfig,
    pub dynamodb: DynamoDbConfig,
    pub pool: PoolConfig,
    pub cache: CacheConfig,
    pub json_ds: JsonDsConfig,
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Prometheus `/metrics` listen address; no metrics endpoint when absent.
    pub metrics_listen: Option<SocketAddr>,
    /// A second, plaintext listener serving only `grpc.health.v1`: for
    /// kubelet gRPC probes, which cannot speak TLS. Off when absent.
    pub health_listen: Option<SocketAddr>,
    /// How long in-flight RPCs may take to finish after SIGTERM/SIGINT.
    pub shutdown_grace_seconds: u64,
    /// How often readiness re-checks DynamoDB while not serving.
    pub readiness_retry_seconds: u64,
    /// How often readiness re-checks DynamoDB while serving.
    pub readiness_interval_seconds: u64,
    /// Consecutive failed checks that take a serving replica out
    /// (NOT_SERVING).
    pub readiness_failure_threshold: u32,
    /// Consecutive good checks that bring it back (SERVING).
    pub readiness_success_threshold: u32,
    /// After SIGTERM: NOT_SERVING at once, but keep accepting calls this long
    /// (while the endpoint is removed from the Service), then drain.
    pub shutdown_delay_seconds: u64,
    /// Log format: `plain` or `json`.
    pub log_format: LogFormat,
    /// Where the audit trail of writes goes (JSON lines, appended); stderr
    /// when absent.
    pub audit_file: Option<PathBuf>,
    /// Serve on a non-loopback address without caller authentication
    /// (`--insecure`). Off: `serve` refuses such an address.
    pub insecure: bool,
    /// Serve gRPC reflection (v1 and v1alpha), behind the same
    /// authentication as the data services. Unset: on for `serve
    /// --embedded` on a loopback address, off otherwise.
    pub reflection: Option<bool>,
    /// How callers authenticate.
    pub auth: AuthConfig,
    /// TLS on the gRPC port; mutual TLS with `client_ca_file`.
    pub tls: TlsConfig,
    /// RPCs served at once across all connections; more are refused at
    /// once with `RESOURCE_EXHAUSTED` (retryable) instead of queueing.
    pub max_concurrent_requests: usize,
    /// HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// Longest an RPC may run (the caller's `grpc-timeout` when shorter).
    pub request_timeout_seconds: u64,
}

/// TLS for the gRPC port. Files are PEM and re-read when they change
/// (every `auth.reload_seconds`), as cert-manager rotates them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The server's certificate chain; with `key_file`, turns TLS on.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// CA of the clients: when set, every connection must present a
    /// client certificate it issued (mutual TLS), which authenticates the
    /// caller as the bearer token does.
    pub client_ca_file: Option<PathBuf>,
}

impl TlsConfig {
    pub fn enabled(&self) -> bool {
        self.cert_file.is_some() || self.key_file.is_some()
    }
}

/// Caller authentication. Health (`grpc.health.v1`) is always open, for
/// probes.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A file holding the bearer token every call must carry
    /// (`authorization: Bearer <token>`). Re-read when it changes.
    pub bearer_token_file: Option<PathBuf>,
    /// How often the token file is checked for a change.
    pub reload_seconds: u64,
    /// OAuth access tokens (JWTs) as bearer tokens, beside or instead of
    /// the token file.
    pub jwt: Option<JwtConfig>,
}

/// Algorithms a token may be signed with: asymmetric only.
pub const JWT_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// OAuth access tokens a caller may present as its bearer token: signed
/// by a key of the JWKS, issued by `issuer` for `audience`, unexpired,
/// with `required_scope` when set (docs/security.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// The `iss` every token must carry (Curity's token issuer URL).
    pub issuer: String,
    /// The `aud` every token must carry.
    pub audience: String,
    /// A scope every token must hold (`scope` or `scp`).
    pub required_scope: Option<String>,
    /// Where the keys are published (https; http only on loopback).
    pub jwks_url: Option<String>,
    /// Or a file holding the JWKS.
    pub jwks_file: Option<PathBuf>,
    /// Accepted signature algorithms (asymmetric only).
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
    /// Fetched keys are fetched again after this long.
    pub jwks_max_age_seconds: u64,
    /// A token naming an unknown key fetches the keys at most this often.
    pub jwks_min_refresh_seconds: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            audience: String::new(),
            required_scope: None,
            jwks_url: None,
            jwks_file: None,
            algorithms: ["RS256", "PS256", "ES256", "EdDSA"]
                .map(String::from)
                .to_vec(),
            leeway_seconds: 30,
            jwks_max_age_seconds: 300,
            jwks_min_refresh_seconds: 10,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            metrics_listen: None,
            health_listen: None,
            shutdown_grace_seconds: 30,
            readiness_retry_seconds: 2,
            readiness_interval_seconds: 10,
            readiness_failure_threshold: 3,
            readiness_success_threshold: 1,
            shutdown_delay_seconds: 3,
            log_format: LogFormat::Plain,
            audit_file: None,
            insecure: false,
            reflection: None,
            auth: AuthConfig {
                bearer_token_file: None,
                reload_seconds: 10,
                jwt: None,
            },
            tls: TlsConfig::default(),
            max_concurrent_requests: 512,
            max_concurrent_streams: 256,
            request_timeout_seconds: 30,
        }
    }
}

impl ServerConfig {
    /// Why serving on `addr` would let unauthenticated callers in, if it
    /// would: the reason and what to set.
    pub fn shutdown_delay(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shutdown_delay_seconds)
    }

    pub fn exposure_problem(&self, addr: SocketAddr) -> Option<String> {
        if !self.unauthenticated_on_network(addr) || self.insecure {
            return None;
        }
        Some(format!(
            "server.listen {addr} is reachable from the network and no caller authentication is \
             configured: anyone who reaches the port could read password hashes. Set \
             server.auth.bearer_token_file (callers send `authorization: Bearer <token>`), \
             server.auth.jwt (OAuth access tokens), or \
             server.tls.client_ca_file with cert_file and key_file (mutual TLS), \
             listen on 127.0.0.1, or accept the risk with --insecure (server.insecure = true)"
        ))
    }

    /// Whether callers on `addr` would be served without authenticating:
    /// a network address with neither a bearer token nor mutual TLS (what
    /// `--insecure` allows, and what `serve` then warns about).
    pub fn unauthenticated_on_network(&self, addr: SocketAddr) -> bool {
        let mutual_tls = self.tls.enabled() && self.tls.client_ca_file.is_some();
        !addr.ip().is_loopback()
            && self.auth.bearer_token_file.is_none()
            && self.auth.jwt.is_none()
            && !mutual_tls
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Plain,
    Json,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AccessMethod {
    /// IRSA: `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (or config).
    #[default]
    WebIdentity,
    AccessKey,
    Profile,
    InstanceProfile,
    DefaultChain,
}

impl AccessMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebIdentity => "web_identity",
            Self::AccessKey => "access_key",
            Self::Profile => "profile",
            Self::InstanceProfile => "instance_profile",
            Self::DefaultChain => "default_chain",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// Region; falls back to `AWS_REGION` / `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// DynamoDB endpoint override (the plugin's `endpoint-override`). STS
    /// follows the SDK's standard `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    pub access_method: AccessMethod,
    /// Total time per API call, retries included (default 10): a stalled
    /// connection must not hang an RPC, nor the readiness probe.
    pub api_call_timeout_seconds: Option<f64>,
    /// Time per HTTP attempt (default 3).
    pub api_call_attempt_timeout_seconds: Option<f64>,
    pub web_identity: WebIdentityConfig,
    pub access_key: AccessKeyConfig,
    pub profile: ProfileConfig,
    pub instance_profile: InstanceProfileConfig,
    pub assume_role: AssumeRoleConfig,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            access_method: AccessMethod::default(),
            api_call_timeout_seconds: Some(10.0),
            api_call_attempt_timeout_seconds: Some(3.0),
            web_identity: WebIdentityConfig::default(),
            access_key: AccessKeyConfig::default(),
            profile: ProfileConfig::default(),
            instance_profile: InstanceProfileConfig::default(),
            assume_role: AssumeRoleConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebIdentityConfig {
    /// Falls back to `AWS_ROLE_ARN`.
    pub role_arn: Option<String>,
    /// Falls back to `AWS_WEB_IDENTITY_TOKEN_FILE`.
    pub token_file: Option<PathBuf>,
    /// Falls back to `AWS_ROLE_SESSION_NAME`, then `assume_role.session_name`.
    pub session_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessKeyConfig {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    /// When set, the key only authorises a refreshing `sts:AssumeRole`.
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileConfig {
    /// Falls back to `AWS_PROFILE`, then `default`.
    pub name: Option<String>,
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceProfileConfig {
    /// IMDS endpoint override (else `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else
    /// the link-local default).
    pub endpoint: Option<String>,
}

/// Settings of every `sts:AssumeRole*` call the service makes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssumeRoleConfig {
    pub session_name: String,
    /// Lifetime of assumed-role credentials; they are refreshed before they
    /// expire. AWS accepts 900 to the role's maximum (43200 at most).
    pub duration_seconds: u32,
}

impl Default for AssumeRoleConfig {
    fn default() -> Self {
        Self {
            session_name: "curity-dynamodb".into(),
            duration_seconds: 3600,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DynamoDbConfig {
    /// Prepended to every `curity-*` table name (`dev-` gives `dev-curity-accounts`).
    pub table_name_prefix: String,
    pub allow_table_scans: bool,
    pub unique_phone_numbers: bool,
    /// Items one `List` or `Count` may read from DynamoDB (what queries and
    /// scans evaluate, before filtering). `List` returns the page so far
    /// with a cursor when it is reached; `Count` says its count is
    /// truncated.
    pub max_items_read_per_request: u64,
    pub ttl: TtlConfig,
    pub delegations: DelegationsConfig,
}

impl Default for DynamoDbConfig {
    fn default() -> Self {
        Self {
            table_name_prefix: String::new(),
            allow_table_scans: false,
            unique_phone_numbers: true,
            max_items_read_per_request: 50_000,
            ttl: TtlConfig::default(),
            delegations: DelegationsConfig::default(),
        }
    }
}

/// Extra seconds items stay in the table after they expire, before
/// DynamoDB's TTL may delete them (`deletableAt`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TtlConfig {
    pub sessions_retain_seconds: u64,
    pub nonces_retain_seconds: u64,
    pub delegations_retain_seconds: u64,
    pub tokens_retain_seconds: u64,
    pub devices_retain_seconds: u64,
}

impl Default for TtlConfig {
    fn default() -> Self {
        Self {
            sessions_retain_seconds: 86_400,
            nonces_retain_seconds: 86_400,
            delegations_retain_seconds: 31_536_000,
            tokens_retain_seconds: 172_800,
            devices_retain_seconds: 2_592_000,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DelegationsConfig {
    pub attributes_from_claims: Vec<String>,
    pub attributes_from_custom_claim_values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Most DynamoDB calls in flight at once.
    pub max_size: usize,
    /// How long a request waits for a free client before `UNAVAILABLE`.
    pub wait_timeout_ms: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: 64,
            wait_timeout_ms: 2_000,
        }
    }
}

/// A secret string: never shown by `Debug`, serialised as `<redacted>`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

/// Reads an environment variable; injectable so validation is testable.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
