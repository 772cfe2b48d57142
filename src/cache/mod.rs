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

pub mod streams;

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

use crate::schema::{self, TableDef};
use crate::{
    config::{CacheConfig, CachedType},
    error::StoreError,
};

type Item = HashMap<String, AttributeValue>;

/// Declares the cached data types, one line each: the variant, its table
/// (`schema`: keys and TTL attribute), and its `[cache]` configuration
/// field, which is also its metric label.
macro_rules! cached_kinds {
    ($($kind:ident => $def:ident, $field:ident;)+) => {
        /// The data types whose items are cached. Sessions, nonces and
        /// buckets never are: every read must see the last write from any
        /// replica.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($kind),+
        }

        impl Kind {
            pub const COUNT: usize = [$(Kind::$kind),+].len();
            pub const ALL: [Kind; Kind::COUNT] = [$(Kind::$kind),+];

            /// The metric label and configuration key.
            pub fn label(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($field)),+
                }
            }

            pub fn def(self) -> &'static TableDef {
                match self {
                    $(Kind::$kind => &schema::$def),+
                }
            }

            fn settings(self, c: &CacheConfig) -> CachedType {
                match self {
                    $(Kind::$kind => c.$field),+
                }
            }
        }
    };
}

cached_kinds! {
    Accounts => ACCOUNTS, accounts;
    Tokens => TOKENS, tokens;
    DynamicClients => DYNAMIC_CLIENTS, dynamic_clients;
    DatabaseClients => DATABASE_CLIENTS, database_clients;
    DatabaseServiceProviders => DATABASE_SERVICE_PROVIDERS, database_service_providers;
}

impl Kind {
    pub fn of(def: &TableDef) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.def().suffix == def.suffix)
    }

    fn index(self) -> usize {
        self as usize
    }
}

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

