//! Cross-replica invalidation: one task per cached table follows its
//! DynamoDB stream (`KEYS_ONLY`, turned on by `tables create --streams`)
//! and evicts every key a record names, whichever replica wrote it.
//!
//! Each round reads every open shard until a read returns less than a full
//! page (the end, as of that read); when every shard got there, the round's
//! start is the table's "caught up" time, and `ItemCache` bypasses the
//! table while that is older than `cache.streams.max_lag_ms`. So a failing
//! or slow stream costs hits, never freshness.
//!
//! Shards: those open at start are read from their end (`LATEST`: the cache
//! is empty and bypassed until the first round), those that appear later
//! (a split, a parent closing) from their start. An expired iterator is
//! renewed after the last record read; records lost to the 24 h retention
//! (`TrimmedDataAccessException`) or an iterator that cannot be renewed
//! make the whole table a miss (`ItemCache::forget`).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::AttributeValue as DdbValue;
use aws_sdk_dynamodbstreams::{
    Client as StreamsClient,
    operation::get_records::GetRecordsError,
    types::{AttributeValue as StreamValue, ShardIteratorType},
};
use tokio::task::JoinHandle;

use super::{ItemCache, Kind};
use crate::{
    aws::{
        Aws,
        error::{CallSite, SdkResultExt, classify},
    },
    config::Config,
    error::StoreError,
};

