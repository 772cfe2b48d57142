//! The read cache's consistency contract: every write path evicts what it
//! changed before the RPC returns (TTLs here are a minute, so a missed
//! eviction shows as a stale read); concurrent misses of one key make one
//! DynamoDB call; sessions, nonces and buckets are never served from a
//! cache; with streams on, a write on one replica reaches another's cache
//! within the bound, on both backends.
//!
//! The proxy in front of the store counts `GetItem` requests: a read that
//! needs none was served from the cache.

use crate::support::{self, Answer};

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    api::convert::json_to_struct,
    config::Config,
    proto::{
        self, Account, CatalogDeleteRequest, CatalogGetRequest, DatabaseClient,
        DatabaseServiceProvider, DeleteDynamicClientRequest, DynamicClient,
        GetAccountByEmailRequest, GetAccountByIdRequest, GetAccountByUserNameRequest,
        GetDynamicClientRequest, GetTokenByHashRequest, NewAccount, PatchAccountRequest,
        PutDatabaseClientRequest, PutDatabaseServiceProviderRequest, SetTokenStatusRequest, Token,
        account_service_client::AccountServiceClient, bucket_service_client::BucketServiceClient,
        credential_service_client::CredentialServiceClient,
        database_client_service_client::DatabaseClientServiceClient,
        database_service_provider_service_client::DatabaseServiceProviderServiceClient,
        dynamic_client_service_client::DynamicClientServiceClient,
        nonce_service_client::NonceServiceClient, session_service_client::SessionServiceClient,
        token_service_client::TokenServiceClient,
    },
};
use serde_json::{Value, json};
use support::{
    app::{Backend, TestApp},
    fixtures::new_account,
    proxy::{Fault, FaultProxy},
};
use tonic::transport::Channel;

/// Long enough that only an eviction explains a fresh read.
const LONG_TTL_MS: u64 = 60_000;

fn long_ttls(c: &mut Config) {
    for t in [
        &mut c.cache.accounts,
        &mut c.cache.tokens,
        &mut c.cache.dynamic_clients,
        &mut c.cache.database_clients,
        &mut c.cache.database_service_providers,
    ] {
        t.ttl_ms = LONG_TTL_MS;
    }
}

/// An app whose store is reached through a counting proxy.
async fn counted_app(adjust: impl FnOnce(&mut Config)) -> (TestApp, FaultProxy) {
    let mut proxy = None;
    let app = TestApp::start_with(|c| {
        let p = FaultProxy::start(c.aws.endpoint_url.as_deref().expect("endpoint"));
        c.aws.endpoint_url = Some(p.endpoint.clone());
        proxy = Some(p);
        long_ttls(c);
        adjust(c);
    })
    .await;
    (app, proxy.expect("proxy"))
}

/// Counts `GetItem` requests from now on (forwarded unchanged).
fn count_reads(p: &FaultProxy) {
    p.inject(Fault::Delay(Duration::ZERO), Some("GetItem"), u32::MAX);
}

fn attrs(v: Value) -> prost_types::Struct {
    let Value::Object(m) = v else {
        panic!("object")
    };
    json_to_struct(m)
}

type Accounts = AccountServiceClient<Channel>;

async fn by_id(c: &mut Accounts, id: &str) -> Option<Account> {
    c.get_by_id(GetAccountByIdRequest {
        tenant: None,
        id: id.into(),
    })
    .await
    .answer("by id")
    .account
}

async fn by_name(c: &mut Accounts, name: &str) -> Option<Account> {
    c.get_by_user_name(GetAccountByUserNameRequest {
        tenant: None,
        user_name: name.into(),
    })
    .await
    .answer("by user name")
    .account
}

async fn by_email(c: &mut Accounts, email: &str) -> Option<Account> {
    c.get_by_email(GetAccountByEmailRequest {
        tenant: None,
        email: email.into(),
    })
    .await
    .answer("by email")
    .account
}

/// Reads the account by id, user name and email, and checks (by the
/// proxy's count) whether DynamoDB was asked.
async fn read_all(
    c: &mut Accounts,
    p: &FaultProxy,
    id: &str,
    name: &str,
    email: &str,
) -> (Option<Account>, Option<Account>, Option<Account>, u32) {
    count_reads(p);
    let a = by_id(c, id).await;
    let b = by_name(c, name).await;
    let e = by_email(c, email).await;
    (a, b, e, p.hits())
}