/// Bytes an entry holds in memory, for the capacity bound: the heap of
/// the item as the SDK represents it (keys, values, map buckets, allocator
/// headers), not DynamoDB's smaller size of it, plus moka's own node.
fn weight_of(key: &Key, item: &Item) -> u32 {
    const BOOKKEEPING: usize = 256;
    let bytes = key.key.len() + ALLOC + item_heap(item) + BOOKKEEPING;
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// An allocator's header and rounding, per allocation.
const ALLOC: usize = 24;

fn item_heap(item: &Item) -> usize {
    // A hashbrown bucket per entry at the usual 7/8 load, plus its
    // control byte.
    let bucket = (std::mem::size_of::<(String, AttributeValue)>() + 1) * 8 / 7;
    ALLOC
        + item
            .iter()
            .map(|(k, v)| bucket + k.len() + ALLOC + value_heap(v))
            .sum::<usize>()
}

fn value_heap(v: &AttributeValue) -> usize {
    let text = |s: &str| s.len() + ALLOC;
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => text(s),
        AttributeValue::B(b) => b.as_ref().len() + ALLOC,
        AttributeValue::Ss(l) | AttributeValue::Ns(l) => {
            ALLOC
                + l.iter()
                    .map(|s| std::mem::size_of::<String>() + text(s))
                    .sum::<usize>()
        }
        AttributeValue::Bs(l) => {
            ALLOC
                + l.iter()
                    .map(|b| {
                        std::mem::size_of::<aws_smithy_types::Blob>() + b.as_ref().len() + ALLOC
                    })
                    .sum::<usize>()
        }
        AttributeValue::L(l) => {
            ALLOC
                + l.iter()
                    .map(|x| std::mem::size_of::<AttributeValue>() + value_heap(x))
                    .sum::<usize>()
        }
        AttributeValue::M(m) => item_heap(m),
        _ => 0,
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
        let direct = || async {
            match load().await? {
                Some(item) => decode(item).map(Some),
                None => Ok(None),
            }
        };
        let Some((kind, k)) = self.key_of(def, key) else {
            return Box::pin(direct()).await.map(|v| (v, Outcome::Bypass));
        };
        if self.lagging(kind) {
            count(kind, "bypass");
            return Box::pin(direct()).await.map(|v| (v, Outcome::Bypass));
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
        let direct = || async {
            match load().await? {
                Some(item) => decode(item).map(Some),
                None => Ok(None),
            }
        };
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
                        direct().await.map(|v| (v, Outcome::Miss))
                    }
                }
            }
            // Written since that read began: the entry may be older than
            // the write. Drop it and read again, uncached.
            Ok(_) => {
                self.moka.invalidate(&k).await;
                count(kind, "miss");
                direct().await.map(|v| (v, Outcome::Miss))
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
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn cache() -> Arc<ItemCache> {
        ItemCache::new(&CacheConfig::default()).expect("on")
    }

    fn key(pk: &str) -> Item {
        HashMap::from([(schema::ACCOUNTS.hash.name.to_string(), s(pk))])
    }

    #[tokio::test]
    async fn second_read_is_a_hit_and_a_write_makes_it_a_miss() {
        let c = cache();
        let k = key("ai#1");
        let item = || async { Ok(Some(key("ai#1"))) };
        let (_, first) = c.read(&schema::ACCOUNTS, &k, item, Ok).await.expect("read");
        let (_, second) = c.read(&schema::ACCOUNTS, &k, item, Ok).await.expect("read");
        drop(c.before_write([(&schema::ACCOUNTS, &k)]));
        let (_, third) = c.read(&schema::ACCOUNTS, &k, item, Ok).await.expect("read");
        assert_eq!(
            (first, second, third),
            (Outcome::Miss, Outcome::Hit, Outcome::Miss)
        );
    }

    #[tokio::test]
    async fn absent_items_and_failures_are_not_cached() {
        let c = cache();
        let k = key("ai#2");
        let (none, _) = c
            .read(&schema::ACCOUNTS, &k, || async { Ok(None) }, Ok)
            .await
            .expect("read");
        assert!(none.is_none());
        let failed = c
            .read(
                &schema::ACCOUNTS,
                &k,
                || async { Err(StoreError::NotFound { what: "x" }) },
                Ok,
            )
            .await;
        assert!(failed.is_err());
        let (_, outcome) = c
            .read(
                &schema::ACCOUNTS,
                &k,
                || async { Ok(Some(key("ai#2"))) },
                Ok,
            )
            .await
            .expect("read");
        assert_eq!(outcome, Outcome::Miss);
    }

    #[tokio::test]
    async fn a_write_during_the_read_keeps_its_result_out_of_the_cache() {
        let c = cache();
        let k = key("ai#3");
        let (_, outcome) = c
            .read(
                &schema::ACCOUNTS,
                &k,
                || {
                    let c = c.clone();
                    async move {
                        // The write lands while this read is in flight.
                        drop(c.before_write([(&schema::ACCOUNTS, &key("ai#3"))]));
                        Ok(Some(key("ai#3")))
                    }
                },
                Ok,
            )
            .await
            .expect("read");
        assert_eq!(outcome, Outcome::Miss);
        let (_, next) = c
            .read(
                &schema::ACCOUNTS,
                &k,
                || async { Ok(Some(key("ai#3"))) },
                Ok,
            )
            .await
            .expect("read");
        assert_eq!(next, Outcome::Miss, "the raced entry must not be served");
    }

    #[tokio::test]
    async fn sessions_are_never_cached() {
        let c = cache();
        let k = HashMap::from([("id".to_string(), s("x"))]);
        for _ in 0..2 {
            let (_, outcome) = c
                .read(
                    &schema::SESSIONS,
                    &k,
                    || async { Ok(Some(HashMap::new())) },
                    Ok,
                )
                .await
                .expect("read");
            assert_eq!(outcome, Outcome::Bypass);
        }
    }

    #[tokio::test]
    async fn a_followed_table_is_bypassed_until_its_stream_caught_up() {
        let mut config = CacheConfig::default();
        config.streams.enabled = true;
        config.streams.max_lag_ms = 60_000;
        let c = ItemCache::new(&config).expect("on");
        assert!(c.lagging(Kind::Tokens), "never read to the end yet");
        c.caught_up(Kind::Tokens, Instant::now());
        assert!(!c.lagging(Kind::Tokens));
        config.streams.max_lag_ms = 0;
        let c = ItemCache::new(&config).expect("on");
        c.caught_up(Kind::Tokens, Instant::now());
        tokio::time::sleep(Duration::from_millis(5)).await;
        let k = HashMap::from([("tokenHash".to_string(), s("t"))]);
        let (_, outcome) = c
            .read(
                &schema::TOKENS,
                &k,
                || async { Ok(Some(HashMap::new())) },
                Ok,
            )
            .await
            .expect("read");
        assert_eq!(outcome, Outcome::Bypass, "0 ms bound: always behind");
    }
}
