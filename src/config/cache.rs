//! The `[cache]` section: the read cache and its streams.

use serde::{Deserialize, Serialize};

/// The read cache (`cache`): items of the hot reads by key, bounded in
/// bytes, each data type with its own time to live. README has the
/// consistency contract of each type.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Off: every read goes to DynamoDB.
    pub enabled: bool,
    /// Memory bound of every cached item together, in bytes (items as
    /// DynamoDB sizes them plus keys and bookkeeping).
    pub max_bytes: u64,
    pub accounts: CachedType,
    pub tokens: CachedType,
    pub dynamic_clients: CachedType,
    pub database_clients: CachedType,
    pub database_service_providers: CachedType,
    /// Cross-replica invalidation from DynamoDB Streams.
    pub streams: StreamsConfig,
}

impl Default for CacheConfig {
    fn default() -> Self {
        let ttl = |ms| CachedType {
            enabled: true,
            ttl_ms: ms,
        };
        Self {
            enabled: true,
            max_bytes: 64 * 1024 * 1024,
            // Without streams, a write on another replica is seen after at
            // most this long: one second for what decides a login or a
            // token's validity, longer for administrator-managed clients.
            accounts: ttl(1_000),
            tokens: ttl(1_000),
            dynamic_clients: ttl(10_000),
            database_clients: ttl(10_000),
            database_service_providers: ttl(10_000),
            streams: StreamsConfig::default(),
        }
    }
}

/// One data type in the cache.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CachedType {
    pub enabled: bool,
    /// How long an item is served from the cache after it was read.
    pub ttl_ms: u64,
}

impl Default for CachedType {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl_ms: 1_000,
        }
    }
}

/// Following the cached tables' streams (`tables create --streams` turns
/// them on, `KEYS_ONLY`): every replica evicts what any replica wrote.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamsConfig {
    pub enabled: bool,
    /// Pause between two reads of a shard that reached its end. DynamoDB
    /// allows 5 `GetRecords` per second per shard across every reader.
    pub poll_interval_ms: u64,
    /// When the last read that reached the end of every shard is older
    /// than this, the table's cache is bypassed until it catches up.
    pub max_lag_ms: u64,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            poll_interval_ms: 500,
            max_lag_ms: 2_000,
        }
    }
}

impl CacheConfig {
    /// Adds what is wrong with this section to `problems`.
    pub(super) fn check(&self, problems: &mut Vec<String>) {
        const MIB: u64 = 1024 * 1024;
        if self.enabled && !(MIB..=64 * 1024 * MIB).contains(&self.max_bytes) {
            problems.push("cache.max_bytes: between 1 MiB and 64 GiB".into());
        }
        for (name, t) in [
            ("accounts", self.accounts),
            ("tokens", self.tokens),
            ("dynamic_clients", self.dynamic_clients),
            ("database_clients", self.database_clients),
            (
                "database_service_providers",
                self.database_service_providers,
            ),
        ] {
            if t.enabled && !(1..=86_400_000).contains(&t.ttl_ms) {
                problems.push(format!(
                    "cache.{name}.ttl_ms: between 1 and 86400000 (a day)"
                ));
            }
        }
        let s = &self.streams;
        if s.enabled {
            if !(50..=60_000).contains(&s.poll_interval_ms) {
                problems.push("cache.streams.poll_interval_ms: between 50 and 60000".into());
            }
            // A bound below one poll would bypass the cache between polls.
            if s.max_lag_ms <= s.poll_interval_ms || s.max_lag_ms > 3_600_000 {
                problems.push(
                    "cache.streams.max_lag_ms: above cache.streams.poll_interval_ms and at \
                     most 3600000"
                        .into(),
                );
            }
        }
    }
}
