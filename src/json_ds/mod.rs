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
use tokio::{
    net::TcpListener,
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinHandle,
};

pub use self::auth::JsonAuth;
use crate::{
    config::{JsonDsConfig, JsonDsRoutes},
    store::Store,
    tls::{ClientCert, Tls},
    unproven::{Ticket, Unproven},
};

/// What every request shares.
pub struct JsonDs {
    pub(crate) store: Store,
    pub(crate) config: JsonDsConfig,
    routes: JsonDsRoutes,
    pub(crate) auth: JsonAuth,
    /// Bounds the CPU password verification and hashing take.
    pub(crate) verifications: Semaphore,
    /// Connections that have not sent an authenticated request yet: a
    /// bounded pool where the oldest gives way (idle strangers cannot
    /// fill the port).
    unproven: Arc<Unproven>,
    /// Bounds the authenticated connections served at once (each holds a
    /// task and its buffers).
    connections: Arc<Semaphore>,
}

/// Authenticated connections the JSON port serves at once: Curity's HTTP
/// client pools at most 100 per data source by default.
const MAX_CONNECTIONS: usize = 1024;

/// Connections waiting for their first authenticated request.
const MAX_UNPROVEN: usize = 256;

/// Where a connection stands: not yet authenticated (its place among the
/// unproven), or authenticated (its share of the connection limit).
enum Standing {
    Unproven(#[expect(dead_code, reason = "held: dropping it leaves the pool")] Ticket),
    Proven(#[expect(dead_code, reason = "held: dropping it frees the slot")] OwnedSemaphorePermit),
}

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
        let routes = config.routes()?;
        Ok(Arc::new(Self {
            routes,
            verifications: Semaphore::new(config.max_concurrent_verifications.max(1)),
            unproven: Unproven::new(MAX_UNPROVEN),
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
        let ticket = self.unproven.admit();
        let eviction = ticket.eviction();
        let standing = Arc::new(std::sync::Mutex::new(Standing::Unproven(ticket)));
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let ds = self.clone();
                let standing = Arc::clone(&standing);
                let client = client.clone();
                async move { Ok::<_, Infallible>(ds.handle(req, client, &standing).await) }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let builder = builder.http1_only();
            let conn = builder.serve_connection(io, service);
            // Evicted only while unproven: then the connection is closed.
            tokio::select! {
                _ = conn => {}
                () = eviction.notified() => {}
            }
        });
    }

    /// Moves an authenticated connection out of the unproven pool into the
    /// connection limit; `false` when that limit is reached.
    fn prove(&self, standing: &std::sync::Mutex<Standing>) -> bool {
        let mut standing = standing.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*standing, Standing::Proven(_)) {
            return true;
        }
        match Arc::clone(&self.connections).try_acquire_owned() {
            Ok(permit) => {
                *standing = Standing::Proven(permit);
                true
            }
            Err(_) => false,
        }
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
        client: ClientCert,
        standing: &std::sync::Mutex<Standing>,
    ) -> Response<Full<Bytes>> {
        let started = std::time::Instant::now();
        let method = req.method().clone();
        let timeout = Duration::from_secs(self.config.request_timeout_seconds);
        let (status, body) = match self.auth.check(req.headers(), client).await {
            Err(reply) => reply,
            Ok(()) if !self.prove(standing) => {
                tracing::warn!(target: "curity_dynamodb::json_ds", "connection limit reached");
                error(StatusCode::SERVICE_UNAVAILABLE, "too_many_connections")
            }
            Ok(()) => {
                // Never the path: it may carry a subject.
                let span = tracing::info_span!(
                    target: crate::telemetry::JSON_SPAN_TARGET,
                    "json_ds",
                    http_method = %method
                );
                crate::telemetry::traces::adopt_parent(&span, || {
                    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
                    (header("traceparent"), header("tracestate"))
                });
                let routed = tracing::Instrument::instrument(
                    tokio::time::timeout(timeout, self.route(req)),
                    span,
                );
                match routed.await {
                    Ok(reply) => reply,
                    Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "timeout"),
                }
            }
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

    /// Matches the raw (still encoded) path against the configured
    /// templates, in order: credentials, attributes, buckets.
    async fn route(&self, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().to_string();
        let Some(rest) = path.strip_prefix(self.config.context.as_str()) else {
            return error(StatusCode::NOT_FOUND, "not_found");
        };
        let query = match params::form(req.uri().query().unwrap_or("").as_bytes()) {
            Ok(q) => q,
            Err(e) => return handlers::bad(&e),
        };
        let r = &self.routes;
        if let Some(vars) = r.credentials.matches(rest, &query) {
            let vars = match vars {
                Ok(v) => v,
                Err(e) => return handlers::bad(&params::BadRequest(e.0)),
            };
            return match *req.method() {
                Method::POST | Method::GET => self.verify(req, vars).await,
                Method::PUT => self.update_password(req, vars).await,
                _ => error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            };
        }
        let attributes = r.attributes.matches(rest, &query).or_else(|| {
            r.attributes_by_parameter
                .as_ref()
                .and_then(|t| t.matches(rest, &query))
        });
        if let Some(vars) = attributes {
            let vars = match vars {
                Ok(v) => v,
                Err(e) => return handlers::bad(&params::BadRequest(e.0)),
            };
            if *req.method() != Method::GET {
                return error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            }
            return self.attributes(req, query, vars).await;
        }
        if let Some(vars) = r.buckets.matches(rest, &query) {
            let vars = match vars {
                Ok(v) => v,
                Err(e) => return handlers::bad(&params::BadRequest(e.0)),
            };
            return self.bucket(req, query, vars).await;
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

fn respond(status: StatusCode, body: Option<Value>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    if status == StatusCode::UNAUTHORIZED {
        builder = builder.header(header::WWW_AUTHENTICATE, "Basic realm=\"curity-dynamodb\"");
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // Throttling, overload, an outage, a full port: a second later is
        // as good a guess as any, and keeps a retrying caller from
        // spinning.
        builder = builder.header(header::RETRY_AFTER, "1");
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
