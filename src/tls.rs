//! TLS and mutual TLS for the gRPC port, with certificates re-read when
//! their files change (cert-manager rotates them in place): every new
//! connection is accepted with the configuration current at that moment.
//! Handshakes run in their own tasks, so a slow or silent client cannot
//! hold up the accept loop.
//!
//! With a client CA, the handshake asks for a client certificate but does
//! not fail without a trusted one: the chain is verified once per
//! connection right after the handshake, and the verdict travels with the
//! connection ([`ClientCert`]) to [`crate::auth::Auth`], which answers
//! `UNAUTHENTICATED`. A refused handshake would leave the caller with a
//! transport error it cannot tell from a network fault; health stays
//! reachable for probes either way. The handshake still checks that the
//! client holds the key of the certificate it presents.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{Arc, RwLock},
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
        SignatureScheme,
        client::danger::HandshakeSignatureValid,
        server::{
            WebPkiClientVerifier,
            danger::{ClientCertVerified, ClientCertVerifier},
        },
    },
    server::TlsStream,
};
use tonic::transport::server::Connected;

use crate::{
    config::{self, TlsConfig},
    unproven::Unproven,
};

/// Longest a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; a new connection past it takes the
/// place of the oldest handshake.
const MAX_HANDSHAKES: usize = 256;

/// The files of a TLS configuration and the rustls configuration built from
/// them, rebuilt when one of them changes.
#[derive(Debug)]
pub struct Tls {
    files: TlsConfig,
    /// The configuration section the files come from, for messages.
    section: &'static str,
    current: RwLock<(Built, Vec<Option<SystemTime>>)>,
}

/// A rustls configuration and, with a client CA, the verifier that judges
/// client certificates after the handshake.
#[derive(Clone, Debug)]
struct Built {
    config: Arc<ServerConfig>,
    clients: Option<Arc<dyn ClientCertVerifier>>,
}

/// What a connection proved about its client, set once after the
/// handshake and read by the interceptor on every call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCert {
    /// No client CA is configured.
    NotAsked,
    /// The client presented a chain the client CA verifies, valid now;
    /// its certificate's subject (the caller the audit trail names).
    Trusted(Arc<str>),
    /// No certificate, another issuer's, or an expired one.
    Refused,
}

/// A TLS connection and its client verdict.
pub struct TlsConn {
    stream: TlsStream<TcpStream>,
    client: ClientCert,
}

impl Connected for TlsConn {
    type ConnectInfo = ClientCert;

    fn connect_info(&self) -> ClientCert {
        self.client.clone()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The client CA's verifier with its verdict on the chain deferred: the
/// handshake goes through (with the proof of key possession checked), and
/// [`judge`] asks the same verifier again once it is done.
#[derive(Debug)]
struct Deferred(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for Deferred {
    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The verdict on a finished handshake's client chain.
fn judge(
    clients: Option<&Arc<dyn ClientCertVerifier>>,
    stream: &TlsStream<TcpStream>,
    peer: SocketAddr,
) -> ClientCert {
    let Some(verifier) = clients else {
        return ClientCert::NotAsked;
    };
    let Some((end_entity, intermediates)) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.split_first())
    else {
        tracing::debug!(%peer, "tls client presented no certificate");
        return ClientCert::Refused;
    };
    match verifier.verify_client_cert(end_entity, intermediates, UnixTime::now()) {
        Ok(_) => ClientCert::Trusted(subject_of(end_entity.as_ref())),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "tls client certificate refused");
            ClientCert::Refused
        }
    }
}

/// A certificate's subject as RFC 4514 text (`CN=curity,O=Example`); an
/// unreadable one (the verifier accepted it, so rare) by its SHA-256.
fn subject_of(der: &[u8]) -> Arc<str> {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => Arc::from(cert.subject().to_string()),
        Err(_) => {
            let digest = <sha2::Sha256 as sha2::Digest>::digest(der);
            Arc::from(format!("sha256:{}", hex_prefix(&digest)))
        }
    }
}

/// The first four bytes as eight hex digits.
pub fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

