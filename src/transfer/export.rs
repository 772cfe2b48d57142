//! `export`: one table to `<table>.ndjson` by a parallel scan.
//!
//! Each scan segment appends to its own file in `.export-<table>/` and,
//! after every page, records how many bytes and items that file holds and
//! where the scan stands. A resumed run cuts each segment file back to what
//! was recorded and scans on from there, so no item is lost or written
//! twice. When every segment is done, the segments are joined into the
//! table's file, the lines counted against the items recorded, and the
//! manifest written.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{
    Progress, Transfer, TransferError,
    dynamo_json::{from_json, to_json},
    files::{self, Manifest},
    rate::Budget,
};
use crate::{
    aws::error::{CallSite, classify},
    store::codec::{Item, now_epoch},
};

pub struct ExportOptions<'a> {
    pub transfer: Transfer<'a>,
    /// Parallel scan segments (the rate is shared across them).
    pub segments: u32,
}

#[derive(Debug)]
pub struct ExportReport {
    pub items: u64,
    /// Already exported whole by an earlier run (`--resume`).
    pub skipped: bool,
}

/// Where one segment stands, saved after every page.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SegmentState {
    bytes: u64,
    items: u64,
    /// The last key read, in DynamoDB JSON; `None` before the first page.
    last_key: Option<serde_json::Value>,
    done: bool,
}

/// Exports `table` (its name without prefix) into `opts.transfer.dir`.
pub async fn export_table(
    opts: &ExportOptions<'_>,
    table: &str,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<ExportReport, TransferError> {
    let manifest_path = files::manifest(opts.transfer.dir, table);
    let work = files::export_work(opts.transfer.dir, table);
    let work_exists = tokio::fs::try_exists(&work)
        .await
        .map_err(TransferError::io(&work))?;
    if let Some(m) = files::read_json::<Manifest>(&manifest_path).await? {
        if opts.transfer.resume && !work_exists {
            return Ok(ExportReport {
                items: m.items,
                skipped: true,
            });
        }
        return Err(TransferError::State(format!(
            "{} is already exported in {}: pass --resume to finish an export there, or \
             choose another --out (an export never overwrites one)",
            table,
            opts.transfer.dir.display()
        )));
    }
    if work_exists && !opts.transfer.resume {
        return Err(TransferError::State(format!(
            "an interrupted export of {table} is in {}: pass --resume to continue it",
            work.display()
        )));
    }
    files::private_dir(&work).await?;
    // A resumed run keeps the segment count it started with.
    let segments = match files::read_json::<u32>(&work.join("segments.json")).await? {
        Some(n) => n,
        None => {
            files::write_json(&work.join("segments.json"), &opts.segments).await?;
            opts.segments
        }
    };

    let name = format!("{}{table}", opts.transfer.prefix);
    let budget = Budget::new(opts.transfer.rate);
    let done = AtomicU64::new(0);
    let scans = (0..segments).map(|segment| {
        let scan = Segment {
            opts,
            name: &name,
            table,
            work: &work,
            segment,
            segments,
            budget: &budget,
            done: &done,
            progress,
        };
        async move { scan.run().await }
    });
    let items: u64 = futures_util::future::try_join_all(scans)
        .await?
        .into_iter()
        .sum();

    let lines = join(&work, segments, &files::data(opts.transfer.dir, table)).await?;
    if lines != items {
        return Err(TransferError::State(format!(
            "{table}: the segments hold {lines} lines but recorded {items} items; \
             remove {} and export again",
            work.display()
        )));
    }
    let exported_at = u64::try_from(now_epoch()).unwrap_or(0);
    files::write_json(
        &manifest_path,
        &Manifest {
            table: table.into(),
            items,
            source_prefix: opts.transfer.prefix.into(),
            exported_at,
        },
    )
    .await?;
    tokio::fs::remove_dir_all(&work)
        .await
        .map_err(TransferError::io(&work))?;
    Ok(ExportReport {
        items,
        skipped: false,
    })
}

struct Segment<'a> {
    opts: &'a ExportOptions<'a>,
    name: &'a str,
    table: &'a str,
    work: &'a Path,
    segment: u32,
    segments: u32,
    budget: &'a Budget,
    done: &'a AtomicU64,
    progress: &'a (dyn Fn(Progress<'_>) + Sync),
}

