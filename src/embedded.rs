//! An embedded DynamoDB-compatible store (Dynoxide, SQLite-backed) on a
//! loopback port: `serve --embedded` and the test harness both use it.

use std::path::Path;

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{config::Config, local::point_at_local_store};

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("embedded store directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("embedded store: {0}")]
    Open(String),
    #[error("embedded store: cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
}

pub struct Embedded {
    endpoint: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

/// File name of the SQLite database inside `serve --embedded DIR`.
pub const DB_FILE: &str = "curity-dynamodb.sqlite";

impl Embedded {
    /// Starts the store: persisted in `dir` when given, in memory otherwise.
    pub async fn start(dir: Option<&Path>) -> Result<Self, EmbeddedError> {
        let db = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| EmbeddedError::Dir {
                    path: dir.display().to_string(),
                    source,
                })?;
                let file = dir.join(DB_FILE);
                dynoxide::Database::new(&file.to_string_lossy())
            }
            None => dynoxide::Database::memory(),
        }
        .map_err(|e| EmbeddedError::Open(e.to_string()))?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(EmbeddedError::Bind)?;
        let addr = listener.local_addr().map_err(EmbeddedError::Bind)?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(dynoxide::server::serve_with_shutdown(
            listener,
            db,
            async move {
                let _ = rx.await;
            },
        ));
        Ok(Self {
            endpoint: format!("http://{addr}"),
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Points `config` at this store.
    pub fn configure(&self, config: &mut Config) {
        point_at_local_store(config, &self.endpoint);
    }

    /// Stops accepting requests and waits for the running ones.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
