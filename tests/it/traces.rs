//! Distributed traces, received by an in-process OTLP collector: the RPC
//! span is the child of the caller's `traceparent`, the AWS SDK's call is
//! the child of the RPC span, the JSON port's request span joins the
//! caller's trace too; no request payload or secret is in any span. With
//! a dead collector requests still succeed and the export queue stays at
//! its cap (the spans beyond it are dropped and counted).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use curity_dynamodb::proto::{self, session_service_client::SessionServiceClient};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value,
    trace::v1::Span,
};
use tonic::{Request, Response, Status};

use crate::support::{
    self,
    rpcs::SECRETS,
    service::{Env, Service},
};

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl Collector {
    /// Listens on a free loopback port; its `http://` endpoint.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind collector");
        let addr = listener.local_addr().expect("addr");
        let service = TraceServiceServer::new(self.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        format!("http://{addr}")
    }

    fn spans(&self) -> Vec<Span> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| s.spans.clone())
            .collect()
    }

    /// Waits until a span satisfies `want`; every span received by then.
    async fn wait_for(&self, want: impl Fn(&Span) -> bool) -> Vec<Span> {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let spans = self.spans();
            if spans.iter().any(&want) || std::time::Instant::now() > deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.clone()),
            Some(other) => Some(format!("{other:?}")),
            None => None,
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn the_callers_trace_is_the_parent_of_the_rpc_and_the_sdk_call_its_child() {
    let collector = Collector::default();
    let endpoint = collector.start().await;
    let json_port = support::free_port();
    let mut env = Env::new();
    env.set("OTEL_BSP_SCHEDULE_DELAY", "50");
    let cfg = env.config(&format!(
        "[telemetry]\notlp_endpoint = \"{endpoint}\"\nservice_name = \"dynamo-test\"\n\n\
             [json_ds]\nlisten = \"127.0.0.1:{json_port}\"\n"
    ));
    let svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(30)).await);

    let traceparent = format!("00-{TRACE}-{PARENT}-01");
    let mut insert = Request::new(proto::InsertSessionRequest {
        session: Some(proto::Session {
            id: "traced".into(),
            data: SECRETS[1].into(),
            expires_at: 4_102_444_800,
        }),
    });
    insert
        .metadata_mut()
        .insert("traceparent", traceparent.parse().expect("header"));
    SessionServiceClient::new(ch)
        .insert_session(insert)
        .await
        .expect("insert");
    let reply = support::http::send(
        ([127, 0, 0, 1], json_port).into(),
        "GET",
        "/no-such-route",
        &[("traceparent", &traceparent)],
        b"",
    )
    .await;
    assert_eq!(reply.status, 404);

    let spans = collector
        .wait_for(|s| s.name == "json_ds" && hex(&s.trace_id) == TRACE)
        .await;
    let rpc = spans
        .iter()
        .find(|s| s.name == "rpc" && attr(s, "method").as_deref() == Some("InsertSession"))
        .unwrap_or_else(|| panic!("no rpc span among {spans:#?}"));
    assert_eq!(hex(&rpc.trace_id), TRACE, "the caller's trace");
    assert_eq!(
        hex(&rpc.parent_span_id),
        PARENT,
        "the caller's span is the parent"
    );
    assert_eq!(attr(rpc, "table").as_deref(), Some("curity-sessions"));
    assert_eq!(attr(rpc, "outcome").as_deref(), Some("ok"));
    let sdk = spans
        .iter()
        .find(|s| s.name == "DynamoDB.PutItem" && s.parent_span_id == rpc.span_id)
        .unwrap_or_else(|| {
            let names: Vec<_> = spans
                .iter()
                .map(|s| (&s.name, hex(&s.parent_span_id)))
                .collect();
            panic!(
                "no SDK span under the rpc span {} among {names:?}",
                hex(&rpc.span_id)
            )
        });
    assert_eq!(hex(&sdk.trace_id), TRACE);
    assert_eq!(attr(sdk, "rpc.method").as_deref(), Some("PutItem"));
    let json = spans
        .iter()
        .find(|s| s.name == "json_ds")
        .expect("json_ds span");
    assert_eq!(hex(&json.parent_span_id), PARENT);

    let received = format!("{:?}", collector.0.lock().unwrap());
    assert!(received.contains("dynamo-test"), "service.name");
    for secret in SECRETS {
        assert!(!received.contains(secret), "{secret} reached the collector");
    }
    assert!(
        !received.contains("traced"),
        "the session id (a request field) is not exported"
    );
}

#[tokio::test]
async fn with_a_dead_collector_requests_succeed_and_the_export_queue_stays_capped() {
    let dead = format!("http://127.0.0.1:{}", support::free_port());
    let mut env = Env::new();
    env.set(
        "RUST_LOG",
        "warn,curity_dynamodb=info,opentelemetry_sdk=warn",
    );
    let cfg = env.config(&format!(
        "[telemetry]\notlp_endpoint = \"{dead}\"\nexport_queue_size = 16\n"
    ));
    let mut svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, Duration::from_secs(30)).await);
    let mut sessions = SessionServiceClient::new(ch);
    for i in 0..200 {
        let call = sessions.get_session(proto::GetSessionRequest {
            id: format!("s{i}"),
        });
        tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("a call is not held by the exporter")
            .expect("get_session");
    }
    assert!(svc.terminate().await.success());
    let dropped = svc
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["name"] == "BatchSpanProcessor.SpansDropped")
        .unwrap_or_else(|| panic!("no drop count at shutdown:\n{}", svc.logs().join("\n")));
    let count = dropped["fields"]["dropped_span_count"]
        .as_u64()
        .expect("count");
    // 200 RPC spans and their SDK spans, at most 16 waiting at a time: the
    // rest were dropped, not queued.
    assert_eq!(dropped["fields"]["max_queue_size"], 16, "{dropped}");
    assert!(count >= 100, "{dropped}");
}