impl Segment<'_> {
    fn state_path(&self) -> PathBuf {
        self.work.join(format!("segment-{}.json", self.segment))
    }

    fn data_path(&self) -> PathBuf {
        self.work.join(format!("segment-{}.ndjson", self.segment))
    }

    /// Scans the segment to its end; the items it holds.
    async fn run(&self) -> Result<u64, TransferError> {
        let mut state: SegmentState = files::read_json(&self.state_path())
            .await?
            .unwrap_or_default();
        self.done.fetch_add(state.items, Ordering::Relaxed);
        let path = self.data_path();
        let file = files::private_file(&path, false).await?;
        // What a crash wrote after the last saved state is written again.
        file.set_len(state.bytes)
            .await
            .map_err(TransferError::io(&path))?;
        let mut file = tokio::io::BufWriter::new(file);
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(state.bytes))
            .await
            .map_err(TransferError::io(&path))?;
        while !state.done {
            let start = match &state.last_key {
                Some(k) => Some(from_json(k).map_err(|reason| TransferError::Format {
                    path: self.state_path(),
                    line: 1,
                    reason,
                })?),
                None => None,
            };
            let page = self
                .opts
                .transfer
                .client
                .scan()
                .table_name(self.name)
                .segment(self.segment as i32)
                .total_segments(self.segments as i32)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| {
                    classify(
                        &e,
                        CallSite {
                            action: "dynamodb:Scan",
                            table: self.name,
                            method: self.opts.transfer.method,
                        },
                    )
                })?;
            let mut bytes = 0u64;
            for item in page.items() {
                let line = line_of(item).map_err(|reason| {
                    TransferError::State(format!(
                        "{}: an item could not be written: {reason}",
                        self.table
                    ))
                })?;
                file.write_all(line.as_bytes())
                    .await
                    .map_err(TransferError::io(&path))?;
                bytes += line.len() as u64;
            }
            file.flush().await.map_err(TransferError::io(&path))?;
            file.get_ref()
                .sync_data()
                .await
                .map_err(TransferError::io(&path))?;
            let count = page.items().len() as u64;
            state.bytes += bytes;
            state.items += count;
            state.last_key = page
                .last_evaluated_key()
                .map(to_json)
                .transpose()
                .map_err(TransferError::State)?;
            state.done = state.last_key.is_none();
            files::write_json(&self.state_path(), &state).await?;
            let done = self.done.fetch_add(count, Ordering::Relaxed) + count;
            (self.progress)(Progress {
                table: self.table,
                done,
                total: None,
            });
            // Eventually consistent reads: half a unit per 4 KB read, the
            // estimate where the endpoint reports no consumed capacity.
            let units = page
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(bytes as f64 / 8192.0);
            self.budget.spend(units).await;
        }
        Ok(state.items)
    }
}

fn line_of(item: &Item) -> Result<String, String> {
    let mut line = serde_json::to_string(&to_json(item)?).map_err(|e| e.to_string())?;
    line.push('\n');
    Ok(line)
}

/// Joins the segment files into `out` (through a temporary file); the
/// lines written.
async fn join(work: &Path, segments: u32, out: &Path) -> Result<u64, TransferError> {
    let tmp = out.with_extension("ndjson.tmp");
    let mut writer = files::private_file(&tmp, true).await?;
    let mut lines = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for segment in 0..segments {
        let path = work.join(format!("segment-{segment}.ndjson"));
        let mut reader = tokio::fs::File::open(&path)
            .await
            .map_err(TransferError::io(&path))?;
        loop {
            let n = reader
                .read(&mut buf)
                .await
                .map_err(TransferError::io(&path))?;
            if n == 0 {
                break;
            }
            lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
            writer
                .write_all(&buf[..n])
                .await
                .map_err(TransferError::io(&tmp))?;
        }
    }
    writer.sync_all().await.map_err(TransferError::io(&tmp))?;
    tokio::fs::rename(&tmp, out)
        .await
        .map_err(TransferError::io(out))?;
    Ok(lines)
}