#[tokio::test]
async fn every_account_write_path_evicts_the_keys_it_changed_before_returning() {
    let (app, proxy) = counted_app(|_| {}).await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let created = c
        .create(new_account(
            "",
            "ann",
            Some(json!({"emails": [{"value": "ann@x.io", "primary": true}]})),
        ))
        .await
        .answer("create")
        .account
        .expect("account");
    let id = created.id.clone();

    let (_, _, _, misses) = read_all(&mut c, &proxy, &id, "ann", "ann@x.io").await;
    assert_eq!(misses, 3, "first reads go to DynamoDB");
    let (a, b, e, misses) = read_all(&mut c, &proxy, &id, "ann", "ann@x.io").await;
    assert_eq!(misses, 0, "second reads are served from the cache");
    assert!(a.is_some() && b.is_some() && e.is_some());

    // Patch: email moves, account deactivated. The old email key is gone,
    // the new one found, every key sees active = false.
    c.patch(PatchAccountRequest {
        tenant: None,
        id: id.clone(),
        active: Some(false),
        set_attributes: Some(attrs(
            json!({"emails": [{"value": "ann@y.io", "primary": true}]}),
        )),
        ..Default::default()
    })
    .await
    .expect("patch");
    let (a, b, old, _) = read_all(&mut c, &proxy, &id, "ann", "ann@x.io").await;
    assert!(!a.expect("by id").active && !b.expect("by name").active);
    assert!(
        old.is_none(),
        "the old email must no longer find the account"
    );
    assert!(
        !by_email(&mut c, "ann@y.io")
            .await
            .expect("new email")
            .active
    );

    // Rename (patch of user_name): the old user name finds nothing.
    c.patch(PatchAccountRequest {
        tenant: None,
        id: id.clone(),
        user_name: Some("anna".into()),
        ..Default::default()
    })
    .await
    .expect("rename");
    assert!(by_name(&mut c, "ann").await.is_none(), "old user name");
    assert_eq!(by_id(&mut c, &id).await.expect("by id").user_name, "anna");

    // Full update.
    c.update(proto::UpdateAccountRequest {
        tenant: None,
        id: id.clone(),
        expected_version: None,
        account: Some(NewAccount {
            user_name: "anna".into(),
            active: true,
            attributes: Some(attrs(
                json!({"emails": [{"value": "ann@y.io", "primary": true}], "displayName": "Ann"}),
            )),
            ..Default::default()
        }),
    })
    .await
    .expect("update");
    assert!(by_name(&mut c, "anna").await.expect("updated").active);
    assert!(by_email(&mut c, "ann@y.io").await.expect("updated").active);

    // Credential writes change the account items (their version).
    let version = by_id(&mut c, &id).await.expect("account").version;
    let mut creds = CredentialServiceClient::new(app.channel.clone());
    creds
        .store(proto::StoreCredentialRequest {
            tenant: None,
            subject: "anna".into(),
            password_hash: Some("$2a$10$abcdefghijklmnopqrstuv".into()),
            ..Default::default()
        })
        .await
        .expect("store credential");
    let after = by_id(&mut c, &id).await.expect("account").version;
    assert!(
        after > version,
        "credential store: version {version} -> {after}"
    );
    creds
        .update_subject(proto::UpdateSubjectRequest {
            tenant: None,
            subject: "anna".into(),
            new_subject: "annie".into(),
        })
        .await
        .expect("update subject");
    assert!(by_name(&mut c, "anna").await.is_none(), "renamed subject");
    assert_eq!(by_id(&mut c, &id).await.expect("by id").user_name, "annie");
    creds
        .delete(proto::DeleteCredentialRequest {
            tenant: None,
            subject: "annie".into(),
        })
        .await
        .expect("delete credential");
    assert!(by_id(&mut c, &id).await.expect("account").version > after);

    // Delete: every key finds nothing.
    c.delete(proto::DeleteAccountRequest {
        tenant: None,
        id: id.clone(),
    })
    .await
    .expect("delete");
    let (a, b, e, _) = read_all(&mut c, &proxy, &id, "annie", "ann@y.io").await;
    assert!(a.is_none() && b.is_none() && e.is_none(), "deleted");
}

