//! The application as `serve` runs it, wired in one place for `main`, the
//! test harness and the benches: the pooled DynamoDB clients, the cache and
//! its stream readers, the store, the gRPC listener and the JSON data
//! source port. What belongs to the process stays with the binary: logging,
//! the metrics exporter, the embedded store, validating the configuration.

use std::{future::Future, net::SocketAddr, time::Duration};

use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    aws::{Aws, DynamoPool, PoolBuildError},
    cache::{
        ItemCache,
        streams::{self, FollowError, Following},
    },
    config::Config,
    json_ds::JsonDs,
    server::{self, ServeError},
    store::Store,
    tls::Tls,
};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Pool(#[from] PoolBuildError),
    #[error(transparent)]
    Follow(#[from] FollowError),
    #[error("{key} {addr}: {source}")]
    Bind {
        key: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    JsonDs(String),
}

/// Built and bound, not yet serving gRPC (the JSON port already answers).
pub struct App {
    config: Config,
    store: Store,
    grpc: TcpListener,
    grpc_addr: SocketAddr,
    json_ds: Option<(Aborting, SocketAddr)>,
    following: Option<Following>,
}

impl App {
    /// `config` as validated (`Config::validate_to_serve` for `serve`),
    /// `aws` connected with its `aws` section; the tables must exist when
    /// the cache follows their streams.
    pub async fn build(config: Config, aws: &Aws) -> Result<App, AppError> {
        let pool = DynamoPool::new(
            aws.dynamodb_config().clone(),
            config.pool.max_size,
            Duration::from_millis(config.pool.wait_timeout_ms),
        )?;
        let cache = ItemCache::new(&config.cache);
        let following = streams::follow_configured(cache.as_ref(), aws, &config).await?;
        let store = Store::cached(pool, config.dynamodb.clone(), aws.method().as_str(), cache);
        let (grpc, grpc_addr) = bind("server.listen", config.server.listen).await?;
        tracing::info!(listen = %grpc_addr, access_method = aws.method().as_str(), "serving gRPC");
        let json_ds = match config.json_ds.listen {
            Some(addr) => Some(start_json_ds(addr, &store, &config).await?),
            None => None,
        };
        Ok(App {
            config,
            store,
            grpc,
            grpc_addr,
            json_ds,
            following,
        })
    }

    /// The bound gRPC address (the port chosen when configured as 0).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The bound JSON data source address, when `json_ds.listen` is set.
    pub fn json_addr(&self) -> Option<SocketAddr> {
        self.json_ds.as_ref().map(|(_, addr)| *addr)
    }

    /// Serves gRPC until `shutdown` resolves and the in-flight calls have
    /// drained (`server::run`); the JSON port and the stream readers stop
    /// with it, also when this future is dropped.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let App {
            config,
            store,
            grpc,
            json_ds,
            following,
            ..
        } = self;
        let _stopped_with_the_server = (json_ds, following);
        server::run(grpc, store, &config.server, shutdown).await
    }
}

/// A task aborted when this is dropped.
struct Aborting(JoinHandle<()>);

impl Drop for Aborting {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn bind(key: &'static str, addr: SocketAddr) -> Result<(TcpListener, SocketAddr), AppError> {
    let bound = async {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        Ok((listener, local))
    };
    bound
        .await
        .map_err(|source| AppError::Bind { key, addr, source })
}

/// The JSON data source port (`json_ds.listen`), over the same store.
async fn start_json_ds(
    addr: SocketAddr,
    store: &Store,
    config: &Config,
) -> Result<(Aborting, SocketAddr), AppError> {
    let tls = match config.json_ds.tls.enabled() {
        true => Some(Tls::load(&config.json_ds.tls, "json_ds.tls").map_err(AppError::JsonDs)?),
        false => None,
    };
    let ds = JsonDs::new(store.clone(), config.json_ds.clone()).map_err(AppError::JsonDs)?;
    let (listener, local) = bind("json_ds.listen", addr).await?;
    tracing::info!(listen = %local, "serving Curity's JSON data source protocol");
    if !local.ip().is_loopback() && !config.json_ds.authenticated() {
        tracing::warn!(
            listen = %local,
            "--insecure: Curity is not authenticated on the JSON data source port; \
             anyone who reaches it can verify passwords and read attributes"
        );
    } else if !local.ip().is_loopback() && !config.json_ds.tls.enabled() {
        tracing::warn!(
            listen = %local,
            "--insecure: the JSON data source port is not encrypted; \
             Curity's credentials and users' passwords cross the network in clear text"
        );
    }
    let task = ds.serve(
        listener,
        tls,
        Duration::from_secs(config.server.auth.reload_seconds),
    );
    Ok((Aborting(task), local))
}
