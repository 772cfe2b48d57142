//! TLS and mutual TLS for the gRPC port, with certificates re-read when
//! their files change (cert-manager rotates them in place): every new
//! connection is accepted with the configuration current at that moment.
//! Handshakes run in their own tasks, so a slow or silent client cannot
//! hold up the accept loop.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{self, RootCertStore, ServerConfig, server::WebPkiClientVerifier},
    server::TlsStream,
};

use crate::config::TlsConfig;

/// Longest a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; more connections wait in the kernel's
/// accept queue.
const MAX_HANDSHAKES: usize = 256;

/// The files of a TLS configuration and the rustls configuration built from
/// them, rebuilt when one of them changes.
#[derive(Debug)]
pub struct Tls {
    files: TlsConfig,
    current: RwLock<(Arc<ServerConfig>, Vec<Option<SystemTime>>)>,
}

impl Tls {
    /// Reads and checks the files; the error names the key and the file.
    pub fn load(files: &TlsConfig) -> Result<Arc<Self>, String> {
        let config = build(files)?;
        Ok(Arc::new(Self {
            files: files.clone(),
            current: RwLock::new((config, stamps(files))),
        }))
    }

    /// Rebuilds the configuration when a file's modification time moved.
    /// A broken replacement (half-written, mismatched key) keeps the last
    /// good configuration: rotation must never take the port down.
    pub fn reload(&self) {
        let now = stamps(&self.files);
        let changed = self.current.read().map(|c| c.1 != now).unwrap_or(false);
        if !changed {
            return;
        }
        match build(&self.files) {
            Ok(config) => {
                if let Ok(mut c) = self.current.write() {
                    *c = (config, now);
                }
                tracing::info!("tls certificates reloaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "tls files unusable: keeping the last configuration")
            }
        }
    }

    fn acceptor(&self) -> Option<TlsAcceptor> {
        self.current
            .read()
            .ok()
            .map(|c| TlsAcceptor::from(Arc::clone(&c.0)))
    }

    /// Polls the files every `every` until the returned task is aborted.
    pub fn watch(self: &Arc<Self>, every: Duration) -> JoinHandle<()> {
        let tls = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                tls.reload();
            }
        })
    }

    /// Accepts TCP connections on `listener` and hands completed TLS
    /// sessions to the returned receiver; the accept task stops when the
    /// receiver is dropped.
    pub fn incoming(
        self: &Arc<Self>,
        listener: TcpListener,
    ) -> mpsc::Receiver<Result<TlsStream<TcpStream>, std::io::Error>> {
        let (tx, rx) = mpsc::channel(64);
        let tls = Arc::clone(self);
        let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
        tokio::spawn(async move {
            loop {
                let Ok(permit) = Arc::clone(&handshakes).acquire_owned().await else {
                    return;
                };
                let (tcp, peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            continue;
                        }
                    },
                    () = tx.closed() => return,
                };
                let _ = tcp.set_nodelay(true);
                let Some(acceptor) = tls.acceptor() else {
                    return;
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send(Ok(stream)).await;
                        }
                        Ok(Err(e)) => handshake_failed(peer, &e.to_string()),
                        Err(_) => handshake_failed(peer, "timed out"),
                    }
                });
            }
        });
        rx
    }
}

fn handshake_failed(peer: SocketAddr, why: &str) {
    // Debug: anyone can open a connection and fail, so a warning per
    // attempt would let them flood the log.
    tracing::debug!(%peer, error = why, "tls handshake failed");
}

fn stamps(files: &TlsConfig) -> Vec<Option<SystemTime>> {
    files
        .paths()
        .into_iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{key}: cannot read {}: {e}", path.display()))
}

fn certs(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(key, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{key}: {} is not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{key}: {} holds no certificate", path.display()));
    }
    Ok(certs)
}

/// The rustls configuration of the files: the server's chain and key, and,
/// with a client CA, client certificates required and verified against it.
fn build(files: &TlsConfig) -> Result<Arc<ServerConfig>, String> {
    let (Some(cert_file), Some(key_file)) = (&files.cert_file, &files.key_file) else {
        return Err("server.tls: cert_file and key_file are both required".into());
    };
    let chain = certs("server.tls.cert_file", cert_file)?;
    let key_pem = read("server.tls.key_file", key_file)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!(
            "server.tls.key_file: {} holds no PEM private key: {e}",
            key_file.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("server.tls: {e}"))?;
    let builder = match &files.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca_file) => {
            let mut roots = RootCertStore::empty();
            for ca in certs("server.tls.client_ca_file", ca_file)? {
                roots
                    .add(ca)
                    .map_err(|e| format!("server.tls.client_ca_file: {e}"))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("server.tls.client_ca_file: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("server.tls: the key does not fit the certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

impl TlsConfig {
    fn paths(&self) -> Vec<&PathBuf> {
        [&self.cert_file, &self.key_file, &self.client_ca_file]
            .into_iter()
            .flatten()
            .collect()
    }
}
