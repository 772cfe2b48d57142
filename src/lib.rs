//! curity-dynamodb: a gRPC data source for the Curity Identity Server,
//! storing identity data in DynamoDB in the layout of Curity's own
//! DynamoDB plugin.
// Input and the network must never panic the service: no unwrap/expect
// outside tests (integration tests and benches may).
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod app;
pub mod auth;
pub mod aws;
pub mod cache;
pub mod config;
pub mod doctor;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod error;
pub mod json_ds;
pub mod jwt;
pub mod local;
pub mod proto;
pub mod rendered;
pub mod schema;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod transfer;
pub mod unproven;
