//! Load generator for the hot read path. Start a server, e.g.
//! `cargo run --release -- serve --embedded`, then:
//!
//! ```sh
//! cargo run --release --example load -- --addr 127.0.0.1:50051 \
//!     --rpc get-token-by-hash --keys 10000 --distribution zipfian \
//!     --concurrency 64 --seconds 10
//! ```
//!
//! `--target` picks who answers the same RPCs: `service` (the server at
//! `--addr`), or one of the two baselines this tool serves itself on
//! loopback (`benches/baseline`): `ceiling`, a bare tonic server answering
//! from a `HashMap` (filled with what the service answered for each key),
//! and `raw-get`, a bare tonic server doing one raw `GetItem` per request
//! on the store at `--dynamodb-endpoint` (default: the store of the
//! running `serve --embedded`, through its state file).
//! `--rpc health` and `--rpc raw-get-item` (the SDK's GetItem from this
//! process) are the older baselines. Keys are seeded through the service
//! first (idempotent). Traffic goes only to the addresses given (keep them
//! on loopback); the run stops by itself.

#[path = "../benches/baseline/mod.rs"]
mod baseline;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use clap::{Parser, ValueEnum};
use curity_dynamodb::proto::{
    CreateAccountRequest, CreateDynamicClientRequest, CreateTokenRequest, DynamicClient,
    GetAccountByIdRequest, GetAccountByUserNameRequest, GetDynamicClientRequest, GetSessionRequest,
    GetTokenByHashRequest, InsertSessionRequest, NewAccount, Session, Token,
    account_service_client::AccountServiceClient,
    dynamic_client_service_client::DynamicClientServiceClient,
    session_service_client::SessionServiceClient, token_service_client::TokenServiceClient,
};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Rpc {
    Health,
    RawGetItem,
    GetSession,
    GetTokenByHash,
    GetAccountById,
    GetAccountByUserName,
    GetClient,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    Service,
    Ceiling,
    RawGet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Keys {
    Uniform,
    Zipfian,
}

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    #[arg(long, value_enum, default_value = "get-session")]
    rpc: Rpc,
    #[arg(long, value_enum, default_value = "service")]
    target: Target,
    /// Distinct keys read (each seeded first).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    keys: u64,
    #[arg(long, value_enum, default_value = "uniform")]
    distribution: Keys,
    /// Zipf exponent for `--distribution zipfian`.
    #[arg(long, default_value_t = 1.0)]
    zipf_exponent: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The DynamoDB endpoint for `--rpc raw-get-item` and `--target raw-get`
    /// (default: the store of the running `serve --embedded`, found as
    /// `--embedded` finds it).
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// The data directory of the running `serve --embedded DIR` whose store
    /// the raw baselines read (without it: the in-memory one's).
    #[arg(long, value_name = "DIR")]
    embedded: Option<std::path::PathBuf>,
    /// Table name prefix of the store (for the raw baselines).
    #[arg(long, default_value = "")]
    prefix: String,
    /// gRPC connections the workers share (round robin).
    #[arg(long, default_value_t = 4)]
    connections: usize,
}

fn token(i: u64) -> String {
    format!("load-token-{i}")
}
fn user(i: u64) -> String {
    format!("load-user-{i}")
}
fn client(i: u64) -> String {
    format!("load-client-{i}")
}
fn session(i: u64) -> String {
    format!("load-session-{i}")
}

/// Seeds key `i` of what `rpc` reads (idempotent: "exists" is fine); the
/// account id for `get-account-by-id`.
async fn seed(rpc: Rpc, ch: &Channel, i: u64) -> Result<String, tonic::Status> {
    let ignore_exists = |r: Result<(), tonic::Status>| match r {
        Err(s) if s.code() != tonic::Code::AlreadyExists => Err(s),
        _ => Ok(()),
    };
    match rpc {
        Rpc::Health => {}
        Rpc::GetSession | Rpc::RawGetItem => ignore_exists(
            SessionServiceClient::new(ch.clone())
                .insert_session(InsertSessionRequest {
                    session: Some(Session {
                        id: session(i),
                        data: "x".repeat(512),
                        expires_at: 4_102_444_800,
                    }),
                })
                .await
                .map(|_| ()),
        )?,
        Rpc::GetTokenByHash => ignore_exists(
            TokenServiceClient::new(ch.clone())
                .create_token(CreateTokenRequest {
                    token: Some(Token {
                        token_hash: token(i),
                        status: "issued".into(),
                        audience: vec!["api".into()],
                        ..Default::default()
                    }),
                })
                .await
                .map(|_| ()),
        )?,
        Rpc::GetAccountById | Rpc::GetAccountByUserName => {
            let mut a = AccountServiceClient::new(ch.clone());
            let found = a
                .get_by_user_name(GetAccountByUserNameRequest {
                    tenant: None,
                    user_name: user(i),
                })
                .await?
                .into_inner()
                .account;
            if let Some(acc) = found {
                return Ok(acc.id);
            }
            return Ok(a
                .create(CreateAccountRequest {
                    tenant: None,
                    account: Some(NewAccount {
                        user_name: user(i),
                        active: true,
                        attributes_json: format!(
                            r#"{{"emails":[{{"value":"{}@x.io","primary":true}}]}}"#,
                            user(i)
                        ),
                        ..Default::default()
                    }),
                    password_hash: None,
                })
                .await?
                .into_inner()
                .account
                .map(|a| a.id)
                .unwrap_or_default());
        }
        Rpc::GetClient => ignore_exists(
            DynamicClientServiceClient::new(ch.clone())
                .create(CreateDynamicClientRequest {
                    client: Some(DynamicClient {
                        client_id: client(i),
                        status: "ACTIVE".into(),
                        attributes_json: r#"{"client_name":"Load"}"#.into(),
                        scope: vec!["openid".into()],
                        ..Default::default()
                    }),
                })
                .await
                .map(|_| ()),
        )?,
    }
    Ok(String::new())
}

