//! The hot read path, each figure next to the baseline it should be read
//! against, all measured in the same run on the same embedded store
//! (`benches/baseline`):
//!
//! - `cached/*`: the service with its cache warm vs `Ceiling`, a bare
//!   tonic server answering the same messages from a `HashMap`
//!   (`cached/ceiling_x / cached/service_x` is the share of the ceiling
//!   the cached read reaches);
//! - `uncached/*`: the service with its cache off vs `RawGet`, a bare
//!   tonic server doing one raw `GetItem` per request on the same store
//!   (the difference is the service's own code);
//! - `write/*`: account create vs a raw `TransactWriteItems` of the same
//!   two items straight to the store (the difference is the gRPC hop plus
//!   the service's code);
//! - `baseline/*`: a gRPC health check and a raw SDK `GetItem`, for scale.
//!
//! Run: `cargo bench --bench hot_read`.

#[path = "../tests/it/support/mod.rs"]
mod support;

#[path = "baseline/mod.rs"]
mod baseline;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use criterion::{Criterion, criterion_group, criterion_main};
use curity_dynamodb::proto::{
    CreateAccountRequest, CreateDynamicClientRequest, CreateTokenRequest, DynamicClient,
    GetAccountByUserNameRequest, GetDynamicClientRequest, GetSessionRequest, GetTokenByHashRequest,
    InsertSessionRequest, NewAccount, Session, Token, account_service_client::AccountServiceClient,
    dynamic_client_service_client::DynamicClientServiceClient,
    session_service_client::SessionServiceClient, token_service_client::TokenServiceClient,
};
use support::app::TestApp;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const TOKEN: &str = "bench-token";
const USER: &str = "bench-user";
const CLIENT: &str = "bench-client";

