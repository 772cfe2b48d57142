//! The gRPC server: data services behind caller authentication,
//! `grpc.health.v1` (open, for probes), reflection when enabled, readiness
//! and graceful shutdown. It refuses to serve a non-loopback address
//! without authentication unless `server.insecure` says so. The listener and the shutdown signal are passed
//! in, so tests run it on `127.0.0.1:0` and stop it when they like.

use std::{future::Future, pin::Pin, time::Duration};

use tokio::{net::TcpListener, sync::oneshot};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::transport::{Server, server::TcpIncoming};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    api,
    auth::{Auth, AuthLayer, BearerToken},
    config::ServerConfig,
    jwt::JwtVerifier,
    proto::FILE_DESCRIPTOR_SET,
    store::Store,
    tls::Tls,
    unproven::{Proving, Unproven},
};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("grpc reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("grpc server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("server.auth: {0}")]
    Auth(String),
    #[error("{0}")]
    Exposed(String),
    #[error("server.listen: {0}")]
    Listener(#[from] std::io::Error),
    #[error("{0}")]
    Tls(String),
}

/// Answered SERVING while the process runs: the liveness probe's service.
/// Readiness ("" and the data services) follows DynamoDB; liveness must
/// not, or a DynamoDB outage would restart every pod.
pub const LIVENESS_SERVICE: &str = "liveness";

async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    metrics::gauge!(crate::telemetry::READY)
        .set(f64::from(u8::from(status == ServingStatus::Serving)));
    reporter.set_service_status("", status).await;
    for s in api::SERVICE_NAMES {
        reporter.set_service_status(s, status).await;
    }
}

/// Serves until `shutdown` resolves, then reports NOT_SERVING, stops
/// accepting, and gives in-flight RPCs `settings.shutdown_grace` to finish.
pub async fn run(
    listener: TcpListener,
    store: Store,
    settings: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let local = listener.local_addr()?;
    if let Some(problem) = settings.exposure_problem(local) {
        return Err(ServeError::Exposed(problem));
    }
    if settings.unauthenticated_on_network(local) {
        tracing::warn!(
            listen = %local,
            "--insecure: callers on this network address are not authenticated; \
             anyone who reaches the port can read and change every identity"
        );
    }
    let (bearer, token_watch) = match &settings.auth.bearer_token_file {
        None => (None, None),
        Some(path) => {
            let token = BearerToken::load(path)
                .map_err(|e| ServeError::Auth(format!("bearer_token_file: {e}")))?;
            let watch = token.watch(Duration::from_secs(settings.auth.reload_seconds));
            (Some(token), Some(watch))
        }
    };
    let jwt = match &settings.auth.jwt {
        None => None,
        Some(c) => Some(JwtVerifier::new(c).map_err(|e| ServeError::Auth(format!("jwt: {e}")))?),
    };
    let auth = Auth::new(bearer, jwt);
    let tls = if settings.tls.enabled() {
        Some(Tls::load(&settings.tls, "server.tls").map_err(ServeError::Tls)?)
    } else {
        None
    };
    let tls_watch = tls
        .as_ref()
        .map(|t| t.watch(Duration::from_secs(settings.auth.reload_seconds)));
    let (reporter, health) = tonic_health::server::health_reporter();
    set_health(&reporter, ServingStatus::NotServing).await;
    reporter
        .set_service_status(LIVENESS_SERVICE, ServingStatus::Serving)
        .await;
    let mut routes = api::services(&store);
    if settings.reflection == Some(true) {
        // Both versions: grpcurl speaks v1, Python's grpcio-reflection and
        // older clients only v1alpha.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        routes = routes
            .add_service(reflection().build_v1()?)
            .add_service(reflection().build_v1alpha()?);
    }

    let readiness = tokio::spawn(watch_readiness(
        store.clone(),
        reporter.clone(),
        Readiness::from(settings),
    ));

    let (drain_tx, drain_rx) = oneshot::channel::<()>();
    let signal_reporter = reporter.clone();
    let stop_watching = readiness.abort_handle();
    let delay = settings.shutdown_delay();
    let signal = async move {
        shutdown.await;
        // The watcher must not report SERVING again after this.
        stop_watching.abort();
        set_health(&signal_reporter, ServingStatus::NotServing).await;
        // Endpoints leave the Service some time after NOT_SERVING (probe
        // period, kube-proxy sync): calls keep arriving meanwhile, and are
        // still served.
        tracing::info!(
            delay_seconds = delay.as_secs(),
            "shutting down: not serving, still accepting"
        );
        tokio::time::sleep(delay).await;
        tracing::info!("shutting down: draining in-flight rpcs");
        let _ = drain_tx.send(());
    };

    // Probes over plain HTTP/2 beside a TLS port: health only, nothing else.
    let health_port = match settings.health_listen {
        None => None,
        Some(addr) => {
            let listener = TcpListener::bind(addr).await?;
            let health = health.clone();
            Some(tokio::spawn(async move {
                let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
                if let Err(e) = Server::builder()
                    .add_service(health)
                    .serve_with_incoming(incoming)
                    .await
                {
                    tracing::warn!(error = %e, "health listener stopped");
                }
            }))
        }
    };
    // Every data service call: authenticated first (a stranger takes no
    // permit), then admitted and counted; the timeout around both.
    let serve = Server::builder()
        .timeout(Duration::from_secs(settings.request_timeout_seconds))
        .max_concurrent_streams(settings.max_concurrent_streams)
        .layer(AuthLayer(auth))
        .layer(api::Admission::new(
            settings.max_concurrent_requests,
            Duration::from_secs(settings.request_timeout_seconds),
        ))
        .add_routes(routes)
        .add_service(health);
    let serve: Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>> =
        match &tls {
            None => Box::pin(serve.serve_with_incoming_shutdown(proving(listener), signal)),
            Some(tls) => {
                Box::pin(serve.serve_with_incoming_shutdown(
                    ReceiverStream::new(tls.incoming(listener)),
                    signal,
                ))
            }
        };
    tokio::pin!(serve);

    let grace = settings.shutdown_grace();
    let result = tokio::select! {
        r = &mut serve => r,
        _ = drain_rx => match tokio::time::timeout(grace, &mut serve).await {
            Ok(r) => r,
            Err(_) => {
                tracing::warn!(grace_seconds = grace.as_secs(), "grace period over: dropping unfinished rpcs");
                Ok(())
            }
        },
    };
    readiness.abort();
    for watch in [token_watch, tls_watch, health_port].into_iter().flatten() {
        watch.abort();
    }
    result.map_err(Into::into)
}

