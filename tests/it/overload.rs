//! At twice its concurrency limit the service answers every call, with a
//! result or a retryable RESOURCE_EXHAUSTED, within the caller's deadline,
//! and its memory stays bounded.

use crate::support;

use std::time::Duration;

use curity_dynamodb::{
    api::status::detail,
    proto::{
        CountAccountsRequest, CreateAccountRequest, NewAccount,
        account_service_client::AccountServiceClient, error_detail::Reason,
    },
};
use support::service::{Env, Service};
use tonic::{Code, Request};

const LIMIT: usize = 8;
const CALLERS: usize = 2 * LIMIT;

/// Peak resident memory of a process, from `/proc/<pid>/status`.
fn peak_rss_kib(pid: u32) -> u64 {
    support::proc_status_kib(pid, "VmHWM")
}

#[tokio::test]
async fn at_twice_the_limit_every_call_is_answered_and_memory_stays_bounded() {
    let env = Env::new();
    let cfg = env.config(&format!(
        "[server]\nmax_concurrent_requests = {LIMIT}\n[dynamodb]\nallow_table_scans = true\n"
    ));
    let mut svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(30)).await);
    let mut client = AccountServiceClient::new(ch.clone());
    for i in 0..200 {
        client
            .create(CreateAccountRequest {
                tenant: None,
                account: Some(NewAccount {
                    user_name: format!("user-{i:03}"),
                    active: true,
                    ..Default::default()
                }),
                password_hash: None,
            })
            .await
            .expect("seed");
    }

    // Each caller counts with a scan (the heaviest read) in a loop.
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let mut client = AccountServiceClient::new(ch.clone());
            tokio::spawn(async move {
                let (mut ok, mut shed) = (0u32, 0u32);
                while tokio::time::Instant::now() < until {
                    let mut req = Request::new(CountAccountsRequest {
                        tenant: None,
                        filter: "active eq true".into(),
                    });
                    req.set_timeout(Duration::from_secs(10));
                    match client.count(req).await {
                        Ok(r) => {
                            assert_eq!(r.into_inner().count, 200);
                            ok += 1;
                        }
                        Err(s) if s.code() == Code::ResourceExhausted => {
                            let d = detail(&s).expect("detail");
                            assert!(d.retryable);
                            assert_eq!(d.reason(), Reason::Overloaded);
                            shed += 1;
                        }
                        Err(s) => panic!("neither a result nor shed: {s:?}"),
                    }
                }
                (ok, shed)
            })
        })
        .collect();
    let (mut ok, mut shed) = (0, 0);
    for c in callers {
        let (o, s) = c.await.expect("caller");
        ok += o;
        shed += s;
    }
    assert!(ok > 0, "nothing served");
    assert!(
        shed > 0,
        "{CALLERS} callers never exceeded a limit of {LIMIT}: not an overload"
    );
    let peak = peak_rss_kib(svc.pid());
    assert!(
        peak < 200 * 1024,
        "peak RSS {} MiB (the chart's limit is 256 MiB)",
        peak / 1024
    );
    assert_eq!(
        support::health(&ch).await,
        Some(tonic_health::pb::health_check_response::ServingStatus::Serving)
    );
    assert!(svc.terminate().await.success());
    println!("served {ok}, shed {shed}, peak RSS {} MiB", peak / 1024);
}

/// The defaults agree with each other: at twice `max_concurrent_requests`
/// (512) in flight, more requests are admitted than the client pool (64)
/// serves within its wait, and those are shed as RESOURCE_EXHAUSTED too,
/// never as UNAVAILABLE (which a caller reads as "DynamoDB is down").
#[tokio::test]
async fn at_the_defaults_twice_the_limit_in_flight_yields_only_results_and_resource_exhausted() {
    const IN_FLIGHT: usize = 1024;
    let env = Env::new();
    let cfg = env.config("[dynamodb]\nallow_table_scans = true\n");
    let mut svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(30)).await);
    let mut client = AccountServiceClient::new(ch.clone());
    for i in 0..300 {
        client
            .create(CreateAccountRequest {
                tenant: None,
                account: Some(NewAccount {
                    user_name: format!("user-{i:03}"),
                    active: true,
                    ..Default::default()
                }),
                password_hash: None,
            })
            .await
            .expect("seed");
    }
    // Enough connections that the streams per connection never limit.
    let mut channels = Vec::new();
    for _ in 0..16 {
        channels.push(support::channel(svc.addr).await);
    }
    let until = tokio::time::Instant::now() + Duration::from_secs(6);
    let callers: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let mut client = AccountServiceClient::new(channels[i % channels.len()].clone());
            tokio::spawn(async move {
                let (mut ok, mut shed) = (0u32, 0u32);
                while tokio::time::Instant::now() < until {
                    let mut req = Request::new(CountAccountsRequest {
                        tenant: None,
                        filter: "active eq true".into(),
                    });
                    req.set_timeout(Duration::from_secs(30));
                    match client.count(req).await {
                        Ok(_) => ok += 1,
                        Err(s) if s.code() == Code::ResourceExhausted => {
                            let d = detail(&s).expect("detail");
                            assert!(d.retryable, "{s:?}");
                            assert_eq!(d.reason(), Reason::Overloaded, "{s:?}");
                            shed += 1;
                        }
                        Err(s) => panic!("neither a result nor RESOURCE_EXHAUSTED: {s:?}"),
                    }
                }
                (ok, shed)
            })
        })
        .collect();
    let (mut ok, mut shed) = (0, 0);
    for c in callers {
        let (o, s) = c.await.expect("caller");
        ok += o;
        shed += s;
    }
    assert!(ok > 0, "nothing served");
    assert!(shed > 0, "{IN_FLIGHT} in flight was not an overload");
    assert!(svc.terminate().await.success());
    println!("defaults: served {ok}, shed {shed}");
}
