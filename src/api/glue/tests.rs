use std::sync::Arc;

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
