//! The audit trail: every write RPC that reaches its handler leaves exactly
//! one event on target `audit`, whatever `RUST_LOG` says, naming the caller
//! without its credential and secret keys only by fingerprint.

use std::collections::BTreeMap;

use curity_dynamodb::proto::{DeleteSessionRequest, session_service_client::SessionServiceClient};
use sha2::{Digest, Sha256};
use tonic::Request;

use crate::support::{
    self,
    rpcs::{SECRETS, every_rpc},
    service::{Env, Service},
};

/// The audit events among the lines of a log or audit file.
fn audit_events(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "audit")
        .collect()
}

/// Reads and writes by their names: a method that is not a read writes.
fn is_write(method: &str) -> bool {
    !["Get", "List", "Count", "Resolve"]
        .iter()
        .any(|p| method.starts_with(p))
}

/// `Service/Method` → calls counted by `curity_dynamodb_rpc_seconds`.
fn calls(metrics: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("curity_dynamodb_rpc_seconds_count{") else {
            continue;
        };
        let (labels, n) = rest.split_once("} ").expect("sample");
        let label = |k: &str| {
            labels
                .split(',')
                .find_map(|p| p.strip_prefix(&format!("{k}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .expect("label")
        };
        *out.entry(format!("{}/{}", label("service"), label("method")))
            .or_default() += n.parse::<u64>().expect("count");
    }
    out
}

#[tokio::test]
async fn every_write_rpc_leaves_exactly_one_audit_event_and_no_read_does() {
    let port = support::free_port();
    let mut env = Env::new();
    // The trail does not follow the log's filter (which lets through only
    // what `Service::start` waits for).
    env.set("RUST_LOG", "warn,curity_dynamodb=info");
    let cfg = env.config(&format!(
        "[server]\nmetrics_listen = \"127.0.0.1:{port}\"\n\n\
             [dynamodb]\nallow_table_scans = true\n"
    ));
    let svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, std::time::Duration::from_secs(30)).await);
    every_rpc(ch, "acme").await;
    let calls = calls(&support::http::metrics(port).await);
    let events = audit_events(&svc.logs());

    let mut audited: BTreeMap<String, u64> = BTreeMap::new();
    for e in &events {
        *audited
            .entry(e["rpc"].as_str().expect("rpc").to_string())
            .or_default() += 1;
        assert_eq!(e["caller"], "anonymous", "loopback without auth: {e}");
        assert_eq!(e["level"], "INFO");
        assert!(
            e["timestamp"].is_string() && e["outcome"].is_string(),
            "{e}"
        );
        assert!(!e["key"].as_str().expect("key").is_empty(), "{e}");
        assert!(
            e["table"].as_str().expect("table").starts_with("curity-"),
            "{e}"
        );
    }
    let writes: BTreeMap<String, u64> = calls
        .iter()
        .filter(|(rpc, _)| is_write(rpc.split('/').nth(1).expect("method")))
        .map(|(rpc, n)| (rpc.clone(), *n))
        .collect();
    assert!(writes.len() >= 30, "every_rpc wrote through {writes:?}");
    assert_eq!(
        audited, writes,
        "audit events per RPC vs calls per write RPC"
    );
    // Tenants are recorded where the data type has them.
    assert!(events.iter().any(|e| e["tenant"] == "acme"));
    for secret in SECRETS {
        let hits: Vec<_> = events
            .iter()
            .filter(|e| e.to_string().contains(secret))
            .collect();
        assert!(hits.is_empty(), "{secret:?} in the audit trail: {hits:#?}");
    }
}

#[tokio::test]
async fn the_audit_file_names_the_bearer_caller_by_fingerprint_and_carries_the_trace_id() {
    const TOKEN: &str = "AUDITBEARERMARKER-0123456789";
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let env = Env::new();
    let token = env.write("token", TOKEN);
    let trail = env.home.path().join("audit.jsonl");
    let cfg = env.config(&format!(
        "[server]\naudit_file = {:?}\n\n[server.auth]\nbearer_token_file = {:?}\n",
        trail.display().to_string(),
        token.display().to_string()
    ));
    let svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, std::time::Duration::from_secs(30)).await);
    let mut req = Request::new(DeleteSessionRequest {
        id: "SESSIONIDMARKER".into(),
    });
    let md = req.metadata_mut();
    md.insert(
        "authorization",
        format!("Bearer {TOKEN}").parse().expect("header"),
    );
    md.insert(
        "traceparent",
        format!("00-{TRACE}-00f067aa0ba902b7-01")
            .parse()
            .expect("header"),
    );
    SessionServiceClient::new(ch)
        .delete_session(req)
        .await
        .expect("delete session");

    let lines: Vec<String> = std::fs::read_to_string(&trail)
        .expect("audit file")
        .lines()
        .map(str::to_owned)
        .collect();
    let events = audit_events(&lines);
    assert_eq!(events.len(), 1, "{lines:#?}");
    let e = &events[0];
    let digest = Sha256::digest(TOKEN.as_bytes());
    let fingerprint: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(e["caller"], format!("bearer:{fingerprint}"));
    assert_eq!(e["rpc"], "SessionService/DeleteSession");
    assert_eq!(e["outcome"], "ok");
    assert_eq!(e["trace_id"], TRACE);
    assert!(e["key"].as_str().expect("key").starts_with("sha256:"));
    for secret in [TOKEN, "SESSIONIDMARKER"] {
        assert!(
            !lines.iter().any(|l| l.contains(secret)),
            "{secret} in {lines:#?}"
        );
    }
    // The trail went to its file, not to the log.
    assert!(audit_events(&svc.logs()).is_empty());
}
