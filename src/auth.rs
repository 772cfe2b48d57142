//! Caller authentication: a bearer token every call must carry, read from a
//! file (a Kubernetes Secret) and re-read when the file changes, compared in
//! constant time, or an OAuth access token (`jwt`). Health stays open for
//! probes; everything else is behind [`AuthLayer`], a tower layer (async:
//! a token naming a new key fetches the issuer's keys).

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::Status;

use crate::{config::read_token, jwt::JwtVerifier, tls::ClientCert};

/// Only the digest is kept: equal lengths for the constant-time compare,
/// and no token in memory dumps of this struct.
type Digest32 = [u8; 32];

fn digest(token: &[u8]) -> Digest32 {
    Sha256::digest(token).into()
}

/// Who may call: anyone (loopback, `--insecure`, or mutual TLS alone), or
/// callers presenting the bearer token or a valid access token.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    bearer: Option<Arc<BearerToken>>,
    jwt: Option<Arc<JwtVerifier>>,
}

/// Who made a call, as the audit trail names it: never the credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// Nothing asked of the caller (loopback, `--insecure`).
    Anonymous,
    /// The bearer token, by the first four bytes of its SHA-256.
    Bearer([u8; 4]),
    /// An accepted access token, by its `sub` (else its `client_id`).
    Token(Arc<str>),
    /// A client certificate the client CA verifies, by its subject.
    Certificate(Arc<str>),
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => f.write_str("anonymous"),
            Self::Bearer(fp) => write!(f, "bearer:{}", crate::tls::hex_prefix(fp)),
            Self::Token(who) => write!(f, "jwt:{who}"),
            Self::Certificate(subject) => write!(f, "cert:{subject}"),
        }
    }
}

/// One message for every refusal: nothing to learn from it.
const REFUSED: &str = "missing or invalid bearer token (authorization: Bearer <token>)";

impl Auth {
    /// No token required (mutual TLS, when configured, still is).
    pub fn open() -> Self {
        Self::default()
    }

    pub fn new(bearer: Option<Arc<BearerToken>>, jwt: Option<Arc<JwtVerifier>>) -> Self {
        Self { bearer, jwt }
    }

    /// Who the caller is, if a call with these headers, over a connection
    /// whose client certificate was judged `cert`, may proceed.
    pub async fn check(
        &self,
        headers: &http::HeaderMap,
        cert: Option<&ClientCert>,
    ) -> Result<Caller, Status> {
        // Set by the TLS acceptor when a client CA is configured.
        let by_cert = match cert {
            Some(ClientCert::Refused) => {
                return Err(Status::unauthenticated(
                    "missing or untrusted client certificate",
                ));
            }
            Some(ClientCert::Trusted(subject)) => Caller::Certificate(Arc::clone(subject)),
            Some(ClientCert::NotAsked) | None => Caller::Anonymous,
        };
        if self.is_open() {
            return Ok(by_cert);
        }
        let presented = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| Status::unauthenticated(REFUSED))?;
        self.token(presented)
            .await
            .ok_or_else(|| Status::unauthenticated(REFUSED))
    }

    /// Whether neither a bearer token nor access tokens are configured.
    pub fn is_open(&self) -> bool {
        self.bearer.is_none() && self.jwt.is_none()
    }

    /// The bearer token file, for its watcher.
    pub fn bearer_token(&self) -> Option<&Arc<BearerToken>> {
        self.bearer.as_ref()
    }

    /// Who presented `presented` (the text after `Bearer `): the bearer
    /// token, or an access token the verifier accepts; `None` for anything
    /// else.
    pub async fn token(&self, presented: &str) -> Option<Caller> {
        if let Some(fingerprint) = self
            .bearer
            .as_ref()
            .and_then(|t| t.accept(presented.as_bytes()))
        {
            return Some(Caller::Bearer(fingerprint));
        }
        match self.jwt.as_ref()?.verify(presented).await {
            Ok(claims) => {
                let who = claims.subject.or(claims.client_id).unwrap_or_default();
                Some(Caller::Token(Arc::from(who)))
            }
            // Debug: anyone can send a bad token; a warning per call would
            // let them flood the log.
            Err(e) => {
                tracing::debug!(error = %e, "access token refused");
                None
            }
        }
    }
}

/// [`Auth`] in front of every route but health.
#[derive(Clone, Debug)]
pub struct AuthLayer(pub Auth);

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            auth: self.0.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    auth: Auth,
}

