//! The read cache of the hot reads: entries by table and the item's
//! primary key, each holding the item decoded once as its reader's type
//! (moka, bounded in bytes, a time to live per data type).
//!
//! Keying by the item's own primary key is what makes invalidation
//! complete: every write `Table` sends names the keys it touches
//! ([`ItemCache::before_write`]), and so does every DynamoDB Streams record
//! (`streams`), whatever the write path. An account is 2-4 items (`ai#`,
//! `un#`, `em#`, `pn#`), each cached under its own key: an email change
//! writes the old and the new `em#` items and so evicts both.
//!
//! A read that raced a write must not be cached. Each key hashes to a
//! stripe (a counter) that every write to it bumps after DynamoDB answered
//! (or failed: the write may still have happened). An entry remembers the
//! stripe's value from before its read, and is served only while the
//! stripe still has it: a write that committed after the read began, here
//! or (through the stream) on any replica, makes the entry a miss.

mod kind;
pub mod streams;
mod weight;

pub use kind::Kind;
use weight::weight_of;

use std::{
    any::Any,
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::AttributeValue;
use moka::{Expiry, future::Cache};

use crate::{config::CacheConfig, error::StoreError, schema::TableDef};

type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    kind: Kind,
    /// The hash key, and `\0` + the range key when the table has one.
    key: Box<str>,
}

/// An entry: the item decoded once, as its reader's type (an account, a
/// token...), so a hit clones a finished value instead of decoding.
struct Cached {
    value: Box<dyn Any + Send + Sync>,
    /// What the item weighed (`weight`), measured before decoding.
    weight: u32,
    /// The stripe's value when the read that produced the item began.
    generation: u64,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("weight", &self.weight)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Why a load did not produce an entry: nothing to cache (no negative
/// caching), or the read failed.
#[derive(Debug, Clone)]
enum Miss {
    Absent,
    Failed(StoreError),
}

/// Stripes per data type: a write evicts (makes a miss of) the entries of
/// its stripe; with this many, an unrelated write rarely costs a hit.
const STRIPES: usize = 8192;

#[derive(Debug)]
struct PerKind {
    on: bool,
    ttl: Duration,
    stripes: Box<[AtomicU64]>,
    /// Followed by a stream: when it fell behind, reads bypass the cache.
    followed: bool,
    /// Milliseconds since `ItemCache::start` at which every shard had
    /// been read to its end (0: not yet).
    caught_up_ms: AtomicU64,
}

/// The keys of a write in flight; see [`ItemCache::before_write`]. The
/// moka entries stay until their next read finds them outdated (and drops
/// them) or they expire: bumping the generation is what makes them misses,
/// and it needs no await, so no way out of the write can skip it.
#[derive(Debug)]
pub(crate) struct Evict {
    cache: Arc<ItemCache>,
    keys: Vec<(Kind, Key)>,
}

impl Drop for Evict {
    fn drop(&mut self) {
        for (kind, k) in &self.keys {
            self.cache
                .stripe(*kind, &k.key)
                .fetch_add(1, Ordering::AcqRel);
            invalidated(*kind, "write");
        }
    }
}

fn invalidated(kind: Kind, source: &'static str) {
    metrics::counter!("curity_dynamodb_cache_invalidations_total",
        "type" => kind.label(), "source" => source)
    .increment(1);
}

/// What one read did, for the metrics and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    Bypass,
}

#[derive(Debug)]
pub struct ItemCache {
    moka: Cache<Key, Arc<Cached>>,
    kinds: [PerKind; Kind::COUNT],
    hasher: RandomState,
    start: Instant,
    max_lag: Duration,
}

struct TtlOf([Duration; Kind::COUNT]);

impl Expiry<Key, Arc<Cached>> for TtlOf {
    fn expire_after_create(&self, key: &Key, _: &Arc<Cached>, _: Instant) -> Option<Duration> {
        Some(self.0[key.kind.index()])
    }
}

impl ItemCache {
    /// `None` when the cache is off.
    pub fn new(config: &CacheConfig) -> Option<Arc<Self>> {
        if !config.enabled {
            return None;
        }
        let per_kind = |k: Kind| {
            let t = k.settings(config);
            PerKind {
                on: t.enabled,
                ttl: Duration::from_millis(t.ttl_ms),
                stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
                followed: t.enabled && config.streams.enabled,
                caught_up_ms: AtomicU64::new(0),
            }
        };
        let kinds = Kind::ALL.map(per_kind);
        let ttl = TtlOf(Kind::ALL.map(|k| kinds[k.index()].ttl));
        let moka = Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(|_: &Key, v: &Arc<Cached>| v.weight)
            .expire_after(ttl)
            .eviction_listener(|key: Arc<Key>, _, cause| {
                if cause.was_evicted() {
                    metrics::counter!("curity_dynamodb_cache_evictions_total",
                        "type" => key.kind.label(), "cause" => cause_label(cause))
                    .increment(1);
                }
            })
            .build();
        Some(Arc::new(Self {
            moka,
            kinds,
            hasher: RandomState::new(),
            start: Instant::now(),
            max_lag: Duration::from_millis(config.streams.max_lag_ms),
        }))
    }

