//! A bounded pool of DynamoDB clients. All clients come from one config, so
//! they share the HTTP connection pool and the identity cache: holding a
//! pooled client is a permit to have one call in flight, and callers that
//! wait too long get a retryable error instead of queueing forever.

use std::{convert::Infallible, sync::OnceLock, time::Duration};

use aws_sdk_dynamodb::Client;
use deadpool::{
    Runtime,
    managed::{self, Metrics, Object, PoolError, RecycleResult},
};

use crate::error::StoreError;

#[derive(Debug)]
pub struct ClientManager {
    config: aws_sdk_dynamodb::Config,
}

impl managed::Manager for ClientManager {
    type Type = Client;
    type Error = Infallible;

    async fn create(&self) -> Result<Client, Infallible> {
        Ok(Client::from_conf(self.config.clone()))
    }

    async fn recycle(&self, _: &mut Client, _: &Metrics) -> RecycleResult<Infallible> {
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct DynamoPool {
    pool: managed::Pool<ClientManager>,
    wait: Duration,
}

/// A checked-out client; dereferences to `aws_sdk_dynamodb::Client`.
pub type PooledClient = Object<ClientManager>;

#[derive(Debug, thiserror::Error)]
#[error("pool.max_size: {0}")]
pub struct PoolBuildError(String);

impl DynamoPool {
    pub fn new(
        config: aws_sdk_dynamodb::Config,
        max_size: usize,
        wait: Duration,
    ) -> Result<Self, PoolBuildError> {
        let pool = managed::Pool::builder(ClientManager { config })
            .max_size(max_size)
            .wait_timeout(Some(wait))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| PoolBuildError(e.to_string()))?;
        Ok(Self { pool, wait })
    }

    pub async fn get(&self) -> Result<PooledClient, StoreError> {
        let result = self.pool.get().await;
        self.record_gauges();
        match result {
            Ok(client) => Ok(client),
            Err(PoolError::Timeout(_) | PoolError::Closed | PoolError::NoRuntimeSpecified) => {
                metrics::counter!("curity_dynamodb_pool_timeouts_total").increment(1);
                Err(StoreError::PoolExhausted { waited: self.wait })
            }
            Err(PoolError::Backend(never)) => match never {},
            Err(PoolError::PostCreateHook(_)) => {
                Err(StoreError::PoolExhausted { waited: self.wait })
            }
        }
    }

    pub fn status(&self) -> deadpool::Status {
        self.pool.status()
    }

    fn record_gauges(&self) {
        // Registered on first use, not per call: the recorder's lookup by
        // name costs more than setting the value.
        static GAUGES: OnceLock<[metrics::Gauge; 3]> = OnceLock::new();
        let [size, in_use, waiting] = GAUGES.get_or_init(|| {
            [
                metrics::gauge!("curity_dynamodb_pool_size"),
                metrics::gauge!("curity_dynamodb_pool_in_use"),
                metrics::gauge!("curity_dynamodb_pool_waiting"),
            ]
        });
        let s = self.pool.status();
        size.set(s.size as f64);
        in_use.set(s.size.saturating_sub(s.available) as f64);
        waiting.set(s.waiting as f64);
    }

    pub fn close(&self) {
        self.pool.close();
    }
}
