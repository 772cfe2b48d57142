//! Shared harness for the integration tests: the real binary with a clean
//! environment, an embedded Dynoxide per test, MiniStack with real IAM, a
//! fake IMDSv2 endpoint, and in-process servers.
#![allow(dead_code)]

pub mod app;
pub mod fixtures;
pub mod http;
pub mod imds;
pub mod ministack;
pub mod pki;
pub mod proxy;
pub mod read;
pub mod rpcs;
pub mod service;

use std::time::Duration;

use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

pub const REGION: &str = "us-east-1";

/// A loopback port free right now (for a listener the test configures).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Connects a gRPC channel to `addr`, retrying while the server starts.
pub async fn channel(addr: std::net::SocketAddr) -> Channel {
    let url = format!("http://{addr}");
    for _ in 0..100 {
        if let Ok(ch) = Channel::from_shared(url.clone())
            .expect("valid uri")
            .connect()
            .await
        {
            return ch;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no gRPC server at {url}");
}

/// The overall health status ("" service), or None when the call fails.
pub async fn health(ch: &Channel) -> Option<ServingStatus> {
    let mut client = HealthClient::new(ch.clone());
    let resp = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .ok()?;
    Some(resp.into_inner().status())
}

/// Waits until health is SERVING; false after `timeout`.
pub async fn wait_serving(ch: &Channel, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if health(ch).await == Some(ServingStatus::Serving) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A kB figure of a process's `/proc/<pid>/status`: `VmRSS` (resident
/// memory now), `VmHWM` (its peak).
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// A gRPC call's message, or the test fails naming the call and the status
/// (what `.expect(what).into_inner()` says, in one step).
pub trait Answer<T> {
    fn answer(self, what: &str) -> T;
}

impl<T> Answer<T> for Result<tonic::Response<T>, tonic::Status> {
    #[track_caller]
    fn answer(self, what: &str) -> T {
        match self {
            Ok(reply) => reply.into_inner(),
            Err(status) => panic!("{what}: {status:?}"),
        }
    }
}

/// The status of a call that must fail with `code`, or the test fails
/// naming the call.
pub trait Refused {
    fn refused(self, code: tonic::Code, what: &str) -> tonic::Status;
}

impl<T> Refused for Result<T, tonic::Status> {
    #[track_caller]
    fn refused(self, code: tonic::Code, what: &str) -> tonic::Status {
        match self {
            Ok(_) => panic!("{what}: answered, not refused with {code:?}"),
            Err(status) => {
                assert_eq!(status.code(), code, "{what}: {status:?}");
                status
            }
        }
    }
}
