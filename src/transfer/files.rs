//! The files of a transfer directory, and writing them so that a crash
//! leaves either the old file or the new one, never half of one.

use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use super::TransferError;

pub fn data(dir: &Path, table: &str) -> PathBuf {
    dir.join(format!("{table}.ndjson"))
}

pub fn manifest(dir: &Path, table: &str) -> PathBuf {
    dir.join(format!("{table}.manifest.json"))
}

pub fn export_work(dir: &Path, table: &str) -> PathBuf {
    dir.join(format!(".export-{table}"))
}

pub fn import_work(dir: &Path, target: &str) -> PathBuf {
    dir.join(format!(".import-{target}.json"))
}

/// What `export` writes last: the file is whole and holds `items` lines.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct Manifest {
    pub table: String,
    pub items: u64,
    /// The prefix the tables had where they were exported.
    pub source_prefix: String,
    /// Seconds since the epoch when the export finished.
    pub exported_at: u64,
}

/// A transfer's files hold every identity of a deployment (password
/// hashes, token data): readable by their owner only.
const PRIVATE_FILE: u32 = 0o600;
const PRIVATE_DIR: u32 = 0o700;

/// Creates `dir` (and its parents) owner-only where it is new.
pub async fn private_dir(dir: &Path) -> Result<(), TransferError> {
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
        .await
        .map_err(TransferError::io(dir))
}

/// Opens `path` for writing, created owner-only; `truncate` empties it.
pub async fn private_file(path: &Path, truncate: bool) -> Result<tokio::fs::File, TransferError> {
    tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(truncate)
        .mode(PRIVATE_FILE)
        .open(path)
        .await
        .map_err(TransferError::io(path))
}

/// Writes `value` as JSON to `path` through a temporary file and a rename.
pub async fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TransferError> {
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| TransferError::State(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("tmp");
    let mut file = private_file(&tmp, true).await?;
    tokio::io::AsyncWriteExt::write_all(&mut file, &text)
        .await
        .map_err(TransferError::io(&tmp))?;
    file.sync_all().await.map_err(TransferError::io(&tmp))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(TransferError::io(path))
}

/// The JSON at `path`, `None` when there is no such file.
pub async fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, TransferError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| TransferError::Format {
                path: path.into(),
                line: e.line() as u64,
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TransferError::io(path)(e)),
    }
}

/// The longest line `import` reads: a DynamoDB item is at most 400 KB,
/// which its JSON form (base64 for binaries, escapes) can about triple.
pub const MAX_LINE: u64 = 2 * 1024 * 1024;

/// One line of `reader` without its newline, `None` at the end; a line
/// longer than `MAX_LINE` is an error rather than unbounded memory.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<()>> {
    use tokio::io::AsyncReadExt;
    buf.clear();
    let read = (&mut *reader)
        .take(MAX_LINE + 1)
        .read_until(b'\n', buf)
        .await?;
    if read == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if read as u64 > MAX_LINE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a line longer than {MAX_LINE} bytes"),
        ));
    }
    Ok(Some(()))
}