/// Health answers probes without credentials.
const OPEN_PREFIX: &str = "/grpc.health.v1.Health/";

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The clone is ready only if polled; keep the polled one for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            if req.uri().path().starts_with(OPEN_PREFIX) {
                return inner.call(req).await;
            }
            let cert = client_cert(req.extensions());
            match auth.check(req.headers(), cert.as_ref()).await {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                    inner.call(req).await
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

/// The client-certificate verdict of the call's connection, when there is
/// one (TLS with a client CA: the acceptor's connect info).
fn client_cert(ext: &http::Extensions) -> Option<ClientCert> {
    ext.get::<ClientCert>().cloned()
}

#[derive(Debug)]
pub struct BearerToken {
    path: PathBuf,
    current: RwLock<(Digest32, Option<SystemTime>)>,
}

impl BearerToken {
    pub fn load(path: &Path) -> Result<Arc<Self>, String> {
        let token = read_token(path)?;
        Ok(Arc::new(Self {
            path: path.to_path_buf(),
            current: RwLock::new((digest(token.as_bytes()), modified(path))),
        }))
    }

    /// Re-reads the file when its modification time moved. A file that
    /// became unreadable or invalid keeps the last good token (logged):
    /// a half-written Secret update must not lock every caller out.
    pub fn reload(&self) {
        let now = modified(&self.path);
        let seen = self.current.read().map(|c| c.1).unwrap_or(None);
        if now == seen {
            return;
        }
        match read_token(&self.path) {
            Ok(token) => {
                if let Ok(mut c) = self.current.write() {
                    *c = (digest(token.as_bytes()), now);
                }
                tracing::info!(file = %self.path.display(), "bearer token reloaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "bearer token file unusable: keeping the last token")
            }
        }
    }

    /// Polls the file every `every` until the returned task is aborted.
    pub fn watch(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let token = Arc::clone(self);
        crate::config::poll(every, move || token.reload())
    }

    pub(crate) fn accepts(&self, presented: &[u8]) -> bool {
        self.accept(presented).is_some()
    }

    /// The token's fingerprint (first four bytes of its SHA-256) when
    /// `presented` is the token.
    pub(crate) fn accept(&self, presented: &[u8]) -> Option<[u8; 4]> {
        let presented = digest(presented);
        let equal = match self.current.read() {
            Ok(c) => bool::from(c.0.ct_eq(&presented)),
            Err(_) => false,
        };
        equal.then(|| [presented[0], presented[1], presented[2], presented[3]])
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        auth: &Auth,
        header: Option<&str>,
        cert: Option<&ClientCert>,
    ) -> Result<Caller, tonic::Code> {
        let mut headers = http::HeaderMap::new();
        if let Some(h) = header {
            headers.insert("authorization", h.parse().unwrap());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(auth.check(&headers, cert))
            .map_err(|s| s.code())
    }

    fn call(auth: &mut Auth, header: Option<&str>) -> Result<(), tonic::Code> {
        check(auth, header, None).map(|_| ())
    }

    /// Writes `text` with a modification time `ahead` seconds from now.
    fn rewrite(path: &Path, text: &str, ahead: u64) {
        std::fs::write(path, text).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() + Duration::from_secs(ahead))
            .unwrap();
    }

    #[test]
    fn only_the_exact_bearer_token_passes_and_rotation_is_picked_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first-token-0123456789\n").unwrap();
        let token = BearerToken::load(&path).unwrap();
        let mut auth = Auth::new(Some(token.clone()), None);
        assert_eq!(
            call(&mut auth, Some("Bearer first-token-0123456789")),
            Ok(())
        );
        for bad in [
            None,
            Some("Bearer first-token-012345678"),
            Some("first-token-0123456789"),
            Some("Basic x"),
        ] {
            assert_eq!(
                call(&mut auth, bad),
                Err(tonic::Code::Unauthenticated),
                "{bad:?}"
            );
        }
        // A new mtime, as a Secret update gives.
        rewrite(&path, "second-token-0123456789", 5);
        token.reload();
        assert_eq!(
            call(&mut auth, Some("Bearer second-token-0123456789")),
            Ok(())
        );
        assert_eq!(
            call(&mut auth, Some("Bearer first-token-0123456789")),
            Err(tonic::Code::Unauthenticated)
        );
        // A broken file keeps the last good token.
        rewrite(&path, "short", 10);
        token.reload();
        assert_eq!(
            call(&mut auth, Some("Bearer second-token-0123456789")),
            Ok(())
        );
    }

    #[test]
    fn open_auth_lets_everyone_in() {
        assert_eq!(call(&mut Auth::open(), None), Ok(()));
    }

    fn caller(auth: &Auth, header: Option<&str>, cert: Option<&ClientCert>) -> Option<Caller> {
        check(auth, header, cert).ok()
    }

    #[test]
    fn the_caller_is_named_by_token_fingerprint_or_certificate_subject_never_by_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "audit-token-0123456789").unwrap();
        let auth = Auth::new(Some(BearerToken::load(&path).unwrap()), None);
        let by_token = caller(&auth, Some("Bearer audit-token-0123456789"), None).unwrap();
        let digest = Sha256::digest(b"audit-token-0123456789");
        assert_eq!(
            by_token.to_string(),
            format!("bearer:{}", crate::tls::hex_prefix(&digest))
        );
        assert!(!by_token.to_string().contains("audit-token"));

        let trusted = ClientCert::Trusted(Arc::from("CN=curity,O=Example"));
        let open = Auth::open();
        assert_eq!(
            caller(&open, None, Some(&trusted)).map(|c| c.to_string()),
            Some("cert:CN=curity,O=Example".to_owned())
        );
        assert_eq!(caller(&open, None, None), Some(Caller::Anonymous));
        assert_eq!(caller(&open, None, Some(&ClientCert::Refused)), None);
    }
}
