//! OAuth access tokens (JWTs) as caller credentials, on both ports: what a
//! stock Curity's HTTP client sends with `oauth-credentials`, and what a
//! Curity plugin or any OAuth client can present. Keys come from a JWKS
//! URL (cached, refreshed when a token names an unknown `kid`, fetches
//! bounded in time, size and rate) or a JWKS file; issuer, audience,
//! expiry (with a small leeway) and a required scope are checked, and only
//! allow-listed asymmetric algorithms are accepted (never `none`, never an
//! HMAC, which a public key would let anyone sign).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation, decode, decode_header,
    jwk::{Jwk, JwkSet},
};
use serde::Deserialize;

use crate::config::JwtConfig;

/// Largest JWKS document read.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Longest a JWKS fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a token was refused (the server log's words; callers get one
/// `UNAUTHENTICATED` / 401 for all).
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("not a JWT: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} is not allowed")]
    Algorithm(Algorithm),
    #[error("no key with kid {0:?} in the JWKS")]
    UnknownKey(String),
    #[error("the token names no kid and the JWKS holds more than one key")]
    NoKid,
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("the scope {0:?} is missing")]
    Scope(String),
    #[error("JWKS unavailable: {0}")]
    Jwks(String),
}

/// The claims read beyond what `jsonwebtoken` validates.
#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    scope: Option<ScopeClaim>,
    #[serde(default)]
    scp: Option<ScopeClaim>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

/// A scope claim: space-separated text, or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ScopeClaim {
    Text(String),
    List(Vec<String>),
}

impl ScopeClaim {
    fn contains(&self, scope: &str) -> bool {
        match self {
            ScopeClaim::Text(t) => t.split_ascii_whitespace().any(|s| s == scope),
            ScopeClaim::List(l) => l.iter().any(|s| s == scope),
        }
    }
}

/// Who a valid token says the caller is.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub subject: Option<String>,
    pub client_id: Option<String>,
}

struct Keys {
    by_kid: HashMap<String, (DecodingKey, Option<Algorithm>)>,
    /// Keys without a `kid` (usable only when the set holds one key).
    anonymous: Vec<(DecodingKey, Option<Algorithm>)>,
    fetched: Instant,
}

pub struct JwtVerifier {
    config: JwtConfig,
    algorithms: Vec<Algorithm>,
    keys: RwLock<Option<Arc<Keys>>>,
    /// One fetch at a time; the others wait for its result.
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for `config` (validated: `config::JwtConfig::check`). A
    /// JWKS file is read now; a JWKS URL on the first token.
    pub fn new(config: &JwtConfig) -> Result<Arc<Self>, String> {
        let algorithms = config
            .algorithms
            .iter()
            .map(|a| a.parse::<Algorithm>().map_err(|_| format!("algorithm {a}")))
            .collect::<Result<Vec<_>, _>>()?;
        let verifier = Arc::new(Self {
            config: config.clone(),
            algorithms,
            keys: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
        });
        if let Some(file) = &config.jwks_file {
            let text = std::fs::read(file)
                .map_err(|e| format!("jwks_file: cannot read {}: {e}", file.display()))?;
            let keys = parse(&text).map_err(|e| format!("jwks_file {}: {e}", file.display()))?;
            verifier.store(keys);
        }
        Ok(verifier)
    }

