//! Curity's JSON data source protocol (plugin type `json`) over the same
//! store as gRPC, so a stock Curity uses this service by configuration
//! alone: credential verification (POST JSON, POST form, GET query) and
//! update (PUT), attribute lookup, buckets. The contract, and what of it is
//! inferred: docs/curity-json-datasource.md.
//!
//! HTTP/1.1 on its own port (`json_ds.listen`), TLS and mutual TLS from
//! `tls.rs`, Basic or bearer authentication of Curity checked before a
//! body is read. Routing is done here on the raw path, because a subject
//! may carry an encoded `/` (`%2F`) inside its segment.

mod auth;
mod handlers;
pub mod params;
pub mod passwords;

use std::{convert::Infallible, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::Semaphore, task::JoinHandle};

pub use self::auth::JsonAuth;
use crate::{
    config::JsonDsConfig,
    store::Store,
    tls::{ClientCert, Tls},
};

/// What every request shares.
pub struct JsonDs {
    pub(crate) store: Store,
    pub(crate) config: JsonDsConfig,
    pub(crate) auth: JsonAuth,
    /// Bounds the CPU password verification and hashing take.
    pub(crate) verifications: Semaphore,
    /// Bounds the connections served at once (each holds a task and its
    /// buffers): past it, new connections are closed at once.
    connections: Arc<Semaphore>,
}

/// Connections the JSON port serves at once: Curity's HTTP client pools
/// at most 100 per data source by default.
const MAX_CONNECTIONS: usize = 1024;

/// How long a connection may take to send a request's head (slow or idle
/// clients do not hold a connection slot for ever).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A response: status and a JSON object (or nothing, for 204).
pub(crate) type Reply = (StatusCode, Option<Value>);

pub(crate) fn error(status: StatusCode, code: &str) -> Reply {
    (status, Some(json!({ "error": code })))
}

impl JsonDs {
    pub fn new(store: Store, config: JsonDsConfig) -> Result<Arc<Self>, String> {
        let auth = JsonAuth::load(&config.auth)?;
        Ok(Arc::new(Self {
            verifications: Semaphore::new(config.max_concurrent_verifications.max(1)),
            connections: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            store,
            auth,
            config,
        }))
    }

    /// Serves `listener` (over `tls` when given) until the task is
    /// aborted; the secret files are re-read every `reload`.
    pub fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        tls: Option<Arc<Tls>>,
        reload: Duration,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            let _watch = self.auth.watch(reload);
            match tls {
                Some(tls) => {
                    let _tls_watch = tls.watch(reload);
                    let mut incoming = tls.incoming(listener);
                    while let Some(conn) = incoming.recv().await {
                        let Ok(conn) = conn else { continue };
                        let client = tonic::transport::server::Connected::connect_info(&conn);
                        self.clone().connection(TokioIo::new(conn), client);
                    }
                }
                None => loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = tcp.set_nodelay(true);
                    self.clone()
                        .connection(TokioIo::new(tcp), ClientCert::NotAsked);
                },
            }
        })
    }

    fn connection<I>(self: Arc<Self>, io: I, client: ClientCert)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Ok(permit) = Arc::clone(&self.connections).try_acquire_owned() else {
            tracing::warn!(target: "curity_dynamodb::json_ds", "connection limit reached: closed");
            return;
        };
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| {
                let ds = self.clone();
                async move { Ok::<_, Infallible>(ds.handle(req, client).await) }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let _ = builder.http1_only().serve_connection(io, service).await;
        });
    }

    async fn handle(&self, req: Request<Incoming>, client: ClientCert) -> Response<Full<Bytes>> {
        let started = std::time::Instant::now();
        let method = req.method().clone();
        let timeout = Duration::from_secs(self.config.request_timeout_seconds);
        let (status, body) = match self.auth.check(req.headers(), client) {
            Err(reply) => reply,
            Ok(()) => match tokio::time::timeout(timeout, self.route(req)).await {
                Ok(reply) => reply,
                Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            },
        };
        // Never the path or the body: either may carry a subject or a
        // password.
        tracing::info!(
            target: "curity_dynamodb::json_ds",
            method = %method,
            status = status.as_u16(),
            latency_ms = started.elapsed().as_millis() as u64,
            "json data source request"
        );
        metrics::counter!("curity_dynamodb_json_ds_requests_total",
            "method" => method.to_string(), "status" => status.as_u16().to_string())
        .increment(1);
        respond(status, body)
    }

    /// Matches the raw (still encoded) path against the configured paths.
    async fn route(&self, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().to_string();
        let Some(rest) = path.strip_prefix(self.config.context.as_str()) else {
            return error(StatusCode::NOT_FOUND, "not_found");
        };
        let c = &self.config;
        if rest == c.credentials_path {
            return match *req.method() {
                Method::POST | Method::GET => self.verify(req).await,
                Method::PUT => self.update_password(req).await,
                _ => error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            };
        }
        if let Some(tail) = under(rest, &c.attributes_path) {
            if *req.method() != Method::GET {
                return error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            }
            return self.attributes(req, tail).await;
        }
        if let Some(tail) = under(rest, &c.buckets_path) {
            return self.bucket(req, tail).await;
        }
        error(StatusCode::NOT_FOUND, "not_found")
    }

    /// The request body, at most `json_ds.max_body_bytes`.
    pub(crate) async fn body(&self, req: Request<Incoming>) -> Result<Bytes, Reply> {
        match Limited::new(req.into_body(), self.config.max_body_bytes)
            .collect()
            .await
        {
            Ok(b) => Ok(b.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                Err(error(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large"))
            }
            Err(_) => Err(error(StatusCode::BAD_REQUEST, "invalid_request")),
        }
    }
}

/// `rest` is `base` or `base/...`: what follows (`""` or `"/..."`).
fn under<'a>(rest: &'a str, base: &str) -> Option<&'a str> {
    let tail = rest.strip_prefix(base)?;
    (tail.is_empty() || tail.starts_with('/')).then_some(tail)
}

fn respond(status: StatusCode, body: Option<Value>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    if status == StatusCode::UNAUTHORIZED {
        builder = builder.header(header::WWW_AUTHENTICATE, "Basic realm=\"curity-dynamodb\"");
    }
    let body = match body {
        Some(v) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Full::new(Bytes::from(v.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    builder.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
