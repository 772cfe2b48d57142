//! Running locally: where a running `serve --embedded` can be found (its
//! state file), and pointing the other commands at a local
//! DynamoDB-compatible store.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::config::{AccessMethod, Config, Secret};

#[derive(Debug, thiserror::Error)]
#[error(
    "no running `serve --embedded` found: {path} {problem}; start one with \
     `curity-dynamodb serve --embedded{dir}` (the same directory)"
)]
pub struct NoState {
    path: String,
    problem: String,
    dir: String,
}

/// Points `config` at a local store that checks no signatures (the
/// embedded one, DynamoDB Local): static placeholder credentials keep the
/// SDK from looking for real ones.
pub fn point_at_local_store(config: &mut Config, endpoint: &str) {
    let aws = &mut config.aws;
    aws.endpoint_url = Some(endpoint.to_owned());
    aws.access_method = AccessMethod::AccessKey;
    aws.access_key.access_key_id = Some("embedded".into());
    aws.access_key.secret_access_key = Some(Secret::new("embedded"));
    aws.access_key.role_arn = None;
    if aws.region.is_none() {
        aws.region = Some("us-east-1".into());
    }
}

/// Where a running `serve --embedded [DIR]` can be reached: written to
/// `DIR/embedded.json` (without DIR, to the system's temporary directory)
/// once it serves, removed when it stops; the other commands read it
/// (`--embedded [DIR]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    pub pid: u32,
    pub dynamodb_endpoint: String,
    pub grpc: SocketAddr,
    pub json_ds: Option<SocketAddr>,
}

/// File name of the state inside the data directory.
pub const STATE_FILE: &str = "embedded.json";

/// The directory holding the state of `serve --embedded [DIR]`.
pub fn state_dir(dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(dir) => dir.to_path_buf(),
        None => std::env::temp_dir().join("curity-dynamodb"),
    }
}

impl State {
    /// Writes the state (whole or not at all: a reader never sees half).
    pub fn write(&self, dir: Option<&Path>) -> std::io::Result<PathBuf> {
        let dir = state_dir(dir);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(STATE_FILE);
        let partial = dir.join(format!("{STATE_FILE}.{}", self.pid));
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, &path)?;
        Ok(path)
    }

    pub fn read(dir: Option<&Path>) -> Result<Self, NoState> {
        let path = state_dir(dir).join(STATE_FILE);
        let no_state = |problem: String| NoState {
            path: path.display().to_string(),
            problem,
            dir: dir.map(|d| format!(" {}", d.display())).unwrap_or_default(),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => no_state("does not exist".into()),
            _ => no_state(e.to_string()),
        })?;
        serde_json::from_str(&text).map_err(|e| no_state(format!("is not a state file ({e})")))
    }

    /// Removes the state if it is still this process's.
    pub fn remove(dir: Option<&Path>) {
        let path = state_dir(dir).join(STATE_FILE);
        if Self::read(dir).is_ok_and(|s| s.pid == std::process::id()) {
            let _ = std::fs::remove_file(path);
        }
    }
}
