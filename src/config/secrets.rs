//! The files the configuration names (tokens, certificates, keys): read
//! and checked by validation, and read the same way by whoever loads or
//! reloads them (`auth`, `tls`).

use std::{path::Path, time::Duration};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::task::JoinHandle;

/// Runs `reload` every `every` until the returned task is aborted: a
/// mounted Secret is rotated in place, and whoever holds what it names
/// (`auth`'s token, `tls`'s certificates) picks the new files up this way.
pub fn poll(every: Duration, reload: impl Fn() + Send + 'static) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            reload();
        }
    })
}

/// Shorter tokens are refused: a bearer token is the only secret between
/// the network and every password hash.
const MIN_TOKEN_LEN: usize = 16;

/// Reads a token file: its content without surrounding whitespace.
pub fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let token = text.trim();
    if token.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "{} holds a token shorter than {MIN_TOKEN_LEN} characters",
            path.display()
        ));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{} holds whitespace inside the token",
            path.display()
        ));
    }
    Ok(token.to_string())
}

/// A PEM file of certificates: readable, and holding at least one.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", path.display()));
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| format!("{} holds no PEM private key: {e}", path.display()))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_spaced_tokens_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "short").unwrap();
        assert!(read_token(&path).unwrap_err().contains("shorter than 16"));
        std::fs::write(&path, "a-long-token with-space").unwrap();
        assert!(read_token(&path).unwrap_err().contains("whitespace"));
    }
}
