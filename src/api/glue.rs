//! The glue every RPC shares: which proto method a call addresses (taken
//! from the request path, checked against the compiled descriptors), which
//! tenant it acts for, and [`rpc`], which runs the work inside a span and
//! turns a `StoreError` into a status.

use std::{
    future::Future,
    sync::OnceLock,
    time::{Duration, Instant},
};

use prost::Message;
use tonic::{Request, Response, Status, codegen::http};
use tracing::{Instrument, field::Empty};

use super::{
    audit::{self, fingerprint},
    status,
};
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
    /// A call that did not pass through [`super::Admission`] (never in
    /// `serve`).
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

/// The caller's `grpc-timeout` header (`<digits><unit>`, gRPC over HTTP/2).
pub(super) fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// A request message and the tenant it acts for (none for the global data
/// types: sessions, tokens, nonces).
pub trait Tenanted {
    fn tenant_field(&self) -> Option<&proto::Tenant>;

    /// For a write, the item it acts on as the audit trail names it (keys
    /// that are secrets, such as a token hash or session id, by
    /// [`super::audit::fingerprint`]); `None` for a read, which is not
    /// audited.
    fn audited_key(&self) -> Option<String> {
        None
    }

    /// The tenant, validated (an id with `(`, `)` or `#` is refused).
    fn tenant(&self) -> Result<Tenant<'_>, StoreError> {
        Tenant::parse(self.tenant_field().map(|t| t.id.as_str()))
    }
}

macro_rules! tenanted {
    ($($t:ident $(=> |$r:ident| $key:expr)?),* $(,)?) => {
        $(impl Tenanted for proto::$t {
            fn tenant_field(&self) -> Option<&proto::Tenant> {
                self.tenant.as_ref()
            }
            $(fn audited_key(&self) -> Option<String> {
                let $r = self;
                Some($key)
            })?
        })*
    };
}

macro_rules! global {
    ($($t:ident $(=> |$r:ident| $key:expr)?),* $(,)?) => {
        $(impl Tenanted for proto::$t {
            fn tenant_field(&self) -> Option<&proto::Tenant> {
                None
            }
            $(fn audited_key(&self) -> Option<String> {
                let $r = self;
                Some($key)
            })?
        })*
    };
}

tenanted!(
    GetAccountByIdRequest,
    GetAccountByUserNameRequest,
    GetAccountByEmailRequest,
    GetAccountByPhoneRequest,
    CreateAccountRequest => |r| format!("user_name:{}", r.account.as_ref().map_or("", |a| a.user_name.as_str())),
    UpdateAccountRequest => |r| r.id.clone(),
    PatchAccountRequest => |r| r.id.clone(),
    DeleteAccountRequest => |r| r.id.clone(),
    ListAccountsRequest,
    CountAccountsRequest,
    GetCredentialRequest,
    StoreCredentialRequest => |r| r.subject.clone(),
    DeleteCredentialRequest => |r| r.subject.clone(),
    UpdateSubjectRequest => |r| format!("{} -> {}", r.subject, r.new_subject),
    LinkRequest => |r| format!("{}/{}/{}", r.linking_account_manager, r.foreign_domain, r.foreign_user_name),
    ListLinksRequest,
    ResolveLinkRequest,
    DeleteLinkRequest => |r| format!("{}/{}/{}", r.linking_account_manager, r.foreign_domain, r.foreign_account_id),
    GetAttributesRequest,
    CreateDelegationRequest => |r| r.delegation.as_ref().map(|d| d.id.clone()).unwrap_or_default(),
    GetDelegationByIdRequest,
    GetDelegationByAuthorizationCodeHashRequest,
    SetDelegationStatusRequest => |r| r.id.clone(),
    GetDelegationsByOwnerRequest,
    CountDelegationsByOwnerRequest,
    ListActiveDelegationsRequest,
    CountActiveDelegationsRequest,
    ListDelegationsRequest,
    SetDelegationStatusByOwnerRequest => |r| format!("owner:{}", r.owner),
    SetDelegationStatusByOwnerAndClientRequest => |r| format!("owner:{}/client:{}", r.owner, r.client_id),
    CreateDeviceRequest => |r| r.device.as_ref().map(|d| d.id.clone()).unwrap_or_default(),
    GetDeviceByIdRequest,
    GetDeviceByRequest,
    ListDevicesByAccountRequest,
    GetDevicesByDeviceIdRequest,
    ListDevicesRequest,
    UpdateDeviceRequest => |r| r.device.as_ref().map(|d| d.id.clone()).unwrap_or_default(),
    DeleteDeviceRequest => |r| r.id.clone(),
    DeleteDeviceByRequest => |r| format!("{}/{}", r.device_id, r.account_id),
);

