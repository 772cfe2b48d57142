//! The `[json_ds]` section: Curity's JSON data source port.

use std::{net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};

use super::{JwtConfig, TlsConfig, url_path};

/// Curity's JSON data source protocol on a port of its own (`json_ds`),
/// off unless `listen` is set. The names mirror the Curity configuration
/// they must match (docs/curity-json-datasource.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JsonDsConfig {
    pub listen: Option<SocketAddr>,
    /// The data source's `web-service-client/context`.
    pub context: String,
    /// `credential-access/url-path`, a template: `/credentials`, `/`,
    /// `/users/:subject`, `/:tenantId/verify?pwd=:password`.
    pub credentials_path: String,
    /// `credential-access/username-parameter`.
    pub username_parameter: String,
    /// `credential-access/password-parameter`.
    pub password_parameter: String,
    /// `credential-access/tenant-id-parameter`; also read from the query
    /// of attribute and bucket requests. No tenant parameter when absent.
    pub tenant_id_parameter: Option<String>,
    /// `credential-access/backend-verifies-password`. `false` (the
    /// recommended mode): answer the stored hash for Curity to verify.
    pub backend_verifies_password: bool,
    /// BCrypt cost of hashes made from clear passwords (password updates
    /// when the backend verifies).
    pub bcrypt_cost: u32,
    /// Verifications (or hashings) running at once; more wait.
    pub max_concurrent_verifications: usize,
    /// `attributes/url-path`, a template (`/attributes/:subject`); without
    /// `:subject`, the subject comes in `attributes_subject_parameter`.
    pub attributes_path: String,
    /// `attributes/parameter/username-parameter`: the subject in this
    /// header (base64) or query parameter, at `attributes_path` itself.
    pub attributes_subject_parameter: Option<String>,
    /// The buckets' template, with `:subject` and `:purpose`.
    pub buckets_path: String,
    /// Serve a verification whose password arrives in the URL (`submit-as
    /// get-as-querystring`, or a `:password` placeholder) when the backend
    /// verifies. Off: URLs end up in access logs and proxies.
    pub allow_password_in_query: bool,
    /// Longest a request may take (Curity's socket timeout is 10 s).
    pub request_timeout_seconds: u64,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    pub auth: JsonDsAuthConfig,
    /// TLS (and, with `client_ca_file`, mutual TLS) on this port.
    pub tls: TlsConfig,
}

impl Default for JsonDsConfig {
    fn default() -> Self {
        Self {
            listen: None,
            context: "/json-ds".into(),
            credentials_path: "/credentials".into(),
            username_parameter: "username".into(),
            password_parameter: "password".into(),
            tenant_id_parameter: None,
            backend_verifies_password: false,
            bcrypt_cost: 10,
            max_concurrent_verifications: 4,
            attributes_path: "/attributes/:subject".into(),
            attributes_subject_parameter: None,
            buckets_path: "/buckets/:subject/:purpose".into(),
            allow_password_in_query: false,
            request_timeout_seconds: 5,
            max_body_bytes: 512 * 1024,
            auth: JsonDsAuthConfig::default(),
            tls: TlsConfig::default(),
        }
    }
}

impl JsonDsConfig {
    /// Why serving the JSON port on `addr` would expose it, if it would:
    /// off loopback it needs TLS and an authentication of Curity (Basic,
    /// bearer or mutual TLS), unless `server.insecure`.
    pub fn exposure_problem(&self, addr: SocketAddr, insecure: bool) -> Option<String> {
        if addr.ip().is_loopback() || insecure || (self.tls.enabled() && self.authenticated()) {
            return None;
        }
        Some(format!(
            "json_ds.listen {addr} is reachable from the network: it needs json_ds.tls \
             (cert_file, key_file) and an authentication of Curity (json_ds.auth \
             basic_username + basic_password_file, json_ds.auth.bearer_token_file, or \
             json_ds.tls.client_ca_file), or listen on 127.0.0.1, or --insecure"
        ))
    }

    /// The three operations' templates, parsed (`Err` names the key).
    pub fn routes(&self) -> Result<JsonDsRoutes, String> {
        use url_path::{Template, Var};
        let credentials = Template::parse(
            &self.credentials_path,
            &[Var::Subject, Var::Password, Var::TenantId],
            &[],
        )
        .map_err(|e| format!("json_ds.credentials_path: {e}"))?;
        // Without a subject parameter, a template of earlier versions
        // (`/attributes`) takes the subject as the next segment.
        let implicit: &[Var] = match self.attributes_subject_parameter {
            None => &[Var::Subject],
            Some(_) => &[],
        };
        let attributes = Template::parse(
            &self.attributes_path,
            &[Var::Subject, Var::TenantId],
            implicit,
        )
        .map_err(|e| format!("json_ds.attributes_path: {e}"))?;
        if self.attributes_subject_parameter.is_none()
            && !attributes.placeholders().contains(&Var::Subject)
        {
            return Err("json_ds.attributes_path: needs :subject, or set json_ds.attributes_subject_parameter".into());
        }
        let buckets = Template::parse(
            &self.buckets_path,
            &[Var::Subject, Var::Purpose, Var::TenantId],
            &[Var::Subject, Var::Purpose],
        )
        .map_err(|e| format!("json_ds.buckets_path: {e}"))?;
        let held = buckets.placeholders();
        if !held.contains(&Var::Subject) || !held.contains(&Var::Purpose) {
            return Err("json_ds.buckets_path: needs :subject and :purpose".into());
        }
        let attributes_by_parameter = self
            .attributes_subject_parameter
            .as_ref()
            .map(|_| attributes.without(Var::Subject));
        Ok(JsonDsRoutes {
            credentials,
            attributes,
            attributes_by_parameter,
            buckets,
        })
    }

    /// Whether Curity must authenticate to this port at all.
    pub fn authenticated(&self) -> bool {
        self.auth.basic_username.is_some()
            || self.auth.bearer_token_file.is_some()
            || self.auth.jwt.is_some()
            || self.tls.client_ca_file.is_some()
    }
}

/// The JSON port's operations, matched in this order.
#[derive(Debug, Clone)]
pub struct JsonDsRoutes {
    pub credentials: url_path::Template,
    pub attributes: url_path::Template,
    /// The attributes path without `:subject`, when the subject may come in
    /// `attributes_subject_parameter` instead.
    pub attributes_by_parameter: Option<url_path::Template>,
    pub buckets: url_path::Template,
}

/// How Curity authenticates to the JSON port: HTTP Basic or a bearer
/// token (either accepted when both are set), and/or mutual TLS.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JsonDsAuthConfig {
    pub basic_username: Option<String>,
    /// File holding the Basic password (re-read when it changes).
    pub basic_password_file: Option<PathBuf>,
    /// File holding the bearer token (re-read when it changes).
    pub bearer_token_file: Option<PathBuf>,
    /// OAuth access tokens (Curity's `oauth-credentials` HTTP client).
    pub jwt: Option<JwtConfig>,
}
