//! The glue every RPC shares: which proto method a call addresses (taken
//! from the request path, checked against the compiled descriptors), which
//! tenant it acts for, and [`rpc`], which runs the work inside a span and
//! turns a `StoreError` into a status.

use std::{
    future::Future,
    sync::{Arc, OnceLock},
    time::Instant,
};

use tokio::sync::Semaphore;

use prost::Message;
use tonic::{Request, Response, Status, codegen::http};
use tracing::{Instrument, field::Empty};

use super::status;
use crate::{
    proto::{self, FILE_DESCRIPTOR_SET},
    store::{StoreError, keys::Tenant},
};

/// A proto method (`AccountService`, `GetById`), as it labels spans and
/// metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcMethod {
    pub service: &'static str,
    pub method: &'static str,
    /// Its place in [`methods`], for its pre-registered metric.
    index: usize,
}

impl RpcMethod {
    /// A call that did not pass through [`label`] (never in `serve`).
    const UNKNOWN: Self = Self {
        service: "unknown",
        method: "unknown",
        index: usize::MAX,
    };
}

struct Entry {
    /// `/curity.datasource.v1.AccountService/GetById`
    path: String,
    /// `curity.datasource.v1.AccountService`
    #[cfg_attr(not(test), allow(dead_code))]
    full_service: String,
    service: String,
    method: String,
    /// `curity_dynamodb_rpc_seconds` of its successful calls, registered
    /// on first use: the recorder's lookup by labels costs more than the
    /// record.
    ok_seconds: OnceLock<metrics::Histogram>,
}

