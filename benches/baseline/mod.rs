//! The baseline servers the hot reads are measured against, each a bare
//! tonic server answering with the service's own messages:
//!
//! - [`Ceiling`]: answers from a `HashMap` built before the run, one
//!   clone per request. No cache can beat it: the figure a cached read
//!   approaches.
//! - [`RawGet`]: one consistent `GetItem` per request, on the same store
//!   and tables, mapped to the response by hand (no validation, span,
//!   pool, layout decoding). What an uncached read costs without this
//!   service's code.
//!
//! Shared by `benches/hot_read.rs` and `examples/load.rs`.

// Each includer uses part of it.
#![allow(dead_code)]

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::proto::{
    Account, AccountResponse, DynamicClient, GetAccountByUserNameRequest, GetDynamicClientRequest,
    GetDynamicClientResponse, GetTokenByHashRequest, GetTokenByHashResponse, Token,
};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/bench/curity.bench.v1.rs"));
}

use pb::{
    baseline_client::BaselineClient,
    baseline_server::{Baseline, BaselineServer},
};

pub type Client = BaselineClient<tonic::transport::Channel>;

#[derive(Debug, Default, Clone)]
pub struct Ceiling {
    pub tokens: HashMap<String, GetTokenByHashResponse>,
    pub accounts: HashMap<String, AccountResponse>,
    pub clients: HashMap<String, GetDynamicClientResponse>,
}

fn found<T: Clone>(m: &HashMap<String, T>, k: &str) -> Result<Response<T>, Status> {
    m.get(k)
        .cloned()
        .map(Response::new)
        .ok_or_else(|| Status::not_found("no such key"))
}

#[tonic::async_trait]
impl Baseline for Arc<Ceiling> {
    async fn get_token_by_hash(
        &self,
        r: Request<GetTokenByHashRequest>,
    ) -> Result<Response<GetTokenByHashResponse>, Status> {
        found(&self.tokens, &r.get_ref().token_hash)
    }

    async fn get_by_user_name(
        &self,
        r: Request<GetAccountByUserNameRequest>,
    ) -> Result<Response<AccountResponse>, Status> {
        found(&self.accounts, &r.get_ref().user_name)
    }

    async fn get_client(
        &self,
        r: Request<GetDynamicClientRequest>,
    ) -> Result<Response<GetDynamicClientResponse>, Status> {
        found(&self.clients, &r.get_ref().client_id)
    }
}

/// One raw `GetItem` per request on tables named with `prefix`.
#[derive(Debug, Clone)]
pub struct RawGet {
    pub client: aws_sdk_dynamodb::Client,
    pub prefix: String,
}

fn text(item: &HashMap<String, AttributeValue>, k: &str) -> String {
    item.get(k)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

impl RawGet {
    async fn get(
        &self,
        table: &str,
        key: &str,
        value: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, Status> {
        let out = self
            .client
            .get_item()
            .table_name(format!("{}{table}", self.prefix))
            .key(key, AttributeValue::S(value.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|_| Status::unavailable("GetItem failed"))?;
        Ok(out.item)
    }
}

#[tonic::async_trait]
impl Baseline for RawGet {
    async fn get_token_by_hash(
        &self,
        r: Request<GetTokenByHashRequest>,
    ) -> Result<Response<GetTokenByHashResponse>, Status> {
        let item = self
            .get("curity-tokens", "tokenHash", &r.get_ref().token_hash)
            .await?;
        Ok(Response::new(GetTokenByHashResponse::new(item.map(|i| {
            Token {
                token_hash: text(&i, "tokenHash"),
                status: text(&i, "status"),
                ..Default::default()
            }
        }))))
    }

    async fn get_by_user_name(
        &self,
        r: Request<GetAccountByUserNameRequest>,
    ) -> Result<Response<AccountResponse>, Status> {
        let pk = format!("un#{}", r.get_ref().user_name);
        let item = self.get("curity-accounts", "pk", &pk).await?;
        Ok(Response::new(AccountResponse::new(item.map(|i| Account {
            id: text(&i, "accountId"),
            user_name: text(&i, "userName"),
            active: i.get("active").and_then(|v| v.as_bool().ok()) == Some(&true),
            attributes_json: text(&i, "attributes"),
            ..Default::default()
        }))))
    }

    async fn get_client(
        &self,
        r: Request<GetDynamicClientRequest>,
    ) -> Result<Response<GetDynamicClientResponse>, Status> {
        let item = self
            .get("curity-dynamic-clients", "clientId", &r.get_ref().client_id)
            .await?;
        Ok(Response::new(GetDynamicClientResponse::new(item.map(
            |i| DynamicClient {
                client_id: text(&i, "clientId"),
                status: text(&i, "status"),
                attributes_json: text(&i, "attributes"),
                ..Default::default()
            },
        ))))
    }
}

/// Serves `svc` on a free loopback port until the runtime ends.
pub async fn serve<S: Baseline>(svc: S) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind baseline");
    let addr = listener.local_addr().expect("baseline addr");
    // As the service's own listener: no Nagle delay on small replies.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(BaselineServer::new(svc))
            .serve_with_incoming(incoming),
    );
    addr
}
