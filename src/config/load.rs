//! Reading the configuration (file, then `CURITY_DYNAMODB_*` overrides) and
//! validating it against the environment: every problem names its key, and
//! all problems are reported together.

use std::{path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};

use super::{messages, *};

impl Config {
    /// Loads the file (when given), applies `CURITY_DYNAMODB_*` overrides and
    /// validates the result against the process environment.
    pub fn load(path: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        Self::parse(path)?.validate(&process_env)
    }

    /// Reads file and environment overrides without validating.
    pub fn parse(path: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            if !path.is_file() {
                return Err(ConfigError::Parse(format!(
                    "config file {}: not found or not a file",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed(ENV_PREFIX)
                .split("__")
                .ignore(messages::COMMAND_LINE_VARIABLES),
        );
        figment.extract().map_err(|e| {
            ConfigError::Parse(
                e.into_iter()
                    .map(messages::describe_figment_error)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }

    /// Checks every key and resolves the values that may come from standard
    /// AWS environment variables, so the effective config is complete.
    pub fn validate(self, env: EnvLookup<'_>) -> Result<Self, ConfigError> {
        self.validate_with(env, false)
    }

    /// `validate`, and every file `serve` reads checked with it (the bearer
    /// token, the certificates, keys and client CAs of both ports): all
    /// problems in one report, before any AWS call. Other commands never
    /// need those files (they are Secrets mounted into the pod).
    pub fn validate_to_serve(self, env: EnvLookup<'_>) -> Result<Self, ConfigError> {
        self.validate_with(env, true)
    }

    fn validate_with(mut self, env: EnvLookup<'_>, serving: bool) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        if serving {
            self.check_served_files(&mut problems);
        }
        let server = &self.server;
        let tls = &server.tls;
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            problems.push("server.tls: cert_file and key_file go together".into());
        }
        if tls.client_ca_file.is_some() && !tls.enabled() {
            problems.push(
                "server.tls.client_ca_file: mutual TLS needs server.tls.cert_file and key_file"
                    .into(),
            );
        }
        for (key, value) in [
            ("server.auth.reload_seconds", server.auth.reload_seconds),
            (
                "server.max_concurrent_requests",
                server.max_concurrent_requests as u64,
            ),
            (
                "server.max_concurrent_streams",
                u64::from(server.max_concurrent_streams),
            ),
            (
                "server.request_timeout_seconds",
                server.request_timeout_seconds,
            ),
        ] {
            if value == 0 {
                problems.push(format!("{key}: must be at least 1"));
            }
        }
        if let Some(jwt) = &server.auth.jwt {
            jwt.check("server.auth.jwt", &mut problems);
        }
        let delegations = &self.dynamodb.delegations;
        for (key, paths) in [
            (
                "dynamodb.delegations.attributes_from_claims",
                &delegations.attributes_from_claims,
            ),
            (
                "dynamodb.delegations.attributes_from_custom_claim_values",
                &delegations.attributes_from_custom_claim_values,
            ),
        ] {
            if let Some(bad) = paths.iter().find(|p| p.split('.').any(str::is_empty)) {
                problems.push(format!(
                    "{key}: {bad:?} is not a dot path of claim names (like \"address.country\")"
                ));
            }
        }
        let aws = &mut self.aws;

        if aws.region.is_none() {
            aws.region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
        }
        match aws.region.as_deref() {
            None => problems
                .push("aws.region: required (or set AWS_REGION), e.g. \"eu-west-1\"".to_string()),
            Some(r) if !is_region_name(r) => problems.push(format!(
                "aws.region: {r:?} is not an AWS region name (expected e.g. \"eu-west-1\")"
            )),
            Some(_) => {}
        }
        if let Some(url) = &aws.endpoint_url {
            check_http_url("aws.endpoint_url", url, &mut problems);
        }
        for (key, value) in [
            ("aws.api_call_timeout_seconds", aws.api_call_timeout_seconds),
            (
                "aws.api_call_attempt_timeout_seconds",
                aws.api_call_attempt_timeout_seconds,
            ),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                problems.push(format!("{key}: must be a positive number of seconds"));
            }
        }
        if aws.assume_role.session_name.len() < 2
            || aws.assume_role.session_name.len() > 64
            || !aws
                .assume_role
                .session_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c))
        {
            problems
                .push("aws.assume_role.session_name: 2-64 characters of [A-Za-z0-9=,.@_-]".into());
        }
        if !(1..=43_200).contains(&aws.assume_role.duration_seconds) {
            problems.push("aws.assume_role.duration_seconds: must be 1..=43200".into());
        }

        match aws.access_method {
            AccessMethod::WebIdentity => {
                let w = &mut aws.web_identity;
                if w.role_arn.is_none() {
                    w.role_arn = env("AWS_ROLE_ARN");
                }
                if w.token_file.is_none() {
                    w.token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE").map(PathBuf::from);
                }
                if w.session_name.is_none() {
                    w.session_name = env("AWS_ROLE_SESSION_NAME");
                }
                match &w.role_arn {
                    None => problems.push(
                        "aws.web_identity.role_arn: required for access_method \"web_identity\" \
                         (or set AWS_ROLE_ARN, which the EKS webhook injects)"
                            .into(),
                    ),
                    Some(arn) => check_role_arn("aws.web_identity.role_arn", arn, &mut problems),
                }
                match &w.token_file {
                    None => problems.push(
                        "aws.web_identity.token_file: required for access_method \"web_identity\" \
                         (or set AWS_WEB_IDENTITY_TOKEN_FILE, which the EKS webhook injects)"
                            .into(),
                    ),
                    Some(path) => {
                        if let Err(e) = std::fs::read(path) {
                            problems.push(format!(
                                "aws.web_identity.token_file: cannot read {}: {e}",
                                path.display()
                            ));
                        }
                    }
                }
            }
            AccessMethod::AccessKey => {
                let k = &aws.access_key;
                if k.access_key_id.as_deref().is_none_or(str::is_empty) {
                    problems.push(
                        "aws.access_key.access_key_id: required for access_method \"access_key\""
                            .into(),
                    );
                }
                if k.secret_access_key
                    .as_ref()
                    .is_none_or(|s| s.expose().is_empty())
                {
                    problems.push(
                        "aws.access_key.secret_access_key: required for access_method \"access_key\""
                            .into(),
                    );
                }
                if let Some(arn) = &k.role_arn {
                    check_role_arn("aws.access_key.role_arn", arn, &mut problems);
                }
            }
            AccessMethod::Profile => {
                let p = &mut aws.profile;
                if p.name.is_none() {
                    p.name = Some(env("AWS_PROFILE").unwrap_or_else(|| "default".into()));
                }
                if let Some(arn) = &p.role_arn {
                    check_role_arn("aws.profile.role_arn", arn, &mut problems);
                }
            }
            AccessMethod::InstanceProfile => {
                if let Some(url) = &aws.instance_profile.endpoint {
                    check_http_url("aws.instance_profile.endpoint", url, &mut problems);
                }
            }
            AccessMethod::DefaultChain => {}
        }

        let prefix = &self.dynamodb.table_name_prefix;
        if prefix.len() > 200
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            problems.push(
                "dynamodb.table_name_prefix: at most 200 characters of [A-Za-z0-9_.-]".into(),
            );
        }
        if self.pool.max_size == 0 {
            problems.push("pool.max_size: must be at least 1".into());
        }
        if self.pool.wait_timeout_ms == 0 {
            problems.push("pool.wait_timeout_ms: must be at least 1".into());
        }
        if self.server.readiness_retry_seconds == 0 {
            problems.push("server.readiness_retry_seconds: must be at least 1".into());
        }
        self.cache.check(&mut problems);
        self.json_ds.check(self.server.insecure, &mut problems);
        self.telemetry.check(&mut problems);

        if problems.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError::Invalid(
                problems
                    .into_iter()
                    .map(|p| messages::name_variable(p, env))
                    .collect(),
            ))
        }
    }

    fn check_served_files(&self, problems: &mut Vec<String>) {
        if let Some(path) = &self.server.auth.bearer_token_file
            && let Err(e) = super::read_token(path)
        {
            problems.push(format!("server.auth.bearer_token_file: {e}"));
        }
        // The JSON port's files only when it is served.
        let json = self
            .json_ds
            .listen
            .is_some()
            .then_some(("json_ds.tls", &self.json_ds.tls));
        for (section, tls) in std::iter::once(("server.tls", &self.server.tls)).chain(json) {
            let certs = |p: &std::path::Path| super::read_certs(p).map(drop);
            let key = |p: &std::path::Path| super::read_key(p).map(drop);
            for (name, file, read) in [
                ("cert_file", &tls.cert_file, &certs as &dyn Fn(&_) -> _),
                ("key_file", &tls.key_file, &key),
                ("client_ca_file", &tls.client_ca_file, &certs),
            ] {
                if let Some(path) = file
                    && let Err(e) = read(path)
                {
                    problems.push(format!("{section}.{name}: {e}"));
                }
            }
        }
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Parse(e.to_string()))
    }

    pub fn region(&self) -> &str {
        self.aws.region.as_deref().unwrap_or("us-east-1")
    }
}