/// Who answers, and how to reach them.
#[derive(Clone)]
enum To {
    Service(Channel),
    Baseline(baseline::Client),
    Raw(aws_sdk_dynamodb::Client, String),
}

async fn call(rpc: Rpc, to: &To, i: u64, ids: &[String]) -> Result<(), tonic::Status> {
    let index = usize::try_from(i).unwrap_or(0);
    match (rpc, to) {
        (Rpc::RawGetItem, To::Raw(raw, prefix)) => {
            raw.get_item()
                .table_name(format!("{prefix}curity-sessions"))
                .key("id", aws_sdk_dynamodb::types::AttributeValue::S(session(i)))
                .consistent_read(true)
                .send()
                .await
                .map_err(|_| tonic::Status::unavailable("GetItem failed"))?;
        }
        (Rpc::Health, To::Service(ch)) => {
            HealthClient::new(ch.clone())
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await?;
        }
        (Rpc::GetSession, To::Service(ch)) => {
            SessionServiceClient::new(ch.clone())
                .get_session(GetSessionRequest { id: session(i) })
                .await?;
        }
        (Rpc::GetTokenByHash, To::Service(ch)) => {
            TokenServiceClient::new(ch.clone())
                .get_token_by_hash(GetTokenByHashRequest {
                    token_hash: token(i),
                })
                .await?;
        }
        (Rpc::GetTokenByHash, To::Baseline(b)) => {
            b.clone()
                .get_token_by_hash(GetTokenByHashRequest {
                    token_hash: token(i),
                })
                .await?;
        }
        (Rpc::GetAccountById, To::Service(ch)) => {
            AccountServiceClient::new(ch.clone())
                .get_by_id(GetAccountByIdRequest {
                    tenant: None,
                    id: ids.get(index).cloned().unwrap_or_default(),
                })
                .await?;
        }
        (Rpc::GetAccountByUserName, To::Service(ch)) => {
            AccountServiceClient::new(ch.clone())
                .get_by_user_name(GetAccountByUserNameRequest {
                    tenant: None,
                    user_name: user(i),
                })
                .await?;
        }
        (Rpc::GetAccountByUserName, To::Baseline(b)) => {
            b.clone()
                .get_by_user_name(GetAccountByUserNameRequest {
                    tenant: None,
                    user_name: user(i),
                })
                .await?;
        }
        (Rpc::GetClient, To::Service(ch)) => {
            DynamicClientServiceClient::new(ch.clone())
                .get(GetDynamicClientRequest {
                    client_id: client(i),
                })
                .await?;
        }
        (Rpc::GetClient, To::Baseline(b)) => {
            b.clone()
                .get_client(GetDynamicClientRequest {
                    client_id: client(i),
                })
                .await?;
        }
        _ => {
            return Err(tonic::Status::invalid_argument(
                "this --rpc has no such --target",
            ));
        }
    }
    Ok(())
}