#[tokio::test]
async fn token_status_changes_and_client_writes_evict_before_returning() {
    let (app, proxy) = counted_app(|_| {}).await;

    let mut t = TokenServiceClient::new(app.channel.clone());
    t.create_token(proto::CreateTokenRequest {
        token: Some(Token {
            token_hash: "h1".into(),
            status: "issued".into(),
            ..Default::default()
        }),
    })
    .await
    .expect("create token");
    let status = |mut t: TokenServiceClient<Channel>| async move {
        support::read::token(&mut t, "h1")
            .await
            .expect("token")
            .status
    };
    status(t.clone()).await;
    count_reads(&proxy);
    assert_eq!(status(t.clone()).await, "issued");
    assert_eq!(proxy.hits(), 0, "the token was cached");
    t.set_token_status(SetTokenStatusRequest {
        token_hash: "h1".into(),
        status: "revoked".into(),
    })
    .await
    .expect("revoke");
    assert_eq!(status(t.clone()).await, "revoked");

    let mut d = DynamicClientServiceClient::new(app.channel.clone());
    let dcr = DynamicClient {
        client_id: "dcr-1".into(),
        status: "ACTIVE".into(),
        attributes_json: "{}".into(),
        ..Default::default()
    };
    d.create(proto::CreateDynamicClientRequest {
        client: Some(dcr.clone()),
    })
    .await
    .expect("create dcr");
    let get = |mut d: DynamicClientServiceClient<Channel>| async move {
        d.get(GetDynamicClientRequest {
            client_id: "dcr-1".into(),
        })
        .await
        .answer("get dcr")
        .client
    };
    get(d.clone()).await;
    count_reads(&proxy);
    get(d.clone()).await;
    assert_eq!(proxy.hits(), 0, "the client was cached");
    d.update(proto::UpdateDynamicClientRequest {
        client: Some(DynamicClient {
            status: "REVOKED".into(),
            ..dcr
        }),
    })
    .await
    .expect("update dcr");
    assert_eq!(get(d.clone()).await.expect("dcr").status, "REVOKED");
    d.delete(DeleteDynamicClientRequest {
        client_id: "dcr-1".into(),
    })
    .await
    .expect("delete dcr");
    assert!(get(d.clone()).await.is_none(), "deleted client");

    let mut dc = DatabaseClientServiceClient::new(app.channel.clone());
    let client = DatabaseClient {
        client_id: "db-1".into(),
        client_name: "One".into(),
        status: "ACTIVE".into(),
        tags: vec!["a".into()],
        attributes_json: "{}".into(),
        ..Default::default()
    };
    dc.create(PutDatabaseClientRequest {
        profile_id: "p".into(),
        client: Some(client.clone()),
    })
    .await
    .expect("create db client");
    let get = |mut dc: DatabaseClientServiceClient<Channel>| async move {
        dc.get(CatalogGetRequest {
            profile_id: "p".into(),
            id: "db-1".into(),
        })
        .await
        .answer("get db client")
        .client
    };
    get(dc.clone()).await;
    count_reads(&proxy);
    get(dc.clone()).await;
    assert_eq!(proxy.hits(), 0, "the database client was cached");
    dc.update(PutDatabaseClientRequest {
        profile_id: "p".into(),
        client: Some(DatabaseClient {
            client_name: "Renamed".into(),
            tags: vec!["b".into()],
            ..client
        }),
    })
    .await
    .expect("update db client");
    let updated = get(dc.clone()).await.expect("db client");
    assert_eq!(
        (updated.client_name.as_str(), updated.tags),
        ("Renamed", vec!["b".to_string()])
    );
    dc.delete(CatalogDeleteRequest {
        profile_id: "p".into(),
        id: "db-1".into(),
    })
    .await
    .expect("delete db client");
    assert!(get(dc.clone()).await.is_none(), "deleted database client");

    let mut sp = DatabaseServiceProviderServiceClient::new(app.channel.clone());
    let provider = DatabaseServiceProvider {
        id: "sp-1".into(),
        service_provider_name: "One".into(),
        enabled: "ENABLED".into(),
        attributes_json: "{}".into(),
        ..Default::default()
    };
    sp.create(PutDatabaseServiceProviderRequest {
        profile_id: "p".into(),
        service_provider: Some(provider.clone()),
    })
    .await
    .expect("create provider");
    let get = |mut sp: DatabaseServiceProviderServiceClient<Channel>| async move {
        sp.get(CatalogGetRequest {
            profile_id: "p".into(),
            id: "sp-1".into(),
        })
        .await
        .answer("get provider")
        .service_provider
    };
    get(sp.clone()).await;
    count_reads(&proxy);
    get(sp.clone()).await;
    assert_eq!(proxy.hits(), 0, "the service provider was cached");
    sp.update(PutDatabaseServiceProviderRequest {
        profile_id: "p".into(),
        service_provider: Some(DatabaseServiceProvider {
            service_provider_name: "Renamed".into(),
            ..provider
        }),
    })
    .await
    .expect("update provider");
    assert_eq!(
        get(sp.clone())
            .await
            .expect("provider")
            .service_provider_name,
        "Renamed"
    );
    sp.delete(CatalogDeleteRequest {
        profile_id: "p".into(),
        id: "sp-1".into(),
    })
    .await
    .expect("delete provider");
    assert!(get(sp.clone()).await.is_none(), "deleted provider");
}