impl ServerConfig {
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }
}

/// AWS region names: `eu-west-1`, `us-gov-east-1`, `ap-southeast-5`, ...
pub fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|n| n > 0 && !parts[parts.len() - 1].starts_with('0'))
}

fn check_role_arn(key: &str, arn: &str, problems: &mut Vec<String>) {
    // arn:<partition>:iam::<12-digit account>:role/<path/name>
    let ok = arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":iam::"))
        .and_then(|(partition, rest)| {
            partition
                .starts_with("aws")
                .then_some(rest.split_once(":role/"))
                .flatten()
        })
        .is_some_and(|(account, name)| {
            account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) && !name.is_empty()
        });
    if !ok {
        problems.push(format!(
            "{key}: {arn:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        ));
    }
}

fn check_http_url(key: &str, value: &str, problems: &mut Vec<String>) {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        Ok(_) => problems.push(format!(
            "{key}: {value:?} must be an http(s) URL with a host"
        )),
        Err(e) => problems.push(format!("{key}: {value:?} is not a URL: {e}")),
    }
}

impl super::JsonDsConfig {
    fn check(&self, insecure: bool, problems: &mut Vec<String>) {
        let Some(addr) = self.listen else { return };
        let path_ok = |p: &str| {
            p.starts_with('/')
                && !p.ends_with('/')
                && !p.contains(':')
                && p.chars().all(|c| c.is_ascii_graphic())
        };
        if !(self.context.is_empty() || path_ok(&self.context)) {
            problems.push("json_ds.context: empty or a path like \"/json-ds\"".into());
        }
        if let Err(e) = self.routes() {
            problems.push(e);
        }
        for (key, name) in [
            ("json_ds.username_parameter", Some(&self.username_parameter)),
            ("json_ds.password_parameter", Some(&self.password_parameter)),
            (
                "json_ds.tenant_id_parameter",
                self.tenant_id_parameter.as_ref(),
            ),
            (
                "json_ds.attributes_subject_parameter",
                self.attributes_subject_parameter.as_ref(),
            ),
        ] {
            if let Some(n) = name
                && (n.is_empty()
                    || !n
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
            {
                problems.push(format!("{key}: a name of [A-Za-z0-9-_.]"));
            }
        }
        if !(4..=16).contains(&self.bcrypt_cost) {
            problems.push("json_ds.bcrypt_cost: between 4 and 16".into());
        }
        if self.max_concurrent_verifications == 0 {
            problems.push("json_ds.max_concurrent_verifications: at least 1".into());
        }
        if !(1..=60).contains(&self.request_timeout_seconds) {
            problems.push("json_ds.request_timeout_seconds: between 1 and 60".into());
        }
        if !(1024..=4 * 1024 * 1024).contains(&self.max_body_bytes) {
            problems.push("json_ds.max_body_bytes: between 1024 and 4194304".into());
        }
        let a = &self.auth;
        if a.basic_username.is_some() != a.basic_password_file.is_some() {
            problems.push(
                "json_ds.auth.basic_username: set together with json_ds.auth.basic_password_file"
                    .into(),
            );
        }
        for (key, file) in [
            ("json_ds.auth.basic_password_file", &a.basic_password_file),
            ("json_ds.auth.bearer_token_file", &a.bearer_token_file),
        ] {
            if let Some(path) = file
                && let Err(e) = super::read_token(path)
            {
                problems.push(format!("{key}: {e}"));
            }
        }
        if let Some(jwt) = &a.jwt {
            jwt.check("json_ds.auth.jwt", problems);
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            problems.push("json_ds.tls.cert_file: set together with json_ds.tls.key_file".into());
        }
        if self.tls.client_ca_file.is_some() && !self.tls.enabled() {
            problems.push("json_ds.tls.client_ca_file: needs cert_file and key_file".into());
        }
        if let Some(p) = self.exposure_problem(addr, insecure) {
            problems.push(p);
        }
    }
}

impl super::JwtConfig {
    fn check(&self, key: &str, problems: &mut Vec<String>) {
        if self.issuer.is_empty() {
            problems.push(format!("{key}.issuer: required (the token issuer's URL)"));
        }
        if self.audience.is_empty() {
            problems.push(format!("{key}.audience: required"));
        }
        match (&self.jwks_url, &self.jwks_file) {
            (Some(_), Some(_)) | (None, None) => {
                problems.push(format!("{key}: set jwks_url or jwks_file (one of them)"))
            }
            (Some(url), None) => match url::Url::parse(url) {
                Ok(u) if u.scheme() == "https" => {}
                Ok(u)
                    if u.scheme() == "http"
                        && u.host_str().is_some_and(|h| {
                            h == "localhost"
                                || h.parse::<std::net::IpAddr>()
                                    .is_ok_and(|ip| ip.is_loopback())
                                || h.trim_matches(['[', ']'])
                                    .parse::<std::net::IpAddr>()
                                    .is_ok_and(|ip| ip.is_loopback())
                        }) => {}
                _ => problems.push(format!(
                    "{key}.jwks_url: an https URL (http only on loopback), got {url:?}"
                )),
            },
            (None, Some(path)) => {
                if let Err(e) = std::fs::read(path) {
                    problems.push(format!(
                        "{key}.jwks_file: cannot read {}: {e}",
                        path.display()
                    ));
                }
            }
        }
        if self.algorithms.is_empty() {
            problems.push(format!("{key}.algorithms: at least one"));
        }
        for a in &self.algorithms {
            if !super::JWT_ALGORITHMS.contains(&a.as_str()) {
                problems.push(format!(
                    "{key}.algorithms: {a:?} is not allowed (asymmetric only: {})",
                    super::JWT_ALGORITHMS.join(", ")
                ));
            }
        }
        if self.leeway_seconds > 300 {
            problems.push(format!("{key}.leeway_seconds: at most 300"));
        }
        if self.jwks_min_refresh_seconds == 0 || self.jwks_max_age_seconds == 0 {
            problems.push(format!(
                "{key}: jwks_min_refresh_seconds and jwks_max_age_seconds at least 1"
            ));
        }
    }
}

#[cfg(test)]
mod tests;