    /// The data types this cache holds.
    pub fn cached_kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        Kind::ALL.into_iter().filter(|k| self.kinds[k.index()].on)
    }

    pub fn is_followed(&self, kind: Kind) -> bool {
        self.kinds[kind.index()].followed
    }

    /// Reads `key` of table `def` through the cache, as `decode` makes
    /// it: concurrent misses of one key make one `load` (and one decode);
    /// an absent item is not cached, nor one `decode` refuses. (Public for
    /// `examples/cache_memory.rs`; the service reads through `Table`.)
    pub async fn read<T, F, Fut, D>(
        &self,
        def: &TableDef,
        key: &Item,
        load: F,
        decode: D,
    ) -> Result<(Option<T>, Outcome), StoreError>
    where
        T: Clone + Send + Sync + 'static,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<Item>, StoreError>>,
        D: Fn(Item) -> Result<T, StoreError>,
    {
        let Some((kind, k)) = self.key_of(def, key) else {
            return Box::pin(direct(&load, &decode))
                .await
                .map(|v| (v, Outcome::Bypass));
        };
        if self.lagging(kind) {
            count(kind, "bypass");
            return Box::pin(direct(&load, &decode))
                .await
                .map(|v| (v, Outcome::Bypass));
        }
        let stripe = self.stripe(kind, &k.key);
        // The hit path: a plain lookup, without the entry machinery the
        // coalesced load below needs.
        if let Some(hit) = self.moka.get(&k).await {
            if hit.generation != stripe.load(Ordering::Acquire) {
                // Written since it was read: drop it, so the load below
                // caches the item as it is now.
                self.moka.invalidate(&k).await;
            } else if let Some(value) = hit.value.downcast_ref::<T>() {
                count(kind, "hit");
                return Ok((Some(value.clone()), Outcome::Hit));
            }
        }
        // The miss path is boxed: its futures (moka's entry machinery, the
        // SDK call) are tens of kilobytes, and every hit would otherwise
        // move them around inside each enclosing future.
        Box::pin(self.load_through(kind, k, stripe, load, decode)).await
    }

    /// A miss (or an outdated hit): load once for all concurrent readers of
    /// the key, cache what was read unless a write began meanwhile.
    async fn load_through<T, F, Fut, D>(
        &self,
        kind: Kind,
        k: Key,
        stripe: &AtomicU64,
        load: F,
        decode: D,
    ) -> Result<(Option<T>, Outcome), StoreError>
    where
        T: Clone + Send + Sync + 'static,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<Item>, StoreError>>,
        D: Fn(Item) -> Result<T, StoreError>,
    {
        let loaded = AtomicBool::new(false);
        let entry = self
            .moka
            .entry_by_ref(&k)
            .or_try_insert_with(async {
                loaded.store(true, Ordering::Relaxed);
                let generation = stripe.load(Ordering::Acquire);
                match load().await {
                    Ok(Some(item)) => {
                        let weight = weight_of(&k, &item);
                        match decode(item) {
                            Ok(v) => Ok(Arc::new(Cached {
                                value: Box::new(v),
                                weight,
                                generation,
                            })),
                            Err(e) => Err(Miss::Failed(e)),
                        }
                    }
                    Ok(None) => Err(Miss::Absent),
                    Err(e) => Err(Miss::Failed(e)),
                }
            })
            .await;
        let outcome = if loaded.load(Ordering::Relaxed) {
            Outcome::Miss
        } else {
            Outcome::Hit
        };
        match entry {
            Ok(entry) if entry.value().generation == stripe.load(Ordering::Acquire) => {
                match entry.value().value.downcast_ref::<T>() {
                    Some(value) => {
                        count(
                            kind,
                            if outcome == Outcome::Hit {
                                "hit"
                            } else {
                                "miss"
                            },
                        );
                        Ok((Some(value.clone()), outcome))
                    }
                    // Another reader's type under this key: read directly.
                    None => {
                        count(kind, "miss");
                        direct(&load, &decode).await.map(|v| (v, Outcome::Miss))
                    }
                }
            }
            // Written since that read began: the entry may be older than
            // the write. Drop it and read again, uncached.
            Ok(_) => {
                self.moka.invalidate(&k).await;
                count(kind, "miss");
                direct(&load, &decode).await.map(|v| (v, Outcome::Miss))
            }
            Err(miss) => {
                count(kind, "miss");
                match &*miss {
                    Miss::Absent => Ok((None, Outcome::Miss)),
                    Miss::Failed(e) => Err(e.clone()),
                }
            }
        }
    }