    /// Checks `token`; the caller it names when valid.
    pub async fn verify(&self, token: &str) -> Result<Caller, JwtError> {
        let header = decode_header(token).map_err(|e| JwtError::Malformed(e.to_string()))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(JwtError::Algorithm(header.alg));
        }
        let keys = self.keys_for(header.kid.as_deref()).await?;
        let (key, key_alg) = match &header.kid {
            Some(kid) => keys
                .by_kid
                .get(kid)
                .ok_or_else(|| JwtError::UnknownKey(kid.clone()))?,
            None => match (keys.anonymous.as_slice(), keys.by_kid.len()) {
                ([only], 0) => only,
                ([], 1) => keys.by_kid.values().next().ok_or(JwtError::NoKid)?,
                _ => return Err(JwtError::NoKid),
            },
        };
        // A key pinned to an algorithm signs only with it.
        if key_alg.is_some_and(|a| a != header.alg) {
            return Err(JwtError::Algorithm(header.alg));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.config.leeway_seconds;
        validation.validate_nbf = true;
        let data = decode::<Claims>(token, key, &validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if let Some(required) = &self.config.required_scope {
            let has = claims.scope.as_ref().is_some_and(|s| s.contains(required))
                || claims.scp.as_ref().is_some_and(|s| s.contains(required));
            if !has {
                return Err(JwtError::Scope(required.clone()));
            }
        }
        Ok(Caller {
            subject: claims.sub,
            client_id: claims.client_id,
        })
    }

    /// The key set, fetched when there is none, when it is older than
    /// `jwks_max_age_seconds`, or when it lacks `kid` (at most once per
    /// `jwks_min_refresh_seconds`: a stream of made-up kids costs no more).
    async fn keys_for(&self, kid: Option<&str>) -> Result<Arc<Keys>, JwtError> {
        let current = self.current();
        let Some(url) = &self.config.jwks_url else {
            return current.ok_or_else(|| JwtError::Jwks("no keys".into()));
        };
        let stale =
            |k: &Keys| k.fetched.elapsed() > Duration::from_secs(self.config.jwks_max_age_seconds);
        let unknown = |k: &Keys| kid.is_some_and(|kid| !k.by_kid.contains_key(kid));
        let may_refetch = |k: &Keys| {
            k.fetched.elapsed() >= Duration::from_secs(self.config.jwks_min_refresh_seconds)
        };
        if let Some(k) = &current
            && !stale(k)
            && !(unknown(k) && may_refetch(k))
        {
            return Ok(Arc::clone(k));
        }
        let _one = self.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(k) = self.current()
            && !stale(&k)
            && !(unknown(&k) && may_refetch(&k))
        {
            return Ok(k);
        }
        match fetch(url).await {
            Ok(keys) => {
                self.store(keys);
                self.current()
                    .ok_or_else(|| JwtError::Jwks("no keys".into()))
            }
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "jwks fetch failed");
                // The last good keys still serve (a brief outage of the
                // issuer does not lock callers out).
                match current {
                    Some(k) => {
                        self.touch();
                        Ok(k)
                    }
                    None => Err(JwtError::Jwks(e)),
                }
            }
        }
    }

    fn current(&self) -> Option<Arc<Keys>> {
        self.keys.read().ok().and_then(|k| k.clone())
    }

    fn store(&self, keys: Keys) {
        if let Ok(mut k) = self.keys.write() {
            *k = Some(Arc::new(keys));
        }
    }

    /// After a failed fetch, keeps the old keys but waits the minimum
    /// interval before trying again.
    fn touch(&self) {
        if let Ok(mut guard) = self.keys.write()
            && let Some(k) = guard.as_ref()
        {
            let by_kid = k.by_kid.clone();
            let anonymous = k.anonymous.clone();
            *guard = Some(Arc::new(Keys {
                by_kid,
                anonymous,
                fetched: Instant::now(),
            }));
        }
    }
}

fn parse(text: &[u8]) -> Result<Keys, String> {
    let set: JwkSet = serde_json::from_slice(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut by_kid = HashMap::new();
    let mut anonymous = Vec::new();
    for jwk in &set.keys {
        let Some(key) = usable(jwk) else { continue };
        match &jwk.common.key_id {
            Some(kid) => {
                by_kid.insert(kid.clone(), key);
            }
            None => anonymous.push(key),
        }
    }
    if by_kid.is_empty() && anonymous.is_empty() {
        return Err("no usable signing key".into());
    }
    Ok(Keys {
        by_kid,
        anonymous,
        fetched: Instant::now(),
    })
}

/// A JWK that verifies signatures: not an encryption key, not a
/// symmetric one.
fn usable(jwk: &Jwk) -> Option<(DecodingKey, Option<Algorithm>)> {
    use jsonwebtoken::jwk::{AlgorithmParameters, PublicKeyUse};
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        return None;
    }
    let alg = jwk
        .common
        .key_algorithm
        .and_then(|a| a.to_string().parse::<Algorithm>().ok());
    DecodingKey::from_jwk(jwk).ok().map(|k| (k, alg))
}

async fn fetch(url: &str) -> Result<Keys, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("no trust roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<Bytes>>(https);
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let read = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| e.to_string())
    };
    let body = tokio::time::timeout(FETCH_TIMEOUT, read)
        .await
        .map_err(|_| format!("no answer within {FETCH_TIMEOUT:?}"))??;
    parse(&body)
}
