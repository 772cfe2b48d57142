//! Hostile connections cannot lock Curity out: with 2000 connections per
//! port that never send a byte or stop half way through their headers
//! (opened without credentials), an authenticated call on the gRPC port
//! and an authenticated request on the JSON port are answered, and the
//! service's memory and file descriptors stay bounded. Plaintext and TLS.

use crate::support;

use std::{net::SocketAddr, time::Duration};

use curity_dynamodb::proto::{GetSessionRequest, session_service_client::SessionServiceClient};
use support::{
    pki::{Ca, connect, json_status_with, write},
    service::{Env, Service},
};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tonic::{Request, transport::Channel};

const HOSTILE: usize = 2000;
const TOKEN: &str = "grpc-bearer-token-0123456789abcdef";
const BASIC: &str = "json-basic-password-0123456789abcdef";

fn basic() -> String {
    support::http::basic("curity", BASIC)
}

/// `n` connections to `addr`: half silent, half stopping inside their
/// request head (an HTTP/1.1 request line, or half an HTTP/2 preface).
async fn hostile(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let Ok(mut tcp) = TcpStream::connect(addr).await else {
            continue;
        };
        if i % 2 == 1 {
            let _ = tcp
                .write_all(b"POST /json-ds/credentials HTTP/1.1\r\nHost: x\r\n")
                .await;
        }
        held.push(tcp);
    }
    held
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    support::proc_status_kib(pid, "VmRSS")
}

async fn grpc_call(ch: Channel) -> Result<(), tonic::Status> {
    let mut req = Request::new(GetSessionRequest { id: "s".into() });
    req.metadata_mut()
        .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    req.set_timeout(Duration::from_secs(10));
    SessionServiceClient::new(ch)
        .get_session(req)
        .await
        .map(|_| ())
}

/// Starts the service with both ports, `extra` config appended.
async fn start(env: &Env, extra: &str) -> (Service, SocketAddr) {
    let token = env.write("token", TOKEN);
    let basic_file = env.write("basic", BASIC);
    let cfg = env.config(&format!(
        "[server.auth]\nbearer_token_file = {:?}\n\n[json_ds]\nlisten = \"127.0.0.1:0\"\n\n\
             [json_ds.auth]\nbasic_username = \"curity\"\nbasic_password_file = {:?}\n{extra}",
        token.display().to_string(),
        basic_file.display().to_string(),
    ));
    let svc = Service::start(env, &cfg, &["--embedded"]).await;
    let json = svc.events("serving Curity's JSON data source protocol")[0]["fields"]["listen"]
        .as_str()
        .expect("json listen")
        .parse()
        .expect("addr");
    (svc, json)
}

fn assert_bounded(svc: &Service, label: &str) {
    let fds = open_fds(svc.pid());
    let rss = rss_kib(svc.pid()) / 1024;
    // Past the caps (256 unproven per port, 256 handshakes) the oldest
    // connections are closed: far fewer descriptors than the 4000 opened.
    assert!(fds < 1500, "{label}: {fds} open descriptors");
    assert!(rss < 200, "{label}: RSS {rss} MiB");
    println!("{label}: {fds} descriptors, RSS {rss} MiB");
}

#[tokio::test]
async fn idle_and_slow_strangers_cannot_lock_curity_out_of_either_plaintext_port() {
    let env = Env::new();
    let (mut svc, json) = start(&env, "").await;
    let grpc_hostile = hostile(svc.addr, HOSTILE).await;
    let json_hostile = hostile(json, HOSTILE).await;

    let started = std::time::Instant::now();
    let ch = support::channel(svc.addr).await;
    grpc_call(ch)
        .await
        .expect("an authenticated gRPC call is answered");
    let grpc_latency = started.elapsed();

    let started = std::time::Instant::now();
    let auth = basic();
    let reply = support::http::send(
        json,
        "GET",
        "/json-ds/attributes/nobody",
        &[("Authorization", auth.as_str())],
        b"",
    )
    .await;
    let json_latency = started.elapsed();
    assert!(reply.status < 500, "{reply:?}");
    assert_bounded(&svc, "plaintext");
    println!(
        "with {HOSTILE} hostile connections per port: gRPC {grpc_latency:?}, JSON {json_latency:?}"
    );
    // Gone before the shutdown, whose drain waits for open connections.
    drop((grpc_hostile, json_hostile));
    assert!(svc.terminate().await.success());
}

#[tokio::test]
async fn idle_and_slow_strangers_cannot_lock_curity_out_of_either_tls_port() {
    let env = Env::new();
    let ca = Ca::new("ca");
    let (cert, key) = ca.leaf(&["localhost"], false);
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "tls.crt", &cert).display().to_string();
    let key = write(dir.path(), "tls.key", &key).display().to_string();
    let (mut svc, json) = start(
        &env,
        &format!(
            "\n[json_ds.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n\n\
             [server.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n"
        ),
    )
    .await;
    let grpc_hostile = hostile(svc.addr, HOSTILE).await;
    let json_hostile = hostile(json, HOSTILE).await;

    let started = std::time::Instant::now();
    let ch = connect(svc.addr, &ca.pem(), None).await.expect("connect");
    grpc_call(ch)
        .await
        .expect("an authenticated gRPC call over TLS is answered");
    let grpc_latency = started.elapsed();

    let started = std::time::Instant::now();
    let auth = basic();
    let status = json_status_with(json, &ca.pem(), None, &[("Authorization", auth.as_str())])
        .await
        .expect("an authenticated JSON request over TLS is answered");
    let json_latency = started.elapsed();
    assert!(status < 500, "{status}");
    assert_bounded(&svc, "tls");
    println!(
        "with {HOSTILE} hostile connections per TLS port: gRPC {grpc_latency:?}, JSON {json_latency:?}"
    );
    drop((grpc_hostile, json_hostile));
    assert!(svc.terminate().await.success());
}
