//! Memory of the read cache at and past its capacity: fills an `ItemCache`
//! of `--mib` MiB with token items of realistic size (about 1 KB, as
//! `CreateToken` writes them) until twice the capacity went through it,
//! then reports the process's resident memory growth against the
//! capacity. The target (docs/performance.md): growth <= capacity + 50 MiB.
//!
//! ```sh
//! cargo run --release --example cache_memory -- --mib 64
//! ```

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use clap::Parser;
use curity_dynamodb::{cache::ItemCache, config::CacheConfig, schema};

#[derive(Parser, Debug)]
struct Args {
    /// `cache.max_bytes`, in MiB.
    #[arg(long, default_value_t = 64)]
    mib: u64,
    /// Bytes of `tokenData` per item.
    #[arg(long, default_value_t = 700)]
    data_bytes: usize,
}

/// Resident set size in KiB (Linux `/proc/self/status`).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let capacity = args.mib * 1024 * 1024;
    let mut config = CacheConfig {
        max_bytes: capacity,
        ..CacheConfig::default()
    };
    // Nothing expires during the fill: the cache is held at capacity.
    config.tokens.ttl_ms = 3_600_000;
    let before = rss_kib();
    let cache = ItemCache::new(&config).ok_or_else(|| anyhow::anyhow!("cache off"))?;
    let data = format!("{{\"claims\":\"{}\"}}", "x".repeat(args.data_bytes));
    let mut pushed: u64 = 0;
    let mut i: u64 = 0;
    while pushed < 2 * capacity {
        let hash = format!("{i:064x}");
        let key = HashMap::from([("tokenHash".to_string(), s(&hash))]);
        let item = HashMap::from([
            ("tokenHash".to_string(), s(&hash)),
            ("status".to_string(), s("issued")),
            ("purpose".to_string(), s("access_token")),
            ("usage".to_string(), s("bearer")),
            ("format".to_string(), s("opaque")),
            (
                "issuer".to_string(),
                s("https://idsvr.example.com/oauth/v2/oauth-anonymous"),
            ),
            ("subject".to_string(), s("johndoe")),
            (
                "audience".to_string(),
                AttributeValue::L(vec![s("api"), s("www")]),
            ),
            ("tokenData".to_string(), s(data.clone())),
            (
                "created".to_string(),
                AttributeValue::N("1764000000".into()),
            ),
            (
                "expires".to_string(),
                AttributeValue::N("1764003600".into()),
            ),
            (
                "deletableAt".to_string(),
                AttributeValue::N("1764176400".into()),
            ),
        ]);
        pushed += item
            .iter()
            .map(|(k, v)| k.len() + v.as_s().map_or(16, |s| s.len()))
            .sum::<usize>() as u64;
        let (_, _) = cache
            .read(
                &schema::TOKENS,
                &key,
                || {
                    let item = item.clone();
                    async move { Ok(Some(item)) }
                },
                Ok,
            )
            .await?;
        i += 1;
    }
    let held = cache.weighted_size().await;
    let after = rss_kib();
    let growth = after.saturating_sub(before) * 1024;
    let mib = |b: u64| b as f64 / 1024.0 / 1024.0;
    println!(
        "items={i} capacity={:.1}MiB weighted_size={:.1}MiB rss_growth={:.1}MiB growth_minus_capacity={:.1}MiB (target <= 50)",
        mib(capacity),
        mib(held),
        mib(growth),
        mib(growth) - mib(capacity),
    );
    Ok(())
}
