//! `import`: one table's file into the table under a prefix, by
//! conditional puts that never overwrite a newer item.
//!
//! An item with a `version` is written where the table has no item at its
//! key or an older version; any other item only where the key is free. A
//! refused put is an item kept as it stands, so a second run writes
//! nothing and an import into a live table loses no change made there.
//! Items whose TTL (`deletableAt`) has passed are not written: DynamoDB
//! would delete them, and Curity already treats them as gone.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};
use serde::{Deserialize, Serialize};
use tokio::io::BufReader;

use super::{
    Progress, Transfer, TransferError,
    dynamo_json::from_json,
    files::{self, Manifest},
    rate::Budget,
};
use crate::{
    aws::error::{CallSite, classify},
    schema::{self, TTL_ATTRIBUTE, TableDef},
    store::{
        codec::{Item, now_epoch},
        expr::{Cmp, Cond, Write, conditioned},
    },
};

pub struct ImportOptions<'a> {
    pub transfer: Transfer<'a>,
    /// Puts in flight at once.
    pub concurrency: usize,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ImportReport {
    /// Lines of the file handled so far.
    pub lines: u64,
    pub written: u64,
    /// Refused by the condition: the table holds the item, or a newer one.
    pub kept: u64,
    /// TTL passed: not written.
    pub expired: u64,
    /// What a `Select=COUNT` scan of the table found at the end.
    pub table_items: u64,
    pub done: bool,
}

enum Put {
    Written(f64),
    Kept,
}

/// Imports `table`'s file (the table's name without prefix) from
/// `opts.transfer.dir` into `<opts.transfer.prefix><table>`.
pub async fn import_table(
    opts: &ImportOptions<'_>,
    table: &str,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<ImportReport, TransferError> {
    let def = schema::ALL
        .iter()
        .find(|d| d.name("") == table)
        .ok_or_else(|| TransferError::State(format!("{table} is not a table of the layout")))?;
    let manifest: Manifest = files::read_json(&files::manifest(opts.transfer.dir, table))
        .await?
        .ok_or_else(|| {
            TransferError::State(format!(
                "{} has no {table}.manifest.json: its export did not finish",
                opts.transfer.dir.display()
            ))
        })?;
    let target = format!("{}{table}", opts.transfer.prefix);
    let state_path = files::import_work(opts.transfer.dir, &target);
    let mut state = match files::read_json::<ImportReport>(&state_path).await? {
        Some(s) if s.done && opts.transfer.resume => return Ok(s),
        Some(s) if !s.done && !opts.transfer.resume => {
            return Err(TransferError::State(format!(
                "an interrupted import into {target} is recorded in {}: pass --resume to \
                 continue it",
                state_path.display()
            )));
        }
        Some(s) if !s.done => s,
        // A finished import run again: harmless, every put is conditional.
        _ => ImportReport::default(),
    };

    let data = files::data(opts.transfer.dir, table);
    let file = tokio::fs::File::open(&data)
        .await
        .map_err(TransferError::io(&data))?;
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let budget = Budget::new(opts.transfer.rate);
    let now = now_epoch();
    loop {
        let mut chunk = Vec::with_capacity(opts.concurrency);
        while chunk.len() < opts.concurrency.max(1) {
            let read = files::read_line(&mut reader, &mut buf)
                .await
                .map_err(TransferError::io(&data))?;
            if read.is_none() {
                break;
            }
            line_no += 1;
            if line_no <= state.lines {
                continue;
            }
            let bad = |reason: String| TransferError::Format {
                path: data.clone(),
                line: line_no,
                reason,
            };
            let value = serde_json::from_slice(&buf).map_err(|e| bad(e.to_string()))?;
            let item = from_json(&value).map_err(bad)?;
            chunk.push((item, buf.len()));
        }
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len() as u64;
        let puts = chunk.into_iter().filter_map(|(item, bytes)| {
            if expired(def, &item, now) {
                state.expired += 1;
                return None;
            }
            Some(put(opts, def, &target, item, bytes))
        });
        for outcome in futures_util::future::try_join_all(puts).await? {
            match outcome {
                Put::Written(units) => {
                    state.written += 1;
                    budget.spend(units).await;
                }
                Put::Kept => state.kept += 1,
            }
        }
        state.lines += n;
        files::write_json(&state_path, &state).await?;
        progress(Progress {
            table,
            done: state.lines,
            total: Some(manifest.items),
        });
    }

    if line_no != manifest.items {
        return Err(TransferError::State(format!(
            "{} has {line_no} lines but its manifest says {}: the file was changed after \
             the export",
            data.display(),
            manifest.items
        )));
    }
    state.table_items = count(opts, &target).await?;
    let landed = state.written + state.kept;
    if state.table_items < landed {
        return Err(TransferError::State(format!(
            "{target} holds {} items after the import, fewer than the {landed} written or \
             kept: something deleted items meanwhile; run the import again to put them back",
            state.table_items
        )));
    }
    state.done = true;
    files::write_json(&state_path, &state).await?;
    Ok(state)
}

fn expired(def: &TableDef, item: &Item, now: i64) -> bool {
    def.ttl
        && matches!(
            item.get(TTL_ATTRIBUTE),
            Some(AttributeValue::N(n)) if n.parse::<f64>().is_ok_and(|at| at < now as f64)
        )
}

async fn put(
    opts: &ImportOptions<'_>,
    def: &TableDef,
    target: &str,
    item: Item,
    bytes: usize,
) -> Result<Put, TransferError> {
    let free = Cond::NotExists(def.hash.name);
    let condition = match item.get("version") {
        Some(v @ AttributeValue::N(_)) => free.or(Cond::Cmp("version", Cmp::Lt, v.clone())),
        _ => free,
    };
    let write = Write::new(None, Some(&condition));
    let put = opts
        .transfer
        .client
        .put_item()
        .table_name(target)
        .set_item(Some(item));
    let sent = conditioned!(put, write)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await;
    match sent {
        // A write unit per KB, the estimate where none is reported.
        Ok(out) => Ok(Put::Written(
            out.consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or((bytes as f64 / 1024.0).ceil()),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(Put::Kept)
        }
        Err(e) => Err(classify(&e, at(opts, target, "dynamodb:PutItem")).into()),
    }
}

fn at<'a>(opts: &ImportOptions<'_>, table: &'a str, action: &'static str) -> CallSite<'a> {
    CallSite {
        action,
        table,
        method: opts.transfer.method,
    }
}

/// The table's items, by `Select=COUNT` pages.
async fn count(opts: &ImportOptions<'_>, target: &str) -> Result<u64, TransferError> {
    let mut total = 0u64;
    let mut start = None;
    loop {
        let page = opts
            .transfer
            .client
            .scan()
            .table_name(target)
            .select(Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify(&e, at(opts, target, "dynamodb:Scan")))?;
        total += page.count().max(0) as u64;
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(total);
        }
    }
}