global!(
    GetSessionRequest,
    InsertSessionRequest => |r| fingerprint(r.session.as_ref().map_or("", |s| s.id.as_str())),
    UpdateSessionRequest => |r| fingerprint(r.session.as_ref().map_or("", |s| s.id.as_str())),
    UpdateSessionExpirationRequest => |r| fingerprint(&r.id),
    DeleteSessionRequest => |r| fingerprint(&r.id),
    CreateTokenRequest => |r| fingerprint(r.token.as_ref().map_or("", |t| t.token_hash.as_str())),
    GetTokenByHashRequest,
    GetTokenStatusRequest,
    SetTokenStatusRequest => |r| fingerprint(&r.token_hash),
    SaveNonceRequest => |r| fingerprint(&r.nonce),
    GetNonceRequest,
    ConsumeNonceRequest => |r| fingerprint(&r.nonce),
    GetDynamicClientRequest,
    CreateDynamicClientRequest => |r| r.client.as_ref().map(|c| c.client_id.clone()).unwrap_or_default(),
    UpdateDynamicClientRequest => |r| r.client.as_ref().map(|c| c.client_id.clone()).unwrap_or_default(),
    DeleteDynamicClientRequest => |r| r.client_id.clone(),
    ListDynamicClientsRequest,
    CountDynamicClientsRequest,
    CatalogGetRequest,
    CatalogDeleteRequest => |r| format!("{}/{}", r.profile_id, r.id),
    CatalogListRequest,
    CatalogCountRequest,
    PutDatabaseClientRequest => |r| format!("{}/{}", r.profile_id, r.client.as_ref().map_or("", |c| c.client_id.as_str())),
    PutDatabaseServiceProviderRequest => |r| format!("{}/{}", r.profile_id, r.service_provider.as_ref().map_or("", |p| p.id.as_str())),
);

/// Buckets carry their tenant inside the key.
macro_rules! keyed {
    ($($t:ident $(=> |$r:ident| $key:expr)?),* $(,)?) => {
        $(impl Tenanted for proto::$t {
            fn tenant_field(&self) -> Option<&proto::Tenant> {
                self.key.as_ref().and_then(|k| k.tenant.as_ref())
            }
            $(fn audited_key(&self) -> Option<String> {
                let $r = self;
                Some($key)
            })?
        })*
    };
}

keyed!(
    GetBucketRequest,
    StoreBucketRequest => |r| bucket_item(r.key.as_ref()),
    ClearBucketRequest => |r| bucket_item(r.key.as_ref()),
);

/// `curity_dynamodb_rpc_seconds` of one method and outcome: where every
/// call is counted, by `rpc` or, for those that never answer, by
/// `Admission`.
pub(super) fn rpc_seconds(
    service: &'static str,
    method: &'static str,
    outcome: &'static str,
) -> metrics::Histogram {
    metrics::histogram!(
        "curity_dynamodb_rpc_seconds",
        "service" => service,
        "method" => method,
        "outcome" => outcome
    )
}

/// The item of a bucket request, for the audit trail.
fn bucket_item(key: Option<&proto::BucketKey>) -> String {
    key.map(|k| format!("{}/{}", k.subject, k.purpose))
        .unwrap_or_default()
}

/// What every RPC answers.
pub type Reply<T> = Result<Response<T>, Status>;

/// What an RPC's body answers, before `rpc` maps the error.
pub type Done<T> = Result<T, StoreError>;

/// Runs one RPC inside a span carrying service, method, table, tenant,
/// outcome and latency. Request payloads are never recorded: they hold
/// tokens, session state and password hashes.
pub async fn rpc<Req, Res, F, Fut>(table: &str, request: Request<Req>, work: F) -> Reply<Res>
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
    let started = Instant::now();
    let (metadata, extensions, req) = request.into_parts();
    let audit = audit::Pending::begin(
        req.audited_key(),
        req.tenant_field().map_or("", |t| t.id.as_str()),
        &extensions,
        &metadata,
        (service, method, table),
    );
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
    crate::telemetry::traces::adopt_parent(&span, || {
        let header = |name: &str| metadata.get(name).and_then(|v| v.to_str().ok());
        (header("traceparent"), header("tracestate"))
    });
    let result = work(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.class().outcome,
    };
    if let Some(audit) = audit {
        audit.finish(outcome);
    }
    span.record("outcome", outcome);
    span.record("latency_us", elapsed.as_micros() as u64);
    let ok_seconds = methods().get(index).filter(|_| outcome == "ok").map(|e| {
        e.ok_seconds
            .get_or_init(|| rpc_seconds(service, method, "ok"))
    });
    match ok_seconds {
        Some(h) => h.record(elapsed.as_secs_f64()),
        None => rpc_seconds(service, method, outcome).record(elapsed.as_secs_f64()),
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
mod tests;