#[tokio::test]
async fn concurrent_misses_of_one_key_make_one_dynamodb_read() {
    let (app, proxy) = counted_app(|_| {}).await;
    let mut t = TokenServiceClient::new(app.channel.clone());
    t.create_token(proto::CreateTokenRequest {
        token: Some(Token {
            token_hash: "hot".into(),
            status: "issued".into(),
            ..Default::default()
        }),
    })
    .await
    .expect("create token");
    // Each GetItem is held long enough for every caller to arrive.
    proxy.inject(
        Fault::Delay(Duration::from_millis(400)),
        Some("GetItem"),
        u32::MAX,
    );
    let calls = (0..32).map(|_| {
        let mut t = t.clone();
        async move {
            support::read::token(&mut t, "hot")
                .await
                .expect("token")
                .status
        }
    });
    let statuses = futures_join_all(calls).await;
    assert!(statuses.iter().all(|s| s == "issued"));
    assert_eq!(proxy.hits(), 1, "32 concurrent misses, one GetItem");
}

/// `join_all` without another dependency: spawn and await each.
async fn futures_join_all<F>(calls: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = calls.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn sessions_nonces_and_buckets_see_writes_made_behind_the_services_back() {
    let app = TestApp::start_with(long_ttls).await;
    let ch = app.channel.clone();
    let mut s = SessionServiceClient::new(ch.clone());
    s.insert_session(proto::InsertSessionRequest {
        session: Some(proto::Session {
            id: "s1".into(),
            data: "one".into(),
            expires_at: 4_000_000_000,
        }),
    })
    .await
    .expect("insert");
    let data = |mut s: SessionServiceClient<Channel>| async move {
        support::read::session(&mut s, "s1")
            .await
            .expect("session")
            .data
    };
    assert_eq!(data(s.clone()).await, "one");
    app.raw
        .update_item()
        .table_name(app.table("curity-sessions"))
        .key("id", AttributeValue::S("s1".into()))
        .update_expression("SET sessionData = :d")
        .expression_attribute_values(":d", AttributeValue::S("two".into()))
        .send()
        .await
        .expect("raw update");
    assert_eq!(data(s.clone()).await, "two", "a session is never cached");

    let mut n = NonceServiceClient::new(ch.clone());
    n.save_nonce(proto::SaveNonceRequest {
        nonce: "n1".into(),
        value: "v".into(),
        created_at: 4_000_000_000,
        ttl_seconds: 60,
    })
    .await
    .expect("save nonce");
    let nonce = |mut n: NonceServiceClient<Channel>| async move {
        n.get_nonce(proto::GetNonceRequest { nonce: "n1".into() })
            .await
            .answer("get nonce")
    };
    let before = nonce(n.clone()).await;
    app.raw
        .delete_item()
        .table_name(app.table("curity-nonces"))
        .key("nonce", AttributeValue::S("n1".into()))
        .send()
        .await
        .expect("raw delete");
    assert_ne!(
        format!("{before:?}"),
        format!("{:?}", nonce(n.clone()).await),
        "a nonce is never cached"
    );

    let mut b = BucketServiceClient::new(ch);
    let key = || {
        Some(proto::BucketKey {
            tenant: None,
            subject: "u".into(),
            purpose: "p".into(),
        })
    };
    b.store_bucket(proto::StoreBucketRequest {
        key: key(),
        attributes: Some(attrs(json!({"k": 1}))),
        ..Default::default()
    })
    .await
    .expect("store bucket");
    let bucket = |mut b: BucketServiceClient<Channel>| async move {
        b.get_bucket(proto::GetBucketRequest { key: key() })
            .await
            .answer("get bucket")
            .state
    };
    let before = bucket(b.clone()).await;
    let items = app.raw_scan("curity-bucket").await;
    assert_eq!(items.len(), 1, "one bucket item");
    for item in &items {
        let key = item
            .iter()
            .filter(|(k, _)| ["subject", "purpose"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let deleted = app.raw_delete("curity-bucket", key).await;
        assert!(deleted.is_some(), "the bucket item was there to delete");
    }
    assert_ne!(before, bucket(b.clone()).await, "a bucket is never cached");
}

/// Streams on, polled often: the bound a replica's cache may lag behind
/// another's write.
fn streamed(c: &mut Config) {
    long_ttls(c);
    c.cache.streams.enabled = true;
    c.cache.streams.poll_interval_ms = 100;
    c.cache.streams.max_lag_ms = 1_500;
}

/// The staleness bound with streams: the lag bound, one poll and the
/// backend's delay in publishing a record.
const BOUND: Duration = Duration::from_secs(4);

#[tokio::test]
async fn with_streams_a_write_on_one_replica_reaches_anothers_cache_within_the_bound() {
    for backend in Backend::ALL {
        let a = TestApp::start_backend(backend, streamed).await;
        let mut proxy = None;
        let b = a
            .replica(|c| {
                streamed(c);
                let p = FaultProxy::start(c.aws.endpoint_url.as_deref().expect("endpoint"));
                c.aws.endpoint_url = Some(p.endpoint.clone());
                proxy = Some(p);
            })
            .await;
        let proxy = proxy.expect("proxy");
        // The control: a replica that does not follow the streams keeps
        // what it cached for the whole (minute-long) TTL.
        let control = a
            .replica(|c| {
                long_ttls(c);
                c.cache.streams.enabled = false;
            })
            .await;
        let id = a.create_account("", "bob").await;
        let mut ta = TokenServiceClient::new(a.channel.clone());
        ta.create_token(proto::CreateTokenRequest {
            token: Some(Token {
                token_hash: "tb".into(),
                status: "issued".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("create token");

        let token_status = |ch: Channel| async move {
            TokenServiceClient::new(ch)
                .get_token_by_hash(GetTokenByHashRequest {
                    token_hash: "tb".into(),
                })
                .await
                .answer("get token")
                .token
                .expect("token")
                .status
        };
        let active = |ch: Channel| async move {
            by_name(&mut AccountServiceClient::new(ch), "bob")
                .await
                .expect("account")
                .active
        };
        // B serves from its cache once its stream readers caught up (it
        // bypasses the cache before): wait for a read that needs no GetItem.
        let ready = Instant::now();
        loop {
            active(b.channel.clone()).await;
            token_status(b.channel.clone()).await;
            count_reads(&proxy);
            active(b.channel.clone()).await;
            token_status(b.channel.clone()).await;
            if proxy.hits() == 0 {
                break;
            }
            assert!(
                ready.elapsed() < Duration::from_secs(15),
                "{backend:?}: B never served from its cache"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for ch in [b.channel.clone(), control.channel.clone()] {
            assert!(active(ch.clone()).await);
            assert_eq!(token_status(ch).await, "issued");
        }

        let written = Instant::now();
        AccountServiceClient::new(a.channel.clone())
            .patch(PatchAccountRequest {
                tenant: None,
                id,
                active: Some(false),
                ..Default::default()
            })
            .await
            .expect("deactivate on A");
        ta.set_token_status(SetTokenStatusRequest {
            token_hash: "tb".into(),
            status: "revoked".into(),
        })
        .await
        .expect("revoke on A");
        loop {
            let seen = !active(b.channel.clone()).await
                && token_status(b.channel.clone()).await == "revoked";
            if seen {
                break;
            }
            assert!(
                written.elapsed() < BOUND,
                "{backend:?}: B still served the old account or token after {BOUND:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!(
            "{backend:?}: B saw A's writes after {:?}",
            written.elapsed()
        );
        assert!(
            active(control.channel.clone()).await
                && token_status(control.channel.clone()).await == "issued",
            "{backend:?}: without streams the old values stay cached (so the test can fail)"
        );
    }
}
