//! The hot read path, each figure next to the baseline it should be read
//! against, all measured in the same run on the same embedded store:
//!
//! - `baseline/grpc_health_check`: a bare tonic round trip (no DynamoDB);
//! - `baseline/raw_sdk_get_item`: the AWS SDK's GetItem straight to the
//!   store (no gRPC, no service code);
//! - `service/get_session`, `service/get_token_by_hash`,
//!   `service/get_account_by_id`, `service/get_account_by_user_name`: the
//!   same kind of read through the service.
//!
//! `service/x - raw_sdk_get_item` is what the service adds on top of
//! DynamoDB; `grpc_health_check` is the part of that which is gRPC itself.
//! Run: `cargo bench --bench hot_read`.

#[path = "../tests/support/mod.rs"]
mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use criterion::{Criterion, criterion_group, criterion_main};
use curity_dynamodb::proto::{
    CreateAccountRequest, CreateTokenRequest, GetAccountByIdRequest, GetAccountByUserNameRequest,
    GetSessionRequest, GetTokenByHashRequest, InsertSessionRequest, NewAccount, Session, Token,
    account_service_client::AccountServiceClient, session_service_client::SessionServiceClient,
    token_service_client::TokenServiceClient,
};
use support::app::TestApp;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

fn hot_read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (app, account_id) = rt.block_on(async {
        let app = TestApp::start().await;
        let mut sessions = SessionServiceClient::new(app.channel.clone());
        sessions
            .insert_session(InsertSessionRequest {
                session: Some(Session {
                    id: "bench-session".into(),
                    data: "x".repeat(512),
                    expires_at: 1_900_000_000,
                }),
            })
            .await
            .expect("seed session");
        TokenServiceClient::new(app.channel.clone())
            .create_token(CreateTokenRequest {
                token: Some(Token {
                    token_hash: "bench-token".into(),
                    status: "issued".into(),
                    audience: vec!["api".into()],
                    ..Default::default()
                }),
            })
            .await
            .expect("seed token");
        let mut accounts = AccountServiceClient::new(app.channel.clone());
        let id = accounts
            .create(CreateAccountRequest {
                tenant: None,
                account: Some(NewAccount {
                    user_name: "bench-user".into(),
                    active: true,
                    attributes: None,
                    ..Default::default()
                }),
                password_hash: None,
            })
            .await
            .expect("seed account")
            .into_inner()
            .account
            .expect("account")
            .id;
        (app, id)
    });

    let mut g = c.benchmark_group("baseline");
    let health = HealthClient::new(app.channel.clone());
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
    let raw = app.raw.clone();
    g.bench_function("raw_sdk_get_item", |b| {
        b.to_async(&rt).iter(|| {
            let raw = raw.clone();
            async move {
                raw.get_item()
                    .table_name("curity-sessions")
                    .key("id", AttributeValue::S("bench-session".into()))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("get item")
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("service");
    let sessions = SessionServiceClient::new(app.channel.clone());
    g.bench_function("get_session", |b| {
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
    let tokens = TokenServiceClient::new(app.channel.clone());
    g.bench_function("get_token_by_hash", |b| {
        b.to_async(&rt).iter(|| {
            let mut t = tokens.clone();
            async move {
                t.get_token_by_hash(GetTokenByHashRequest {
                    token_hash: "bench-token".into(),
                })
                .await
                .expect("get token")
            }
        })
    });
    let accounts = AccountServiceClient::new(app.channel.clone());
    g.bench_function("get_account_by_id", |b| {
        b.to_async(&rt).iter(|| {
            let mut a = accounts.clone();
            let id = account_id.clone();
            async move {
                a.get_by_id(GetAccountByIdRequest { tenant: None, id })
                    .await
                    .expect("get by id")
            }
        })
    });
    g.bench_function("get_account_by_user_name", |b| {
        b.to_async(&rt).iter(|| {
            let mut a = accounts.clone();
            async move {
                a.get_by_user_name(GetAccountByUserNameRequest {
                    tenant: None,
                    user_name: "bench-user".into(),
                })
                .await
                .expect("get by user name")
            }
        })
    });
    g.finish();
    drop(app);
}

criterion_group!(benches, hot_read);
criterion_main!(benches);
