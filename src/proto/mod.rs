//! Generated protobuf types and gRPC stubs (`proto/curity/datasource/v1`),
//! with the hot reads' responses as our own types (`wire`).

pub mod wire;

pub use generated::*;
pub use wire::{AccountResponse, GetDynamicClientResponse, GetTokenByHashResponse};

/// Encoded descriptors of every message and service, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

/// What prost and tonic generate, apart so their lint exceptions stay
/// theirs.
mod generated {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("curity.datasource.v1");
}