async fn seed(ch: &Channel) {
    SessionServiceClient::new(ch.clone())
        .insert_session(InsertSessionRequest {
            session: Some(Session {
                id: "bench-session".into(),
                data: "x".repeat(512),
                expires_at: 1_900_000_000,
            }),
        })
        .await
        .expect("seed session");
    TokenServiceClient::new(ch.clone())
        .create_token(CreateTokenRequest {
            token: Some(Token {
                token_hash: TOKEN.into(),
                status: "issued".into(),
                audience: vec!["api".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("seed token");
    AccountServiceClient::new(ch.clone())
        .create(CreateAccountRequest {
            tenant: None,
            account: Some(NewAccount {
                user_name: USER.into(),
                active: true,
                attributes_json: r#"{"emails":[{"value":"b@x.io","primary":true}]}"#.into(),
                ..Default::default()
            }),
            password_hash: None,
        })
        .await
        .expect("seed account");
    DynamicClientServiceClient::new(ch.clone())
        .create(CreateDynamicClientRequest {
            client: Some(DynamicClient {
                client_id: CLIENT.into(),
                status: "ACTIVE".into(),
                attributes_json: r#"{"client_name":"Bench"}"#.into(),
                scope: vec!["openid".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("seed client");
}

/// The three reads through the service, and the same through a baseline.
#[derive(Clone)]
struct Reads {
    tokens: TokenServiceClient<Channel>,
    accounts: AccountServiceClient<Channel>,
    clients: DynamicClientServiceClient<Channel>,
}

impl Reads {
    fn new(ch: &Channel) -> Self {
        Self {
            tokens: TokenServiceClient::new(ch.clone()),
            accounts: AccountServiceClient::new(ch.clone()),
            clients: DynamicClientServiceClient::new(ch.clone()),
        }
    }
}

fn token_req() -> GetTokenByHashRequest {
    GetTokenByHashRequest {
        token_hash: TOKEN.into(),
    }
}

fn user_req() -> GetAccountByUserNameRequest {
    GetAccountByUserNameRequest {
        tenant: None,
        user_name: USER.into(),
    }
}

fn client_req() -> GetDynamicClientRequest {
    GetDynamicClientRequest {
        client_id: CLIENT.into(),
    }
}

/// Benchmarks the three reads on the service (`service_*`) and on a
/// baseline server (`{base}_*`) in group `group`.
fn three_reads(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    group: &str,
    base: &str,
    service: &Reads,
    baseline: &baseline::Client,
) {
    let mut g = c.benchmark_group(group);
    let (s, b) = (service.clone(), baseline.clone());
    g.bench_function(format!("{base}_get_token_by_hash"), |x| {
        x.to_async(rt).iter(|| {
            let mut b = b.clone();
            async move { b.get_token_by_hash(token_req()).await.expect("baseline") }
        })
    });
    g.bench_function("service_get_token_by_hash", |x| {
        x.to_async(rt).iter(|| {
            let mut t = s.tokens.clone();
            async move { t.get_token_by_hash(token_req()).await.expect("service") }
        })
    });
    g.bench_function(format!("{base}_get_by_user_name"), |x| {
        x.to_async(rt).iter(|| {
            let mut b = b.clone();
            async move { b.get_by_user_name(user_req()).await.expect("baseline") }
        })
    });
    g.bench_function("service_get_by_user_name", |x| {
        x.to_async(rt).iter(|| {
            let mut a = s.accounts.clone();
            async move { a.get_by_user_name(user_req()).await.expect("service") }
        })
    });
    g.bench_function(format!("{base}_get_client"), |x| {
        x.to_async(rt).iter(|| {
            let mut b = b.clone();
            async move { b.get_client(client_req()).await.expect("baseline") }
        })
    });
    g.bench_function("service_get_client", |x| {
        x.to_async(rt).iter(|| {
            let mut d = s.clients.clone();
            async move { d.get(client_req()).await.expect("service") }
        })
    });
    g.finish();
}

fn hot_read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (cached, uncached, ceiling, raw_get) = rt.block_on(async {
        // A minute of TTL: the cached group measures hits, not refreshes.
        let cached = TestApp::start_with(|c| {
            c.cache.tokens.ttl_ms = 60_000;
            c.cache.accounts.ttl_ms = 60_000;
            c.cache.dynamic_clients.ttl_ms = 60_000;
        })
        .await;
        let uncached = TestApp::start_with(|c| c.cache.enabled = false).await;
        seed(&cached.channel).await;
        seed(&uncached.channel).await;
        // The ceiling answers what the service answers.
        let mut r = Reads::new(&cached.channel);
        let ceiling = baseline::Ceiling {
            tokens: HashMap::from([(
                TOKEN.to_string(),
                r.tokens
                    .get_token_by_hash(token_req())
                    .await
                    .expect("t")
                    .into_inner(),
            )]),
            accounts: HashMap::from([(
                USER.to_string(),
                r.accounts
                    .get_by_user_name(user_req())
                    .await
                    .expect("a")
                    .into_inner(),
            )]),
            clients: HashMap::from([(
                CLIENT.to_string(),
                r.clients.get(client_req()).await.expect("c").into_inner(),
            )]),
        };
        let ceiling = baseline::serve(Arc::new(ceiling)).await;
        let raw_get = baseline::serve(baseline::RawGet {
            client: uncached.raw.clone(),
            prefix: uncached.config.dynamodb.table_name_prefix.clone(),
        })
        .await;
        let connect = |addr| async move { baseline::Client::new(support::channel(addr).await) };
        (
            cached,
            uncached,
            connect(ceiling).await,
            connect(raw_get).await,
        )
    });

    three_reads(
        c,
        &rt,
        "cached",
        "ceiling",
        &Reads::new(&cached.channel),
        &ceiling,
    );
    three_reads(
        c,
        &rt,
        "uncached",
        "raw_get",
        &Reads::new(&uncached.channel),
        &raw_get,
    );

    let mut g = c.benchmark_group("uncached");
    let sessions = SessionServiceClient::new(uncached.channel.clone());
    g.bench_function("service_get_session", |b| {
        b.to_async(&rt).iter(|| {
            let mut s = sessions.clone();
            async move {
                s.get_session(GetSessionRequest {
                    id: "bench-session".into(),
                })
                .await
                .expect("get session")
            }
        })
    });
    g.finish();

    // Account create vs a raw transaction of the same three items (main,
    // user name, email), each under fresh keys.
    let template = rt.block_on(async {
        uncached
            .raw
            .scan()
            .table_name(uncached.table("curity-accounts"))
            .send()
            .await
            .expect("scan accounts")
            .items()
            .iter()
            .find(|i| {
                i.get("pk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|p| p.starts_with("ai#"))
            })
            .cloned()
            .expect("an account's main item")
    });
    let n = Arc::new(AtomicU64::new(0));
    let mut g = c.benchmark_group("write");
    let raw = uncached.raw.clone();
    let table = uncached.table("curity-accounts");
    let counter = n.clone();
    g.bench_function("raw_transact_account", |b| {
        b.to_async(&rt).iter(|| {
            let i = counter.fetch_add(1, Ordering::Relaxed);
            let (raw, table, template) = (raw.clone(), table.clone(), template.clone());
            async move {
                let put = |pk: String| {
                    let mut item = template.clone();
                    item.insert("pk".into(), AttributeValue::S(pk));
                    item.insert("userName".into(), AttributeValue::S(format!("raw-{i}")));
                    TransactWriteItem::builder()
                        .put(
                            Put::builder()
                                .table_name(&table)
                                .set_item(Some(item))
                                .condition_expression("attribute_not_exists(pk)")
                                .build()
                                .expect("put"),
                        )
                        .build()
                };
                raw.transact_write_items()
                    .transact_items(put(format!("ai#raw-{i}")))
                    .transact_items(put(format!("un#raw-{i}")))
                    .transact_items(put(format!("em#raw-{i}@x.io")))
                    .send()
                    .await
                    .expect("transact")
            }
        })
    });
    let accounts = AccountServiceClient::new(uncached.channel.clone());
    g.bench_function("service_create_account", |b| {
        b.to_async(&rt).iter(|| {
            let i = n.fetch_add(1, Ordering::Relaxed);
            let mut a = accounts.clone();
            async move {
                a.create(CreateAccountRequest {
                    tenant: None,
                    account: Some(NewAccount {
                        user_name: format!("svc-{i}"),
                        active: true,
                        attributes_json: format!(
                            r#"{{"emails":[{{"value":"svc-{i}@x.io","primary":true}}]}}"#
                        ),
                        ..Default::default()
                    }),
                    password_hash: None,
                })
                .await
                .expect("create")
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("baseline");
    let health = HealthClient::new(uncached.channel.clone());
    g.bench_function("grpc_health_check", |b| {
        b.to_async(&rt).iter(|| {
            let mut h = health.clone();
            async move {
                h.check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .expect("health")
            }
        })
    });
    let raw = uncached.raw.clone();
    let sessions_table = uncached.table("curity-sessions");
    g.bench_function("raw_sdk_get_item", |b| {
        b.to_async(&rt).iter(|| {
            let (raw, t) = (raw.clone(), sessions_table.clone());
            async move {
                raw.get_item()
                    .table_name(t)
                    .key("id", AttributeValue::S("bench-session".into()))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("get item")
            }
        })
    });
    g.finish();
    drop((cached, uncached));
}

criterion_group!(benches, hot_read);
criterion_main!(benches);
