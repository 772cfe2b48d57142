//! Distributed traces: the RPC spans, the JSON port's request spans and the
//! AWS SDK's operation spans inside them (`DynamoDB.GetItem`, with the
//! service, operation and invocation id), exported over OTLP/gRPC, with the
//! caller's W3C trace context (`traceparent`, `tracestate`) as parent.
//!
//! Export never holds a request: spans wait in the batch processor's queue
//! (`telemetry.export_queue_size`, `OTEL_BSP_MAX_QUEUE_SIZE`; 2048 by
//! default) and are sent from its own thread; when the queue is full, as
//! with a dead collector, new spans are dropped and counted.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use opentelemetry::{
    Context,
    propagation::{Extractor, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider},
};
use tracing::Metadata;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{Layer, filter::filter_fn, registry::LookupSpan};

use super::{JSON_SPAN_TARGET, RPC_SPAN_TARGET};
use crate::config::TelemetryConfig;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether traces are asked for: a collector named in `[telemetry]` or by
/// the standard variables, and not turned off by `OTEL_SDK_DISABLED=true`
/// or `OTEL_TRACES_EXPORTER=none`.
pub fn wanted(config: &TelemetryConfig, env: impl Fn(&str) -> Option<String>) -> bool {
    let is =
        |key: &str, value: &str| env(key).is_some_and(|v| v.trim().eq_ignore_ascii_case(value));
    if is("OTEL_SDK_DISABLED", "true") || is("OTEL_TRACES_EXPORTER", "none") {
        return false;
    }
    config.otlp_endpoint.is_some()
        || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        || env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
}

/// The exporting half: kept by `serve` and shut down last, which sends
/// what is still queued.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Must be called inside the Tokio runtime (the gRPC channel to the
    /// collector lives on it).
    pub fn start(config: &TelemetryConfig) -> Result<Traces, String> {
        let mut exporter = SpanExporter::builder()
            .with_tonic()
            .with_timeout(Duration::from_secs(5));
        if let Some(endpoint) = &config.otlp_endpoint {
            exporter = exporter.with_endpoint(endpoint);
        }
        let exporter = exporter
            .build()
            .map_err(|e| format!("telemetry: the OTLP exporter: {e}"))?;
        let mut batch = BatchConfigBuilder::default();
        if let Some(n) = config.export_queue_size {
            batch = batch.with_max_queue_size(n);
        }
        let processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(batch.build())
            .build();
        let service_name = match (&config.service_name, std::env::var("OTEL_SERVICE_NAME")) {
            (Some(name), _) => Some(name.clone()),
            (None, Ok(_)) => None,
            (None, Err(_)) => Some("curity-dynamodb".into()),
        };
        let mut resource = Resource::builder();
        if let Some(name) = service_name {
            resource = resource.with_service_name(name);
        }
        let mut provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_resource(resource.build());
        if let Some(ratio) = config.sample_ratio {
            provider = provider.with_sampler(Sampler::ParentBased(Box::new(
                Sampler::TraceIdRatioBased(ratio),
            )));
        }
        let provider = provider.build();
        ENABLED.store(true, Ordering::Relaxed);
        Ok(Traces { provider })
    }

    /// The layer that turns the exported spans into OpenTelemetry spans.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("curity-dynamodb"))
            .with_filter(filter_fn(exported))
    }

    /// Sends what is queued (bounded by the exporter's timeout).
    pub fn shutdown(self) {
        ENABLED.store(false, Ordering::Relaxed);
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "traces: the last spans were not exported");
        }
    }
}

/// Spans only, never events: an event's fields could carry what a span's
/// fields were chosen not to.
fn exported(meta: &Metadata<'_>) -> bool {
    meta.is_span()
        && (meta.target() == RPC_SPAN_TARGET
            || meta.target() == JSON_SPAN_TARGET
            || meta.target().starts_with("aws_sdk_dynamodb::operation::"))
}

/// The directives `serve`'s log filter needs on top of `RUST_LOG` so that
/// the exported spans exist whatever the log level (the log itself keeps
/// to `RUST_LOG`).
pub const SPAN_DIRECTIVES: [&str; 3] = [
    "curity_dynamodb::rpc=info",
    "curity_dynamodb::json_ds::request=info",
    "aws_sdk_dynamodb::operation=debug",
];

/// Makes the caller's trace context (its `traceparent` and `tracestate`
/// headers, as `headers` reads them) the parent of `span`. With traces off
/// the headers are not even looked up: this runs on every request.
pub fn adopt_parent<'h>(
    span: &tracing::Span,
    headers: impl FnOnce() -> (Option<&'h str>, Option<&'h str>),
) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let (traceparent, tracestate) = headers();
    if traceparent.is_none() {
        return;
    }
    struct Headers<'a>(Option<&'a str>, Option<&'a str>);
    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            match key {
                "traceparent" => self.0,
                "tracestate" => self.1,
                _ => None,
            }
        }
        fn keys(&self) -> Vec<&str> {
            vec!["traceparent", "tracestate"]
        }
    }
    let parent: Context = TraceContextPropagator::new().extract(&Headers(traceparent, tracestate));
    // An invalid context leaves the span a root.
    let _ = span.set_parent(parent);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_are_wanted_when_a_collector_is_named_and_not_turned_off() {
        let config = |endpoint: Option<&str>| TelemetryConfig {
            otlp_endpoint: endpoint.map(str::to_string),
            ..TelemetryConfig::default()
        };
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(!wanted(&config(None), env(&[])));
        assert!(wanted(&config(Some("http://c:4317")), env(&[])));
        assert!(wanted(
            &config(None),
            env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")])
        ));
        assert!(wanted(
            &config(None),
            env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4317")])
        ));
        assert!(!wanted(
            &config(Some("http://c:4317")),
            env(&[("OTEL_SDK_DISABLED", "TRUE")])
        ));
        assert!(!wanted(
            &config(Some("http://c:4317")),
            env(&[("OTEL_TRACES_EXPORTER", "none")])
        ));
    }
}
