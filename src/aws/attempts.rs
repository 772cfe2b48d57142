//! How many attempts one SDK call made. A conditional write whose reply was
//! lost (timeout, cut connection, 5xx) is retried by the SDK, and the retry
//! meets the item the first attempt wrote: its condition fails on our own
//! success. Knowing that the call was retried lets the caller compare the
//! item the refusal returns with what it wrote, instead of reporting a
//! conflict that never happened.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{Intercept, context::BeforeTransmitInterceptorContextRef},
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::config_bag::ConfigBag;

/// An interceptor counting attempts; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct Attempts(Arc<AtomicU32>);

impl Attempts {
    /// More than one attempt was sent: an earlier one may have been applied.
    pub fn retried(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 1
    }
}

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "Attempts"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
