//! One upstream fetch shared by every request that missed the same key:
//! the fill task publishes the response head and the body chunks here as
//! they come, and each waiting request streams them at its own pace.
//!
//! The fill task owns the upstream body; a reader that goes away changes
//! nothing for the others or for the cache.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, StatusCode};
use tokio::sync::Notify;

use super::Entry;
use crate::error::MirrorError;
use crate::metrics::CacheResult;
use crate::upstream::BodyError;

/// What a fill turned out to be.
#[derive(Clone)]
pub enum FillHead {
    /// A fresh response, streaming: read the body with [`Fill::reader`].
    Stream(Arc<StreamHead>),
    /// An answer from a stored entry (revalidated, or stale after an error).
    Entry(Arc<Entry>, CacheResult),
    /// Not shareable (private, no-store, too large, a range): each waiting
    /// request fetches for itself; the request that started the fill gets
    /// the response through its own channel.
    Pass,
    /// Upstream failed before a response head.
    Failed(Arc<MirrorError>),
}

/// Status and headers of a streaming fill, as the reader will get them.
pub struct StreamHead {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub no_body: bool,
    /// Request headers the response varies on, and the values the request
    /// that started the fill had: only requests with the same values may
    /// share it.
    pub vary: Vec<http::HeaderName>,
    pub vary_values: String,
}

#[derive(Default)]
struct FillState {
    head: Option<FillHead>,
    chunks: Vec<Bytes>,
    end: Option<Result<(), BodyError>>,
}

#[derive(Default)]
pub struct Fill {
    state: Mutex<FillState>,
    changed: Notify,
}

impl Fill {
    pub fn new() -> Arc<Fill> {
        Arc::new(Fill::default())
    }

    fn lock(&self) -> MutexGuard<'_, FillState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_head(&self, head: FillHead) {
        self.lock().head = Some(head);
        self.changed.notify_waiters();
    }

    pub fn push(&self, chunk: Bytes) {
        self.lock().chunks.push(chunk);
        self.changed.notify_waiters();
    }

    pub fn finish(&self, result: Result<(), BodyError>) {
        self.lock().end = Some(result);
        self.changed.notify_waiters();
    }

    /// Releases every reader of a fill that ends without finishing: no head
    /// yet → failed; body not ended → ended in an error.
    pub fn abandon(&self) {
        {
            let mut state = self.lock();
            if state.head.is_none() {
                state.head = Some(FillHead::Failed(Arc::new(MirrorError::Body(
                    BodyError::Read("the upstream fetch stopped".into()),
                ))));
            }
            if state.end.is_none() {
                state.end = Some(Err(BodyError::Read("the upstream fetch stopped".into())));
            }
        }
        self.changed.notify_waiters();
    }

    /// Waits for the head.
    pub async fn head(&self) -> FillHead {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(head) = self.lock().head.clone() {
                return head;
            }
            notified.await;
        }
    }

    /// Chunk `index`, waiting for it; `None` after the last one.
    async fn chunk(&self, index: usize) -> Option<Result<Bytes, BodyError>> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.lock();
                if let Some(c) = state.chunks.get(index) {
                    return Some(Ok(c.clone()));
                }
                match &state.end {
                    Some(Ok(())) => return None,
                    Some(Err(e)) => return Some(Err(e.clone())),
                    None => {}
                }
            }
            notified.await;
        }
    }

    /// The body from its first chunk, as it arrives.
    pub fn reader(
        self: &Arc<Self>,
    ) -> impl Stream<Item = Result<Bytes, BodyError>> + Send + 'static {
        futures_util::stream::unfold(
            (self.clone(), 0usize, false),
            |(fill, index, failed)| async move {
                if failed {
                    return None;
                }
                match fill.chunk(index).await {
                    None => None,
                    Some(Ok(c)) => Some((Ok(c), (fill, index + 1, false))),
                    Some(Err(e)) => Some((Err(e), (fill, index, true))),
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn readers_get_every_chunk_whenever_they_join() {
        let fill = Fill::new();
        let early = fill.reader();
        fill.set_head(FillHead::Pass);
        fill.push(Bytes::from_static(b"a"));
        let late_joiner = fill.clone();
        let task = tokio::spawn(async move { late_joiner.reader().collect::<Vec<_>>().await });
        fill.push(Bytes::from_static(b"b"));
        fill.finish(Ok(()));
        let early: Vec<_> = early.map(|r| r.unwrap()).collect().await;
        assert_eq!(early, [Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
        assert_eq!(task.await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_body_fails_every_reader_after_its_chunks() {
        let fill = Fill::new();
        fill.push(Bytes::from_static(b"a"));
        fill.finish(Err(BodyError::Read("cut".into())));
        let items: Vec<_> = fill.reader().collect().await;
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok() && items[1].is_err());
    }
}