    /// Before a write to these (table, item or key) pairs: the returned
    /// guard, when dropped after the write answered, failed or was
    /// cancelled with its request, makes every entry read before it a
    /// miss. `None` when none of them is cached.
    pub(crate) fn before_write<'a>(
        self: &Arc<Self>,
        writes: impl IntoIterator<Item = (&'a TableDef, &'a Item)>,
    ) -> Option<Evict> {
        let keys: Vec<_> = writes
            .into_iter()
            .filter_map(|(def, item)| self.key_of(def, item))
            .collect();
        (!keys.is_empty()).then(|| Evict {
            cache: Arc::clone(self),
            keys,
        })
    }

    /// A stream record named the key with these attributes.
    pub(crate) async fn changed_remotely(&self, kind: Kind, keys: &Item) {
        if let Some((kind, k)) = self.key_of(kind.def(), keys) {
            self.evict(kind, k, "stream").await;
        }
    }

    async fn evict(&self, kind: Kind, k: Key, source: &'static str) {
        self.stripe(kind, &k.key).fetch_add(1, Ordering::AcqRel);
        self.moka.invalidate(&k).await;
        invalidated(kind, source);
    }

    /// Every entry of `kind` becomes a miss (a stream whose records were
    /// lost: expired or trimmed).
    pub(crate) fn forget(&self, kind: Kind) {
        for s in &self.kinds[kind.index()].stripes {
            s.fetch_add(1, Ordering::AcqRel);
        }
        invalidated(kind, "stream_reset");
    }

    /// The stream reader read every shard of `kind` to its end in a read
    /// that began at `at`.
    pub(crate) fn caught_up(&self, kind: Kind, at: Instant) {
        let ms = u64::try_from(at.saturating_duration_since(self.start).as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.kinds[kind.index()]
            .caught_up_ms
            .fetch_max(ms, Ordering::AcqRel);
    }

    /// How far the stream of `kind` is behind (`None`: not followed; the
    /// time since start when never caught up).
    pub fn lag(&self, kind: Kind) -> Option<Duration> {
        let k = &self.kinds[kind.index()];
        if !k.followed {
            return None;
        }
        let caught_up = Duration::from_millis(k.caught_up_ms.load(Ordering::Acquire));
        Some(self.start.elapsed().saturating_sub(caught_up))
    }

    /// Before the first read to the end of every shard, records written
    /// since start may be unseen: bypass as when behind.
    fn lagging(&self, kind: Kind) -> bool {
        let never = self.kinds[kind.index()]
            .caught_up_ms
            .load(Ordering::Acquire)
            == 0;
        self.lag(kind)
            .is_some_and(|lag| never || lag > self.max_lag)
    }

    fn key_of(&self, def: &TableDef, key: &Item) -> Option<(Kind, Key)> {
        let kind = Kind::of(def).filter(|k| self.kinds[k.index()].on)?;
        let hash = match key.get(def.hash.name)? {
            AttributeValue::S(s) => s.as_str(),
            _ => return None,
        };
        let key = match def.range {
            None => Box::from(hash),
            Some(range) => match key.get(range.name)? {
                AttributeValue::S(r) => format!("{hash}\0{r}").into_boxed_str(),
                _ => return None,
            },
        };
        Some((kind, Key { kind, key }))
    }

    fn stripe(&self, kind: Kind, key: &str) -> &AtomicU64 {
        let h = self.hasher.hash_one(key) as usize;
        &self.kinds[kind.index()].stripes[h % STRIPES]
    }

    /// Entries held now (after pending maintenance), for tests and the
    /// capacity report.
    pub async fn weighted_size(&self) -> u64 {
        self.moka.run_pending_tasks().await;
        self.moka.weighted_size()
    }
}

fn count(kind: Kind, result: &'static str) {
    // Registered once per (type, result): the recorder's lookup by labels
    // would otherwise cost every read more than the hit itself.
    static COUNTERS: [[OnceLock<metrics::Counter>; 3]; Kind::COUNT] =
        [const { [const { OnceLock::new() }; 3] }; Kind::COUNT];
    let r = match result {
        "hit" => 0,
        "miss" => 1,
        _ => 2,
    };
    COUNTERS[kind.index()][r]
        .get_or_init(|| {
            metrics::counter!("curity_dynamodb_cache_requests_total",
                "type" => kind.label(), "result" => result)
        })
        .increment(1);
}

/// Reads the item past the cache and decodes it.
async fn direct<T, F, Fut, D>(load: &F, decode: &D) -> Result<Option<T>, StoreError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<Item>, StoreError>>,
    D: Fn(Item) -> Result<T, StoreError>,
{
    match load().await? {
        Some(item) => decode(item).map(Some),
        None => Ok(None),
    }
}

fn cause_label(cause: moka::notification::RemovalCause) -> &'static str {
    use moka::notification::RemovalCause as C;
    match cause {
        C::Expired => "expired",
        C::Size => "size",
        C::Explicit => "explicit",
        C::Replaced => "replaced",
    }
}

#[cfg(test)]
mod tests;