/// The ceiling's maps: what the service answers for every key.
async fn ceiling(rpc: Rpc, ch: &Channel, keys: u64) -> anyhow::Result<baseline::Ceiling> {
    let mut c = baseline::Ceiling::default();
    for i in 0..keys {
        match rpc {
            Rpc::GetTokenByHash => {
                let r = TokenServiceClient::new(ch.clone())
                    .get_token_by_hash(GetTokenByHashRequest {
                        token_hash: token(i),
                    })
                    .await?;
                c.tokens.insert(token(i), r.into_inner());
            }
            Rpc::GetAccountByUserName => {
                let r = AccountServiceClient::new(ch.clone())
                    .get_by_user_name(GetAccountByUserNameRequest {
                        tenant: None,
                        user_name: user(i),
                    })
                    .await?;
                c.accounts.insert(user(i), r.into_inner());
            }
            Rpc::GetClient => {
                let r = DynamicClientServiceClient::new(ch.clone())
                    .get(GetDynamicClientRequest {
                        client_id: client(i),
                    })
                    .await?;
                c.clients.insert(client(i), r.into_inner());
            }
            other => anyhow::bail!(
                "--target ceiling serves get-token-by-hash, get-account-by-user-name and get-client, not {other:?}"
            ),
        }
    }
    Ok(c)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn raw_client(endpoint: &str) -> impl Future<Output = aws_sdk_dynamodb::Client> {
    let endpoint = endpoint.to_string();
    async move {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                "load", "load", None, None, "load",
            ))
            .load()
            .await;
        aws_sdk_dynamodb::Client::new(&conf)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = format!("http://{}", args.addr);
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        channels.push(Channel::from_shared(url.clone())?.connect().await?);
    }
    let seeded = if args.rpc == Rpc::Health {
        1
    } else {
        args.keys
    };
    let mut ids = Vec::new();
    for i in 0..seeded {
        ids.push(seed(args.rpc, &channels[0], i).await?);
    }
    let raw = match &args.dynamodb_endpoint {
        Some(url) => Some(raw_client(url).await),
        None if args.rpc == Rpc::RawGetItem || args.target == Target::RawGet => {
            let state =
                curity_dynamodb::local::State::read(args.embedded.as_deref()).map_err(|e| {
                    anyhow::anyhow!(
                        "--rpc raw-get-item and --target raw-get read the store directly: give \
                     --dynamodb-endpoint URL, or run `serve --embedded [DIR]` ({e})"
                    )
                })?;
            Some(raw_client(&state.dynamodb_endpoint).await)
        }
        None => None,
    };
    let mut targets: Vec<To> = Vec::new();
    match (args.rpc, args.target, raw) {
        (Rpc::RawGetItem, _, Some(raw)) => targets.push(To::Raw(raw, args.prefix.clone())),
        (_, Target::Service, _) => targets.extend(channels.iter().cloned().map(To::Service)),
        (_, Target::Ceiling, _) => {
            let c = ceiling(args.rpc, &channels[0], args.keys).await?;
            let addr = baseline::serve(Arc::new(c)).await;
            for _ in 0..args.connections.max(1) {
                let ch = Channel::from_shared(format!("http://{addr}"))?
                    .connect()
                    .await?;
                targets.push(To::Baseline(baseline::Client::new(ch)));
            }
        }
        (_, Target::RawGet, Some(raw)) => {
            let addr = baseline::serve(baseline::RawGet {
                client: raw,
                prefix: args.prefix.clone(),
            })
            .await;
            for _ in 0..args.connections.max(1) {
                let ch = Channel::from_shared(format!("http://{addr}"))?
                    .connect()
                    .await?;
                targets.push(To::Baseline(baseline::Client::new(ch)));
            }
        }
        (_, Target::RawGet, None) => unreachable!("checked above"),
    }
    let zipf = Zipf::new(seeded as f64, args.zipf_exponent)
        .map_err(|e| anyhow::anyhow!("--zipf-exponent: {e}"))?;
    let ids = Arc::new(ids);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency.max(1) {
        let to = targets[w % targets.len()].clone();
        let (rpc, dist, ids) = (args.rpc, args.distribution, ids.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::from_os_rng();
            let mut lat = Vec::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            while Instant::now() < deadline {
                // Zipf gives 1..=n, rank 1 the hottest key.
                let i = match dist {
                    Keys::Uniform => rng.random_range(0..seeded),
                    Keys::Zipfian => (zipf.sample(&mut rng) as u64).saturating_sub(1),
                };
                let t = Instant::now();
                match call(rpc, &to, i, &ids).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(s) => *errors.entry(format!("{:?}", s.code())).or_default() += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors: HashMap<String, u64> = HashMap::new();
    for w in workers {
        let (lat, e) = w.await?;
        all.extend(lat);
        for (code, n) in e {
            *errors.entry(code).or_default() += n;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let total_errors: u64 = errors.values().sum();
    let mut by_code: Vec<_> = errors.into_iter().collect();
    by_code.sort();
    println!(
        "rpc={:?} target={:?} keys={} distribution={:?} concurrency={} seconds={:.1} ok={} errors={} rate={:.0}/s p50={:?} p90={:?} p99={:?} p999={:?} errors_by_code={:?}",
        args.rpc,
        args.target,
        seeded,
        args.distribution,
        args.concurrency,
        elapsed,
        all.len(),
        total_errors,
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
        percentile(&all, 0.999),
        by_code,
    );
    Ok(())
}