impl Tls {
    /// Reads and checks the files of `section` (`server.tls`,
    /// `json_ds.tls`); the error names the key and the file.
    pub fn load(files: &TlsConfig, section: &'static str) -> Result<Arc<Self>, String> {
        let config = build(files, section)?;
        Ok(Arc::new(Self {
            files: files.clone(),
            section,
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
        match build(&self.files, self.section) {
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

    fn current(&self) -> Option<Built> {
        self.current.read().ok().map(|c| c.0.clone())
    }

    /// Polls the files every `every` until the returned task is aborted.
    pub fn watch(self: &Arc<Self>, every: Duration) -> JoinHandle<()> {
        let tls = Arc::clone(self);
        crate::config::poll(every, move || tls.reload())
    }

    /// Accepts TCP connections on `listener` and hands completed TLS
    /// sessions to the returned receiver; the accept task stops when the
    /// receiver is dropped.
    pub fn incoming(
        self: &Arc<Self>,
        listener: TcpListener,
    ) -> mpsc::Receiver<Result<TlsConn, std::io::Error>> {
        let (tx, rx) = mpsc::channel(64);
        let tls = Arc::clone(self);
        // Handshakes in progress: at most MAX_HANDSHAKES, the oldest giving
        // way to a new connection, so connections that never start (or
        // never finish) a handshake cannot keep a real client out.
        let handshakes = Unproven::new(MAX_HANDSHAKES);
        tokio::spawn(async move {
            loop {
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
                let Some(built) = tls.current() else {
                    return;
                };
                let tx = tx.clone();
                let ticket = handshakes.admit();
                tokio::spawn(async move {
                    let acceptor = TlsAcceptor::from(built.config);
                    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
                    tokio::select! {
                        done = handshake => match done {
                            Ok(Ok(stream)) => {
                                ticket.prove();
                                let client = judge(built.clients.as_ref(), &stream, peer);
                                let _ = tx.send(Ok(TlsConn { stream, client })).await;
                            }
                            Ok(Err(e)) => handshake_failed(peer, &e.to_string()),
                            Err(_) => handshake_failed(peer, "timed out"),
                        },
                        () = ticket.evicted() => handshake_failed(peer, "gave way to a newer connection"),
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

fn certs(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    config::read_certs(path).map_err(|e| format!("{key}: {e}"))
}

/// The rustls configuration of the files: the server's chain and key, and,
/// with a client CA, client certificates required and verified against it.
fn build(files: &TlsConfig, section: &str) -> Result<Built, String> {
    let (Some(cert_file), Some(key_file)) = (&files.cert_file, &files.key_file) else {
        return Err(format!(
            "{section}: cert_file and key_file are both required"
        ));
    };
    let chain = certs(&format!("{section}.cert_file"), cert_file)?;
    let key = config::read_key(key_file).map_err(|e| format!("{section}.key_file: {e}"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("{section}: {e}"))?;
    let mut clients = None;
    let builder = match &files.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca_file) => {
            let mut roots = RootCertStore::empty();
            for ca in certs(&format!("{section}.client_ca_file"), ca_file)? {
                roots
                    .add(ca)
                    .map_err(|e| format!("{section}.client_ca_file: {e}"))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("{section}.client_ca_file: {e}"))?;
            clients = Some(Arc::clone(&verifier));
            builder.with_client_cert_verifier(Arc::new(Deferred(verifier)))
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("{section}: the key does not fit the certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Built {
        config: Arc::new(config),
        clients,
    })
}

impl TlsConfig {
    fn paths(&self) -> Vec<&PathBuf> {
        [&self.cert_file, &self.key_file, &self.client_ca_file]
            .into_iter()
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_certificate_is_named_by_its_subject() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["curity".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "curity-runtime");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        let cert = params.self_signed(&key).unwrap();
        let subject = subject_of(cert.der());
        assert!(subject.contains("CN=curity-runtime"), "{subject}");
        assert!(subject.contains("O=Example"), "{subject}");
        // Not a certificate: named by digest, never by content.
        let garbage = subject_of(b"not a certificate");
        assert!(
            garbage.starts_with("sha256:") && garbage.len() == 15,
            "{garbage}"
        );
    }
}
