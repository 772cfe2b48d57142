//! The audit trail: one event per write RPC that reached its handler, on
//! target [`TARGET`] (JSON lines on stderr or `server.audit_file`,
//! whatever the log filter says: `telemetry`): who (the caller as
//! authentication named it, never its credential), which RPC, table,
//! tenant and item, the outcome, and the caller's W3C trace id. Never a
//! value, hash or secret: keys that are secrets appear as a
//! [`fingerprint`]. A write the timeout or the caller's departure ended is
//! recorded as `unfinished` (it may or may not have been applied).

use sha2::{Digest, Sha256};
use tonic::{codegen::http, metadata::MetadataMap};

use crate::auth::Caller;

pub use crate::telemetry::AUDIT_TARGET as TARGET;

/// A secret key as the trail shows it: the first eight hex digits of its
/// SHA-256 (enough to match two events, too few to find the key).
pub fn fingerprint(secret: &str) -> String {
    format!(
        "sha256:{}",
        crate::tls::hex_prefix(&Sha256::digest(secret.as_bytes()))
    )
}

/// A write on its way: recorded once, when it answers or is dropped.
pub(super) struct Pending {
    caller: String,
    key: String,
    tenant: String,
    trace_id: String,
    service: &'static str,
    method: &'static str,
    table: String,
    recorded: bool,
}

impl Pending {
    /// `Some` for a write: a request with the `key` of the item it touches.
    pub(super) fn begin(
        key: Option<String>,
        tenant: &str,
        extensions: &http::Extensions,
        metadata: &MetadataMap,
        (service, method, table): (&'static str, &'static str, &str),
    ) -> Option<Self> {
        let key = bounded(key?);
        Some(Self {
            caller: extensions
                .get::<Caller>()
                .unwrap_or(&Caller::Anonymous)
                .to_string(),
            key,
            tenant: bounded(tenant.to_owned()),
            trace_id: trace_id(metadata).unwrap_or_default().to_owned(),
            service,
            method,
            table: table.to_owned(),
            recorded: false,
        })
    }

    pub(super) fn finish(mut self, outcome: &str) {
        self.record(outcome);
    }

    fn record(&mut self, outcome: &str) {
        self.recorded = true;
        tracing::info!(
            target: TARGET,
            caller = %self.caller,
            rpc = %format_args!("{}/{}", self.service, self.method),
            table = %self.table,
            tenant = %self.tenant,
            key = %self.key,
            outcome,
            trace_id = %self.trace_id,
            "write"
        );
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.recorded {
            self.record("unfinished");
        }
    }
}

/// Longest key or tenant an event carries: the trail is one line per
/// write, not a copy of whatever a caller sends (the store refuses such
/// keys anyway, after the event is begun).
const MAX_FIELD: usize = 256;

fn bounded(mut text: String) -> String {
    if text.len() > MAX_FIELD {
        let mut end = MAX_FIELD;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`).
fn trace_id(metadata: &MetadataMap) -> Option<&str> {
    let value = metadata.get("traceparent")?.to_str().ok()?;
    let mut parts = value.split('-');
    let (_version, id) = (parts.next()?, parts.next()?);
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id != "0".repeat(32))
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_shows_eight_hex_digits_of_the_sha256_and_nothing_of_the_secret() {
        let f = fingerprint("TOKENHASHMARKER");
        assert_eq!(f.len(), "sha256:".len() + 8);
        assert!(f.starts_with("sha256:"));
        assert!(!f.contains("TOKEN"));
        assert_eq!(f, fingerprint("TOKENHASHMARKER"));
        assert_ne!(f, fingerprint("TOKENHASHMARKER2"));
    }

    #[test]
    fn a_huge_key_or_tenant_is_cut_to_a_bounded_field() {
        let event = Pending::begin(
            Some("é".repeat(1000)),
            &"t".repeat(5000),
            &http::Extensions::new(),
            &MetadataMap::new(),
            ("SessionService", "DeleteSession", "curity-sessions"),
        )
        .unwrap();
        assert!(event.key.len() <= MAX_FIELD + '…'.len_utf8());
        assert!(event.key.ends_with('…'));
        assert!(event.tenant.len() <= MAX_FIELD + '…'.len_utf8());
        assert_eq!(bounded("short".into()), "short");
        event.finish("ok");
    }

    #[test]
    fn only_a_well_formed_traceparent_gives_a_trace_id() {
        let with = |v: &str| {
            let mut m = MetadataMap::new();
            m.insert("traceparent", v.parse().unwrap());
            trace_id(&m).map(str::to_owned)
        };
        assert_eq!(
            with("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(with("00-short-00f067aa0ba902b7-01"), None);
        assert_eq!(
            with("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id(&MetadataMap::new()), None);
    }
}
