//! `export` and `import`: a deployment's `curity-*` tables as files, for
//! moving them to another account or region, seeding a test environment
//! or checking a restore.
//!
//! In a directory, per table (named without the prefix, so an export of
//! `prod-` imports under `test-`): `curity-accounts.ndjson`, one item per
//! line in DynamoDB's JSON form (`dynamo_json`), and
//! `curity-accounts.manifest.json`, written last, saying how many items
//! the file holds. A table without a manifest was not exported whole.
//! Work under way lives in `.export-<table>/` and `.import-<prefix><table>.json`
//! so that `--resume` continues where a run stopped.

pub mod dynamo_json;
mod export;
mod files;
mod import;
mod rate;

use std::path::PathBuf;

pub use self::{
    export::{ExportOptions, ExportReport, export_table},
    files::private_dir,
    import::{ImportOptions, ImportReport, import_table},
};
use crate::store::StoreError;

/// What an export and an import are given alike.
pub struct Transfer<'a> {
    pub client: &'a aws_sdk_dynamodb::Client,
    /// The directory of the files.
    pub dir: &'a std::path::Path,
    /// The tables' prefix: those an export reads, those an import writes.
    pub prefix: &'a str,
    /// The access method, for error messages about credentials.
    pub method: &'static str,
    /// Capacity units per second: read by an export, written by an import.
    pub rate: Option<u32>,
    /// Continue an interrupted run; a table done whole by an earlier run
    /// is kept as it is.
    pub resume: bool,
}

/// What a transfer reports as it goes: items done so far of a table, and
/// the total where it is known (an import knows it from the manifest).
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub table: &'a str,
    pub done: u64,
    pub total: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}, line {line}: {reason}", .path.display())]
    Format {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// The directory's state does not allow the run as asked (a finished
    /// export in the way, an interrupted one not resumed, counts that do
    /// not add up).
    #[error("{0}")]
    State(String),
}

impl TransferError {
    fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// The exit code of the CLI: as the error table says for DynamoDB's
    /// errors, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Store(e) => e.class().exit_code,
            _ => 1,
        }
    }
}
