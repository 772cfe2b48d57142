//! Load generator for the hot read path. Start a server, e.g.
//! `cargo run --release -- serve --embedded`, then:
//!
//! ```sh
//! cargo run --release --example load -- --addr 127.0.0.1:50051 \
//!     --rpc get-session --concurrency 32 --seconds 10
//! ```
//!
//! Baselines measured the same way: `--rpc health`, the bare gRPC round trip
//! on the same server, and `--rpc raw-get-item --dynamodb-endpoint URL`,
//! the AWS SDK's GetItem straight to the store the server uses (`serve
//! --embedded` logs its endpoint). Traffic goes only to the
//! address given (keep it on loopback); the run stops by itself.

use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use curity_dynamodb::proto::{
    CreateAccountRequest, CreateTokenRequest, GetAccountByIdRequest, GetAccountByUserNameRequest,
    GetSessionRequest, GetTokenByHashRequest, InsertSessionRequest, NewAccount, Session, Token,
    account_service_client::AccountServiceClient, session_service_client::SessionServiceClient,
    token_service_client::TokenServiceClient,
};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Rpc {
    Health,
    RawGetItem,
    GetSession,
    GetTokenByHash,
    GetAccountById,
    GetAccountByUserName,
}

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    #[arg(long, value_enum, default_value = "get-session")]
    rpc: Rpc,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The DynamoDB endpoint for `--rpc raw-get-item`.
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// gRPC connections the workers share (round robin).
    #[arg(long, default_value_t = 4)]
    connections: usize,
}

const SESSION_ID: &str = "load-session";
const USER_NAME: &str = "load-user";
const TOKEN_HASH: &str = "load-token";

async fn seed(ch: &Channel) -> Result<String, tonic::Status> {
    let mut s = SessionServiceClient::new(ch.clone());
    let _ = s
        .insert_session(InsertSessionRequest {
            session: Some(Session {
                id: SESSION_ID.into(),
                data: "x".repeat(512),
                expires_at: 4_102_444_800,
            }),
        })
        .await;
    let _ = TokenServiceClient::new(ch.clone())
        .create_token(CreateTokenRequest {
            token: Some(Token {
                token_hash: TOKEN_HASH.into(),
                status: "issued".into(),
                audience: vec!["api".into()],
                ..Default::default()
            }),
        })
        .await;
    let mut a = AccountServiceClient::new(ch.clone());
    if let Some(acc) = a
        .get_by_user_name(GetAccountByUserNameRequest {
            tenant: None,
            user_name: USER_NAME.into(),
        })
        .await?
        .into_inner()
        .account
    {
        return Ok(acc.id);
    }
    Ok(a.create(CreateAccountRequest {
        tenant: None,
        account: Some(NewAccount {
            user_name: USER_NAME.into(),
            active: true,
            attributes: None,
            ..Default::default()
        }),
        password_hash: None,
    })
    .await?
    .into_inner()
    .account
    .map(|a| a.id)
    .unwrap_or_default())
}

async fn call(
    rpc: Rpc,
    ch: &Channel,
    raw: Option<&aws_sdk_dynamodb::Client>,
    account_id: &str,
) -> Result<(), tonic::Status> {
    match rpc {
        Rpc::RawGetItem => {
            let Some(raw) = raw else {
                return Err(tonic::Status::invalid_argument("--dynamodb-endpoint"));
            };
            raw.get_item()
                .table_name("curity-sessions")
                .key(
                    "id",
                    aws_sdk_dynamodb::types::AttributeValue::S(SESSION_ID.into()),
                )
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        }
        Rpc::Health => {
            HealthClient::new(ch.clone())
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await?;
        }
        Rpc::GetSession => {
            SessionServiceClient::new(ch.clone())
                .get_session(GetSessionRequest {
                    id: SESSION_ID.into(),
                })
                .await?;
        }
        Rpc::GetTokenByHash => {
            TokenServiceClient::new(ch.clone())
                .get_token_by_hash(GetTokenByHashRequest {
                    token_hash: TOKEN_HASH.into(),
                })
                .await?;
        }
        Rpc::GetAccountById => {
            AccountServiceClient::new(ch.clone())
                .get_by_id(GetAccountByIdRequest {
                    tenant: None,
                    id: account_id.to_string(),
                })
                .await?;
        }
        Rpc::GetAccountByUserName => {
            AccountServiceClient::new(ch.clone())
                .get_by_user_name(GetAccountByUserNameRequest {
                    tenant: None,
                    user_name: USER_NAME.into(),
                })
                .await?;
        }
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = format!("http://{}", args.addr);
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        channels.push(Channel::from_shared(url.clone())?.connect().await?);
    }
    let account_id = seed(&channels[0]).await?;
    let raw = match &args.dynamodb_endpoint {
        Some(url) => {
            let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_types::region::Region::new("us-east-1"))
                .endpoint_url(url)
                .credentials_provider(aws_credential_types::Credentials::new(
                    "load", "load", None, None, "load",
                ))
                .load()
                .await;
            Some(aws_sdk_dynamodb::Client::new(&conf))
        }
        None if matches!(args.rpc, Rpc::RawGetItem) => {
            anyhow::bail!("--rpc raw-get-item needs --dynamodb-endpoint")
        }
        None => None,
    };
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency.max(1) {
        let ch = channels[w % channels.len()].clone();
        let id = account_id.clone();
        let rpc = args.rpc;
        let raw = raw.clone();
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match call(rpc, &ch, raw.as_ref(), &id).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (lat, e) = w.await?;
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    println!(
        "rpc={:?} concurrency={} seconds={:.1} ok={} errors={} rate={:.0}/s p50={:?} p90={:?} p99={:?}",
        args.rpc,
        args.concurrency,
        elapsed,
        all.len(),
        errors,
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
    );
    Ok(())
}
