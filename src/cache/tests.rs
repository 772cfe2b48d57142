use super::*;
use crate::schema;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn cache() -> Arc<ItemCache> {
    ItemCache::new(&CacheConfig::default()).expect("on")
}

fn key(pk: &str) -> Item {
    HashMap::from([(schema::ACCOUNTS.hash.name.to_string(), s(pk))])
}

/// Reads the account item `pk` through the cache, the table holding it.
async fn read_stored(c: &ItemCache, pk: &str) -> Outcome {
    let load = || async { Ok(Some(key(pk))) };
    let (_, outcome) = c
        .read(&schema::ACCOUNTS, &key(pk), load, Ok)
        .await
        .expect("read");
    outcome
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
    let outcome = read_stored(&c, "ai#2").await;
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
    let next = read_stored(&c, "ai#3").await;
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
