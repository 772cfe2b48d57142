//! `[telemetry]`: distributed traces over OTLP/gRPC, off unless a collector
//! is named here or by the standard `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`.
//! What is not set here the OpenTelemetry SDK reads from the standard
//! variables (`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER[_ARG]`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_MAX_QUEUE_SIZE`, ...); what is set
//! here wins over them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// The collector's OTLP/gRPC endpoint (`http://collector:4317`).
    pub otlp_endpoint: Option<String>,
    /// The `service.name` of the spans (default `curity-dynamodb`, or
    /// `OTEL_SERVICE_NAME`).
    pub service_name: Option<String>,
    /// The share of new traces sampled, 0.0–1.0; a trace Curity started
    /// follows Curity's decision.
    pub sample_ratio: Option<f64>,
    /// Spans waiting for export at most; beyond it they are dropped, so a
    /// slow or dead collector costs this much memory and no latency.
    pub export_queue_size: Option<usize>,
}

/// The most `export_queue_size` may be: a span is a few hundred bytes.
pub const MAX_EXPORT_QUEUE: usize = 65_536;

impl TelemetryConfig {
    pub(super) fn check(&self, problems: &mut Vec<String>) {
        if let Some(endpoint) = &self.otlp_endpoint {
            let ok = url::Url::parse(endpoint)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                problems.push(format!(
                    "telemetry.otlp_endpoint: {endpoint:?} is not an http(s) URL with a host"
                ));
            }
        }
        if let Some(r) = self.sample_ratio
            && !(0.0..=1.0).contains(&r)
        {
            problems.push("telemetry.sample_ratio: must be between 0.0 and 1.0".into());
        }
        if let Some(n) = self.export_queue_size
            && !(1..=MAX_EXPORT_QUEUE).contains(&n)
        {
            problems.push(format!(
                "telemetry.export_queue_size: must be 1..={MAX_EXPORT_QUEUE}"
            ));
        }
        if self.service_name.as_deref().is_some_and(str::is_empty) {
            problems.push("telemetry.service_name: must not be empty".into());
        }
    }
}