/// When readiness re-checks DynamoDB and how many results flip it.
#[derive(Debug, Clone, Copy)]
struct Readiness {
    retry: Duration,
    interval: Duration,
    fail_after: u32,
    recover_after: u32,
}

impl From<&ServerConfig> for Readiness {
    fn from(s: &ServerConfig) -> Self {
        Self {
            retry: Duration::from_secs(s.readiness_retry_seconds),
            interval: Duration::from_secs(s.readiness_interval_seconds),
            fail_after: s.readiness_failure_threshold,
            recover_after: s.readiness_success_threshold,
        }
    }
}

/// Readiness follows DynamoDB: a DescribeTable on the accounts table with
/// the service's own credentials, every `retry` while NOT_SERVING and every
/// `interval` while SERVING. `recover_after` good checks in a row make the
/// replica SERVING, `fail_after` failed ones NOT_SERVING (one slow answer
/// does not take it out). Liveness never follows.
async fn watch_readiness(store: Store, reporter: HealthReporter, r: Readiness) {
    let (mut serving, mut good, mut bad) = (false, 0u32, 0u32);
    loop {
        match store.ping().await {
            Ok(()) => {
                (good, bad) = (good.saturating_add(1), 0);
                if !serving && good >= r.recover_after {
                    serving = true;
                    set_health(&reporter, ServingStatus::Serving).await;
                    tracing::info!(table = %store.accounts().name(), "dynamodb reachable: serving");
                }
            }
            Err(e) => {
                (good, bad) = (0, bad.saturating_add(1));
                tracing::warn!(failures = bad, error = %e, cause = e.cause().unwrap_or(""), "dynamodb check failed");
                if serving && bad >= r.fail_after {
                    serving = false;
                    set_health(&reporter, ServingStatus::NotServing).await;
                    tracing::warn!("dynamodb unreachable: not serving");
                }
            }
        }
        tokio::time::sleep(if serving { r.interval } else { r.retry }).await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Connections of the plaintext port, each unproven until it has sent an
/// HTTP/2 client preface: idle or slow strangers give way to new
/// connections instead of filling the port.
fn proving(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<Proving<tokio::net::TcpStream>>> {
    let unproven = Unproven::new(MAX_UNPROVEN);
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(move |accepted| {
        accepted.map(|tcp| {
            let _ = tcp.set_nodelay(true);
            Proving::new(tcp, unproven.admit(), HTTP2_PREFACE)
        })
    })
}

/// Connections waiting to send their preface.
const MAX_UNPROVEN: usize = 256;
/// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
const HTTP2_PREFACE: usize = 24;