/// Every method of the compiled protos, read once from the descriptors,
/// sorted by path so a request's method is found by binary search.
fn methods() -> &'static [Entry] {
    static METHODS: OnceLock<Vec<Entry>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let Ok(set) = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for file in &set.file {
            let package = file.package();
            for svc in &file.service {
                for m in &svc.method {
                    out.push(Entry {
                        path: format!("/{package}.{}/{}", svc.name(), m.name()),
                        full_service: format!("{package}.{}", svc.name()),
                        service: svc.name().to_string(),
                        method: m.name().to_string(),
                        ok_seconds: OnceLock::new(),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    })
}

/// The method a request path (`/curity.datasource.v1.AccountService/GetById`)
/// addresses, if it is one of ours.
pub fn method_of(path: &str) -> Option<RpcMethod> {
    let all = methods();
    let index = all.binary_search_by(|e| e.path.as_str().cmp(path)).ok()?;
    let e = &all[index];
    Some(RpcMethod {
        service: &e.service,
        method: &e.method,
        index,
    })
}

/// The full name of every service with methods in the compiled protos.
#[cfg(test)]
pub fn service_paths() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = methods().iter().map(|e| e.full_service.as_str()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The global limit on RPCs in flight (`server.max_concurrent_requests`),
/// shared by every connection. Health does not go through [`rpc`], so
/// probes are never shed.
#[derive(Debug, Clone)]
pub struct Limiter {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl Limiter {
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

/// The server layer's request hook: labels the call with its method and
/// hands it the limiter.
pub fn label<B>(mut request: http::Request<B>, limiter: &Limiter) -> http::Request<B> {
    if let Some(m) = method_of(request.uri().path()) {
        request.extensions_mut().insert(m);
        request.extensions_mut().insert(limiter.clone());
    }
    request
}

/// A request message and the tenant it acts for (none for the global data
/// types: sessions, tokens, nonces).
pub trait Tenanted {
    fn tenant_field(&self) -> Option<&proto::Tenant>;

    /// The tenant, validated (an id with `(`, `)` or `#` is refused).
    fn tenant(&self) -> Result<Tenant<'_>, StoreError> {
        Tenant::parse(self.tenant_field().map(|t| t.id.as_str()))
    }
}

macro_rules! tenanted {
    ($($t:ident),* $(,)?) => {
        $(impl Tenanted for proto::$t {
            fn tenant_field(&self) -> Option<&proto::Tenant> {
                self.tenant.as_ref()
            }
        })*
    };
}

macro_rules! global {
    ($($t:ident),* $(,)?) => {
        $(impl Tenanted for proto::$t {
            fn tenant_field(&self) -> Option<&proto::Tenant> {
                None
            }
        })*
    };
}

tenanted!(
    GetAccountByIdRequest,
    GetAccountByUserNameRequest,
    GetAccountByEmailRequest,
    GetAccountByPhoneRequest,
    CreateAccountRequest,
    UpdateAccountRequest,
    PatchAccountRequest,
    DeleteAccountRequest,
    ListAccountsRequest,
    CountAccountsRequest,
    GetCredentialRequest,
    StoreCredentialRequest,
    DeleteCredentialRequest,
    UpdateSubjectRequest,
    LinkRequest,
    ListLinksRequest,
    ResolveLinkRequest,
    DeleteLinkRequest,
    GetAttributesRequest,
    CreateDelegationRequest,
    GetDelegationByIdRequest,
    GetDelegationByAuthorizationCodeHashRequest,
    SetDelegationStatusRequest,
    GetDelegationsByOwnerRequest,
    CountDelegationsByOwnerRequest,
    ListActiveDelegationsRequest,
    CountActiveDelegationsRequest,
    ListDelegationsRequest,
    SetDelegationStatusByOwnerRequest,
    SetDelegationStatusByOwnerAndClientRequest,
    CreateDeviceRequest,
    GetDeviceByIdRequest,
    GetDeviceByRequest,
    ListDevicesByAccountRequest,
    GetDevicesByDeviceIdRequest,
    ListDevicesRequest,
    UpdateDeviceRequest,
    DeleteDeviceRequest,
    DeleteDeviceByRequest,
);

global!(
    GetSessionRequest,
    InsertSessionRequest,
    UpdateSessionRequest,
    UpdateSessionExpirationRequest,
    DeleteSessionRequest,
    CreateTokenRequest,
    GetTokenByHashRequest,
    GetTokenStatusRequest,
    SetTokenStatusRequest,
    SaveNonceRequest,
    GetNonceRequest,
    ConsumeNonceRequest,
    GetDynamicClientRequest,
    CreateDynamicClientRequest,
    UpdateDynamicClientRequest,
    DeleteDynamicClientRequest,
    ListDynamicClientsRequest,
    CountDynamicClientsRequest,
    CatalogGetRequest,
    CatalogDeleteRequest,
    CatalogListRequest,
    CatalogCountRequest,
    PutDatabaseClientRequest,
    PutDatabaseServiceProviderRequest,
);

/// Buckets carry their tenant inside the key.
macro_rules! keyed {
    ($($t:ident),* $(,)?) => {
        $(impl Tenanted for proto::$t {
            fn tenant_field(&self) -> Option<&proto::Tenant> {
                self.key.as_ref().and_then(|k| k.tenant.as_ref())
            }
        })*
    };
}

keyed!(GetBucketRequest, StoreBucketRequest, ClearBucketRequest);

/// Runs one RPC inside a span carrying service, method, table, tenant,
/// outcome and latency. Request payloads are never recorded: they hold
/// tokens, session state and password hashes.
pub async fn rpc<Req, Res, F, Fut>(
    table: &str,
    request: Request<Req>,
    work: F,
) -> Result<Response<Res>, Status>
where
    Req: Tenanted,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = Result<Res, StoreError>>,
{
    let RpcMethod {
        service,
        method,
        index,
    } = request
        .extensions()
        .get::<RpcMethod>()
        .copied()
        .unwrap_or(RpcMethod::UNKNOWN);
    // Refused at once, not queued: a queue would only move the overload
    // into every caller's latency.
    let permit = match request.extensions().get::<Limiter>() {
        None => Ok(None),
        Some(l) => Arc::clone(&l.permits)
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| StoreError::Overloaded { limit: l.limit }),
    };
    let req = request.into_inner();
    let span = tracing::info_span!(
        target: crate::telemetry::RPC_SPAN_TARGET,
        "rpc",
        service,
        method,
        table,
        tenant = req.tenant_field().map_or("", |t| t.id.as_str()),
        outcome = Empty,
        latency_us = Empty
    );
    let started = Instant::now();
    let result = match permit {
        Ok(_permit) => work(req).instrument(span.clone()).await,
        Err(e) => Err(e),
    };
    let elapsed = started.elapsed();
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.class().outcome,
    };
    span.record("outcome", outcome);
    span.record("latency_us", elapsed.as_micros() as u64);
    let ok_seconds = methods().get(index).filter(|_| outcome == "ok").map(|e| {
        e.ok_seconds.get_or_init(|| {
            metrics::histogram!(
                "curity_dynamodb_rpc_seconds",
                "service" => service,
                "method" => method,
                "outcome" => "ok"
            )
        })
    });
    match ok_seconds {
        Some(h) => h.record(elapsed.as_secs_f64()),
        None => metrics::histogram!(
            "curity_dynamodb_rpc_seconds",
            "service" => service,
            "method" => method,
            "outcome" => outcome
        )
        .record(elapsed.as_secs_f64()),
    }
    let _entered = span.enter();
    // The span's fields are repeated on the events: the log shows RPC spans
    // only at debug (`telemetry`).
    let latency_us = elapsed.as_micros() as u64;
    match result {
        Ok(v) => {
            tracing::debug!(service, method, table, outcome, latency_us, "rpc done");
            Ok(Response::new(v))
        }
        Err(e) => {
            if e.class().caller_fault {
                tracing::debug!(service, method, table, outcome, latency_us, error = %e, "rpc rejected");
            } else {
                tracing::warn!(
                    service,
                    method,
                    table,
                    outcome,
                    latency_us,
                    error = %e,
                    cause = e.cause().unwrap_or(""),
                    "rpc failed"
                );
            }
            Err(status::to_status(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_of_the_protos_is_labelled_from_its_path() {
        let m = method_of("/curity.datasource.v1.AccountService/GetById").unwrap();
        assert_eq!(
            m,
            RpcMethod {
                service: "AccountService",
                method: "GetById",
                index: m.index,
            }
        );
        assert!(method_of("/curity.datasource.v1.AccountService/Nope").is_none());
        assert!(methods().len() >= 34, "{}", methods().len());
        for (index, e) in methods().iter().enumerate() {
            assert_eq!(
                method_of(&e.path).map(|m| m.index),
                Some(index),
                "{}",
                e.path
            );
        }
    }

    /// A span's fields, by name.
    type SpanFields = Vec<(String, String)>;

    /// The fields of every span named `rpc` once it closed.
    #[derive(Clone, Default)]
    struct ClosedRpcSpans(Arc<std::sync::Mutex<Vec<SpanFields>>>);

    #[derive(Default)]
    struct Fields(Vec<(String, String)>);

    impl tracing::field::Visit for Fields {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.retain(|(k, _)| k != field.name());
            self.0
                .push((field.name().to_string(), format!("{value:?}")));
        }
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            self.0.retain(|(k, _)| k != field.name());
            self.0.push((field.name().to_string(), value.to_string()));
        }
    }

    impl<S> tracing_subscriber::Layer<S> for ClosedRpcSpans
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(fields);
            }
        }
        fn on_record(
            &self,
            id: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if let Some(span) = ctx.span(id)
                && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
            {
                values.record(fields);
            }
        }
        fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
            if let Some(span) = ctx.span(&id)
                && span.name() == "rpc"
                && let Some(fields) = span.extensions_mut().remove::<Fields>()
            {
                self.0.lock().unwrap().push(fields.0);
            }
        }
    }

    fn traced_rpc(
        path: &str,
        tenant: &str,
        result: Result<(), StoreError>,
    ) -> (Result<(), Status>, SpanFields) {
        use tracing_subscriber::layer::SubscriberExt;
        let spans = ClosedRpcSpans::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        let mut request = Request::new(proto::GetAccountByIdRequest {
            tenant: Some(proto::Tenant {
                id: tenant.to_string(),
            }),
            ..Default::default()
        });
        request
            .extensions_mut()
            .insert(method_of(path).expect("a method of ours"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let outcome = tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(rpc(
                "curity-accounts",
                request,
                |_req| async move { result },
            ))
        });
        let mut closed = spans.0.lock().unwrap().clone();
        assert_eq!(closed.len(), 1, "one rpc span per call: {closed:?}");
        let mut fields = closed.remove(0);
        fields.sort();
        (outcome.map(|_| ()), fields)
    }

    fn names(fields: &[(String, String)]) -> Vec<&str> {
        fields.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn value<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("<missing>", |(_, v)| v.as_str())
    }

    #[test]
    fn every_rpc_span_carries_method_table_tenant_outcome_and_latency_and_nothing_else() {
        let (result, fields) = traced_rpc(
            "/curity.datasource.v1.AccountService/GetById",
            "tenant-a",
            Ok(()),
        );
        assert!(result.is_ok());
        assert_eq!(
            names(&fields),
            [
                "latency_us",
                "method",
                "outcome",
                "service",
                "table",
                "tenant"
            ]
        );
        assert_eq!(value(&fields, "service"), "AccountService");
        assert_eq!(value(&fields, "method"), "GetById");
        assert_eq!(value(&fields, "table"), "curity-accounts");
        assert_eq!(value(&fields, "tenant"), "tenant-a");
        assert_eq!(value(&fields, "outcome"), "ok");
        assert!(value(&fields, "latency_us").parse::<u64>().is_ok());
    }

    #[test]
    fn a_failed_rpc_span_records_the_error_tables_outcome_label() {
        let (result, fields) = traced_rpc(
            "/curity.datasource.v1.AccountService/GetById",
            "",
            Err(StoreError::NotFound { what: "account" }),
        );
        assert_eq!(result.unwrap_err().code(), tonic::Code::NotFound);
        assert_eq!(value(&fields, "outcome"), "not_found");
        assert_eq!(value(&fields, "tenant"), "");
    }
}