/// Records per `GetRecords` (DynamoDB's maximum).
const PAGE: i32 = 1000;
/// Pages one shard may read in one round before the others get a turn.
const PAGES_PER_ROUND: usize = 10;
/// How often the shard list is read again to find new shards.
const DESCRIBE_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(
        "cache.streams.enabled: table {table} has no stream; run \
         `curity-dynamodb tables create --streams` (or turn cache.streams off)"
    )]
    NoStream { table: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The follower tasks; dropping this stops them.
#[derive(Debug, Default)]
pub struct Following {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Following {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Follows the cached tables' streams when the cache is on and
/// `cache.streams.enabled`; `None` otherwise.
pub async fn follow_configured(
    cache: Option<&Arc<ItemCache>>,
    aws: &Aws,
    config: &Config,
) -> Result<Option<Following>, FollowError> {
    match cache {
        Some(c) if config.cache.streams.enabled => follow(
            c,
            aws,
            &config.dynamodb.table_name_prefix,
            Duration::from_millis(config.cache.streams.poll_interval_ms),
        )
        .await
        .map(Some),
        _ => Ok(None),
    }
}

/// Starts following the stream of every cached table; a table without a
/// stream is an error.
pub async fn follow(
    cache: &Arc<ItemCache>,
    aws: &Aws,
    prefix: &str,
    poll: Duration,
) -> Result<Following, FollowError> {
    let ddb = aws.dynamodb_client();
    let mut following = Following::default();
    for kind in cache.cached_kinds().filter(|k| cache.is_followed(*k)) {
        let table = kind.def().name(prefix);
        let described = ddb
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .classify(CallSite {
                action: "dynamodb:DescribeTable",
                table: &table,
                method: aws.method().as_str(),
            })?;
        let t = described.table;
        let enabled = t
            .as_ref()
            .and_then(|t| t.stream_specification())
            .is_some_and(|s| s.stream_enabled());
        let Some(arn) = t.and_then(|t| t.latest_stream_arn).filter(|_| enabled) else {
            return Err(FollowError::NoStream { table });
        };
        let follower = Follower {
            cache: cache.clone(),
            client: aws.streams_client(),
            kind,
            arn,
            table,
            method: aws.method().as_str(),
            poll,
            shards: HashMap::new(),
        };
        following.tasks.push(tokio::spawn(follower.run()));
    }
    Ok(following)
}

#[derive(Debug)]
struct Shard {
    /// Where reading goes on; `None`: get one (see `start`).
    iterator: Option<String>,
    start: Start,
    /// Closed and read to its end.
    done: bool,
}

#[derive(Debug, Clone)]
enum Start {
    Latest,
    TrimHorizon,
    After(String),
}

struct Follower {
    cache: Arc<ItemCache>,
    client: StreamsClient,
    kind: Kind,
    arn: String,
    /// The table and credential method, for errors.
    table: String,
    method: &'static str,
    poll: Duration,
    shards: HashMap<String, Shard>,
}

impl Follower {
    fn at(&self, action: &'static str) -> CallSite<'_> {
        CallSite {
            action,
            table: &self.table,
            method: self.method,
        }
    }

    async fn run(mut self) {
        let label = self.kind.label();
        let mut first = true;
        let mut next_describe = Instant::now();
        loop {
            if Instant::now() >= next_describe {
                match self.describe(first).await {
                    Ok(()) => {
                        first = false;
                        next_describe = Instant::now() + DESCRIBE_EVERY;
                    }
                    Err(e) => {
                        tracing::warn!(table = label, error = %e, cause = e.cause().unwrap_or(""), "stream: shard list");
                    }
                }
            }
            if !first {
                let round = Instant::now();
                let (all_at_end, closed) = self.round().await;
                if all_at_end {
                    self.cache.caught_up(self.kind, round);
                }
                if closed {
                    // Its children hold what follows: look for them now.
                    next_describe = Instant::now();
                }
            }
            if let Some(lag) = self.cache.lag(self.kind) {
                metrics::gauge!("curity_dynamodb_cache_stream_lag_seconds", "type" => label)
                    .set(lag.as_secs_f64());
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Learns the stream's shards. At the first call, open shards are read
    /// from their end and closed ones ignored (nothing is cached yet);
    /// later, a new shard is read from its start.
    async fn describe(&mut self, first: bool) -> Result<(), StoreError> {
        let mut after: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.arn)
                .set_exclusive_start_shard_id(after.take())
                .send()
                .await
                .classify(self.at("dynamodb:DescribeStream"))?;
            let Some(d) = out.stream_description else {
                return Ok(());
            };
            for s in d.shards() {
                let Some(id) = s.shard_id() else { continue };
                if self.shards.contains_key(id) {
                    continue;
                }
                let closed = s
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_some();
                let shard = match (first, closed) {
                    (true, true) => Shard {
                        iterator: None,
                        start: Start::Latest,
                        done: true,
                    },
                    (true, false) => Shard {
                        iterator: None,
                        start: Start::Latest,
                        done: false,
                    },
                    (false, _) => Shard {
                        iterator: None,
                        start: Start::TrimHorizon,
                        done: false,
                    },
                };
                self.shards.insert(id.to_string(), shard);
            }
            match d.last_evaluated_shard_id {
                Some(id) => after = Some(id),
                None => return Ok(()),
            }
        }
    }

    /// Reads every shard that is not done; whether all reached their end,
    /// and whether one closed.
    async fn round(&mut self) -> (bool, bool) {
        let mut all_at_end = true;
        let mut closed = false;
        let ids: Vec<String> = self
            .shards
            .iter()
            .filter(|(_, s)| !s.done)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            match self.read_shard(&id).await {
                Ok(ShardRead::AtEnd) => {}
                Ok(ShardRead::More) => all_at_end = false,
                Ok(ShardRead::Closed) => closed = true,
                Err(e) => {
                    all_at_end = false;
                    tracing::warn!(table = self.kind.label(), shard = %id, error = %e, cause = e.cause().unwrap_or(""), "stream: read");
                }
            }
        }
        (all_at_end, closed)
    }

    async fn read_shard(&mut self, id: &str) -> Result<ShardRead, StoreError> {
        for _ in 0..PAGES_PER_ROUND {
            let iterator = match self.shards.get(id).and_then(|s| s.iterator.clone()) {
                Some(it) => it,
                None => self.iterator(id).await?,
            };
            let out = match self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(PAGE)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let lost = match e.as_service_error() {
                        // Renewed after the last record read.
                        Some(GetRecordsError::ExpiredIteratorException(_)) => false,
                        Some(GetRecordsError::TrimmedDataAccessException(_)) => true,
                        _ => return Err(classify(&e, self.at("dynamodb:GetRecords"))),
                    };
                    if let Some(s) = self.shards.get_mut(id) {
                        s.iterator = None;
                        if lost {
                            s.start = Start::TrimHorizon;
                            self.cache.forget(self.kind);
                        }
                    }
                    return Ok(ShardRead::More);
                }
            };
            let records = out.records();
            let mut last = None;
            for r in records {
                let Some(sr) = r.dynamodb() else { continue };
                if let Some(keys) = sr.keys() {
                    let keys: HashMap<String, DdbValue> = keys
                        .iter()
                        .filter_map(|(k, v)| match v {
                            StreamValue::S(s) => Some((k.clone(), DdbValue::S(s.clone()))),
                            _ => None,
                        })
                        .collect();
                    self.cache.changed_remotely(self.kind, &keys).await;
                }
                if let Some(seq) = sr.sequence_number() {
                    last = Some(seq.to_string());
                }
            }
            let full = records.len() >= PAGE as usize;
            let next = out.next_shard_iterator;
            let Some(shard) = self.shards.get_mut(id) else {
                return Ok(ShardRead::AtEnd);
            };
            if let Some(seq) = last {
                shard.start = Start::After(seq);
            }
            match next {
                None => {
                    shard.done = true;
                    shard.iterator = None;
                    return Ok(ShardRead::Closed);
                }
                Some(it) => shard.iterator = Some(it),
            }
            if !full {
                return Ok(ShardRead::AtEnd);
            }
        }
        Ok(ShardRead::More)
    }

    async fn iterator(&mut self, id: &str) -> Result<String, StoreError> {
        let start = self
            .shards
            .get(id)
            .map_or(Start::Latest, |s| s.start.clone());
        let (kind, seq) = match start {
            Start::Latest => (ShardIteratorType::Latest, None),
            Start::TrimHorizon => (ShardIteratorType::TrimHorizon, None),
            Start::After(seq) => (ShardIteratorType::AfterSequenceNumber, Some(seq)),
        };
        let out = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.arn)
            .shard_id(id)
            .shard_iterator_type(kind)
            .set_sequence_number(seq)
            .send()
            .await
            .classify(self.at("dynamodb:GetShardIterator"))?;
        let it = out.shard_iterator.ok_or_else(|| StoreError::Aws {
            action: "dynamodb:GetShardIterator".into(),
            table: self.table.clone(),
            code: "NoIterator".into(),
            message: "the answer held no shard iterator".into(),
        })?;
        if let Some(s) = self.shards.get_mut(id) {
            s.iterator = Some(it.clone());
        }
        Ok(it)
    }
}

enum ShardRead {
    AtEnd,
    More,
    Closed,
}
