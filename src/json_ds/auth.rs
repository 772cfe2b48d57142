//! Authentication of Curity on the JSON port, before any body is read:
//! mutual TLS (when a client CA is set, the certificate must verify) and
//! HTTP Basic, a bearer token or an OAuth access token (when any is set,
//! one must match). The
//! secrets live in files, compared by digest in constant time, re-read
//! when they change (`auth::BearerToken`).

use std::{sync::Arc, time::Duration};

use base64::Engine;
use http::{HeaderMap, StatusCode, header};
use subtle::ConstantTimeEq;
use tokio::task::JoinHandle;

use super::{Reply, error};
use crate::{
    auth::{Auth, BearerToken},
    config::JsonDsAuthConfig,
    jwt::JwtVerifier,
    tls::ClientCert,
};

pub struct JsonAuth {
    basic: Option<(String, Arc<BearerToken>)>,
    /// Bearer token and access tokens, checked as on the gRPC port.
    tokens: Auth,
}

/// Stops the secret-file watchers when dropped.
pub struct Watching(Vec<JoinHandle<()>>);

impl Drop for Watching {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

impl JsonAuth {
    pub fn load(c: &JsonDsAuthConfig) -> Result<Self, String> {
        let basic = match (&c.basic_username, &c.basic_password_file) {
            (Some(user), Some(file)) => Some((
                user.clone(),
                BearerToken::load(file)
                    .map_err(|e| format!("json_ds.auth.basic_password_file: {e}"))?,
            )),
            _ => None,
        };
        let bearer = match &c.bearer_token_file {
            Some(file) => Some(
                BearerToken::load(file)
                    .map_err(|e| format!("json_ds.auth.bearer_token_file: {e}"))?,
            ),
            None => None,
        };
        let jwt = match &c.jwt {
            Some(j) => Some(JwtVerifier::new(j).map_err(|e| format!("json_ds.auth.jwt: {e}"))?),
            None => None,
        };
        Ok(Self {
            basic,
            tokens: Auth::new(bearer, jwt),
        })
    }

    pub fn watch(&self, every: Duration) -> Watching {
        let mut tasks = Vec::new();
        if let Some((_, p)) = &self.basic {
            tasks.push(p.watch(every));
        }
        if let Some(t) = self.tokens.bearer_token() {
            tasks.push(t.watch(every));
        }
        Watching(tasks)
    }

    /// `401` unless the caller proved who it is as configured. One body
    /// for every failure: nothing to learn from it.
    pub async fn check(&self, headers: &HeaderMap, client: ClientCert) -> Result<(), Reply> {
        let refused = || Err(error(StatusCode::UNAUTHORIZED, "unauthorized"));
        if client == ClientCert::Refused {
            return refused();
        }
        if self.basic.is_none() && self.tokens.is_open() {
            return Ok(());
        }
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return refused();
        };
        if let Some(presented) = value.strip_prefix("Bearer ") {
            return match self.tokens.token(presented.trim()).await {
                Some(_) => Ok(()),
                None => refused(),
            };
        }
        if let (Some((user, password)), Some(encoded)) = (&self.basic, value.strip_prefix("Basic "))
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                let user_ok = bool::from(u.as_bytes().ct_eq(user.as_bytes()));
                // Both compared whatever the first said.
                let password_ok = password.accepts(p.as_bytes());
                if user_ok && password_ok {
                    return Ok(());
                }
            }
        }
        refused()
    }
}
