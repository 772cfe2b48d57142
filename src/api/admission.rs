//! Admission: the tower layer in front of every data service. It labels a
//! call with its proto method, admits it under the global limit or sheds it
//! at once, and counts the calls that never finish in [`super::rpc`]: shed
//! (`overloaded`), ended by a timeout (`timed_out`) or by the caller leaving
//! (`cancelled`). `rpc` counts the rest (`ok` and each failure's class), so
//! every call is counted once. Health and reflection pass untouched: probes
//! are never shed.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::codegen::http;
use tower::{Layer, Service};

use super::{
    glue::{grpc_timeout, rpc_seconds},
    method_of,
    status::to_status,
};
use crate::store::StoreError;

/// `server.max_concurrent_requests` and `server.request_timeout_seconds`,
/// shared by every connection.
#[derive(Debug, Clone)]
pub struct Admission {
    permits: Arc<Semaphore>,
    limit: usize,
    /// A call dropped this late was ended by the timeout, not by its
    /// caller.
    timeout: Duration,
}

impl Admission {
    pub fn new(limit: usize, timeout: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            timeout,
        }
    }
}

impl<S> Layer<S> for Admission {
    type Service = Admitting<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admitting {
            inner,
            admission: self.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Admitting<S> {
    inner: S,
    admission: Admission,
}

type BoxFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, B, R> Service<http::Request<B>> for Admitting<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let Some(method) = method_of(request.uri().path()) else {
            return Box::pin(self.inner.call(request));
        };
        let started = Instant::now();
        let a = &self.admission;
        // Refused at once, not queued: a queue would only move the
        // overload into every caller's latency.
        let Ok(permit) = Arc::clone(&a.permits).try_acquire_owned() else {
            let shed = StoreError::Overloaded { limit: a.limit };
            record(method.service, method.method, "overloaded", started);
            tracing::debug!(
                service = method.service,
                method = method.method,
                outcome = "overloaded",
                "rpc shed"
            );
            return Box::pin(std::future::ready(Ok(to_status(&shed).into_http())));
        };
        let deadline = [Some(a.timeout), grpc_timeout(request.headers())]
            .into_iter()
            .flatten()
            .min();
        request.extensions_mut().insert(method);
        let unfinished = Unfinished {
            service: method.service,
            method: method.method,
            started,
            deadline,
            answered: false,
            _permit: permit,
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await;
            unfinished.finished();
            response
        })
    }
}

fn record(service: &'static str, method: &'static str, outcome: &'static str, started: Instant) {
    rpc_seconds(service, method, outcome).record(started.elapsed().as_secs_f64());
}

/// An admitted call that has not answered: if it is dropped so (the
/// server's timeout or the caller's `grpc-timeout` fired, or the caller
/// went away), it is still counted, as `timed_out` or `cancelled`. Holds
/// the call's permit.
struct Unfinished {
    service: &'static str,
    method: &'static str,
    started: Instant,
    /// The earlier of the server's timeout and the caller's deadline.
    deadline: Option<Duration>,
    /// `rpc` counted it.
    answered: bool,
    _permit: OwnedSemaphorePermit,
}

impl Unfinished {
    fn finished(mut self) {
        self.answered = true;
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let elapsed = self.started.elapsed();
        // Timers fire a little late, never early.
        let outcome = match self.deadline {
            Some(d) if elapsed >= d => "timed_out",
            _ => "cancelled",
        };
        record(self.service, self.method, outcome, self.started);
        tracing::warn!(
            service = self.service,
            method = self.method,
            outcome,
            latency_us = elapsed.as_micros() as u64,
            "rpc ended before it finished"
        );
    }
}
