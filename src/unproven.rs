//! Connections that have proven nothing yet: no TLS handshake done, or no
//! authenticated request. They cost nothing to open, so a bounded pool of
//! them, where the oldest gives way to a new one, keeps idle or slow
//! strangers from filling the port: a caller that connects and speaks at
//! once is never locked out, however many idle connections are open.

use std::{
    collections::VecDeque,
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::Notify,
};

/// At most `cap` connections wait to prove themselves; admitting one more
/// evicts the oldest.
pub struct Unproven {
    cap: usize,
    next: AtomicU64,
    waiting: Mutex<VecDeque<(u64, Arc<Notify>)>>,
}

/// A connection's place among the unproven. Dropped or [`Ticket::prove`]n,
/// it leaves; evicted, [`Ticket::evicted`] completes.
pub struct Ticket {
    id: u64,
    evict: Arc<Notify>,
    pool: Arc<Unproven>,
}

impl Unproven {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            next: AtomicU64::new(0),
            waiting: Mutex::new(VecDeque::new()),
        })
    }

    /// Admits a new connection, evicting the oldest unproven one when the
    /// pool is full.
    pub fn admit(self: &Arc<Self>) -> Ticket {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let evict = Arc::new(Notify::new());
        let evicted = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            waiting.push_back((id, Arc::clone(&evict)));
            if waiting.len() > self.cap {
                waiting.pop_front()
            } else {
                None
            }
        };
        if let Some((_, oldest)) = evicted {
            // A stored permit: the evicted task sees it whenever it waits.
            oldest.notify_one();
        }
        Ticket {
            id,
            evict,
            pool: Arc::clone(self),
        }
    }

    /// Connections waiting now.
    pub fn len(&self) -> usize {
        self.waiting.lock().map(|w| w.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn leave(&self, id: u64) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = waiting.iter().position(|(i, _)| *i == id) {
            waiting.remove(at);
        }
    }
}

impl Ticket {
    /// Completes when a newer connection took this one's place.
    pub async fn evicted(&self) {
        self.evict.notified().await;
    }

    /// What [`Ticket::evicted`] waits on, for a connection task that hands
    /// the ticket itself to whatever proves the connection.
    pub fn eviction(&self) -> Arc<Notify> {
        Arc::clone(&self.evict)
    }

    /// The connection proved itself: it leaves the pool for good.
    pub fn prove(self) {}
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pool.leave(self.id);
    }
}

/// A plaintext connection that proves itself by sending `proof` bytes (an
/// HTTP/2 client's preface is 24): until then it holds a [`Ticket`], and
/// once evicted every read fails, so the server closes it even while its
/// peer stays silent.
pub struct Proving<S> {
    inner: S,
    ticket: Option<Ticket>,
    eviction: Option<Pin<Box<OwnedNotified>>>,
    needed: usize,
}

type OwnedNotified = tokio::sync::futures::OwnedNotified;

impl<S> Proving<S> {
    pub fn new(inner: S, ticket: Ticket, proof: usize) -> Self {
        let eviction = Some(Box::pin(ticket.eviction().notified_owned()));
        Self {
            inner,
            ticket: Some(ticket),
            eviction,
            needed: proof,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Proving<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(eviction) = self.eviction.as_mut()
            && eviction.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "gave way to a newer connection before proving itself",
            )));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.ticket.is_some() {
            let read = buf.filled().len() - before;
            self.needed = self.needed.saturating_sub(read);
            if self.needed == 0 {
                self.ticket = None;
                self.eviction = None;
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Proving<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S: tonic::transport::server::Connected> tonic::transport::server::Connected for Proving<S> {
    type ConnectInfo = S::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn the_oldest_gives_way_and_proven_ones_stay() {
        let pool = Unproven::new(2);
        let first = pool.admit();
        let second = pool.admit();
        second.prove();
        let third = pool.admit();
        assert_eq!(pool.len(), 2);
        let fourth = pool.admit();
        tokio::time::timeout(Duration::from_secs(1), first.evicted())
            .await
            .expect("the oldest is evicted");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), third.evicted())
                .await
                .is_err(),
            "a younger one stays"
        );
        drop(fourth);
        drop(first);
        assert_eq!(pool.len(), 1);
    }
}
