//! One upstream fetch shared by every request that missed the same key:
//! the fill task publishes the response head and the body chunks here as
//! they come, and each waiting request streams them at its own pace.
//!
//! What a fill may hold is bounded, whatever upstream sends:
//!
//! - While the body may still be stored (**keeping**), every chunk is kept
//!   from the first, so that a request joining late reads the whole body,
//!   and the kept bytes are the stored entry's bytes at the end. Keeping is
//!   given up as soon as the kept bytes (plus [`CHUNK_OVERHEAD`] per chunk)
//!   would pass `max_object_bytes`, or the cache's budget for fills in
//!   flight ([`FillBudget`]) has no room left, whatever the headers said.
//! - After that the fill only **streams**: chunks every reader has taken are
//!   dropped, no new reader can join ([`Fill::reader`] answers `None`), and
//!   the fill task reads upstream only while the slowest reader is less
//!   than [`READER_WINDOW`] behind ([`Fill::wait_for_room`]): backpressure
//!   on upstream instead of memory. When the last reader has gone, the
//!   fetch stops and the upstream connection is dropped. A reader that takes
//!   nothing for the stall time is cut off, so that it cannot hold the
//!   upstream connection and the others for ever.
//!
//! A reader that goes away changes nothing for the others or for the cache.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http::{HeaderMap, StatusCode};
use tokio::sync::Notify;

use super::Entry;
use crate::body::BodyError;
use crate::metrics::CacheResult;

/// Counted per chunk on top of its bytes (the chunk's handle and its place
/// in the queue): a body of one-byte chunks must not cost 64 times what it
/// is counted as.
pub const CHUNK_OVERHEAD: usize = 64;

/// How far (in counted bytes) the fill task may run ahead of its slowest
/// reader once the body is no longer being stored: the per-reader memory
/// of a streaming fill (plus one upstream chunk).
pub const READER_WINDOW: usize = 256 * 1024;

/// The bytes all fills in flight may keep, together: a share of
/// `cache.max_bytes` set aside from the stored entries' share.
#[derive(Debug)]
pub struct FillBudget {
    limit: u64,
    used: AtomicU64,
}

impl FillBudget {
    pub fn new(limit: u64) -> Arc<FillBudget> {
        Arc::new(FillBudget {
            limit,
            used: AtomicU64::new(0),
        })
    }

    fn try_reserve(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(n))
            });
    }

    /// Bytes kept by fills in flight now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }
}

/// What a fill turned out to be; `E`: what it failed with.
pub enum FillHead<E> {
    /// A fresh response, streaming: read the body with [`Fill::reader`].
    Stream(Arc<StreamHead>),
    /// An answer from a stored entry (revalidated, or stale after an error).
    Entry(Arc<Entry>, CacheResult),
    /// Not shareable (private, no-store, too large, a range): each waiting
    /// request fetches for itself; the request that started the fill gets
    /// the response through its own channel.
    Pass,
    /// Upstream failed before a response head.
    Failed(Arc<E>),
    /// The fill task ended before it set a head (it panicked or was dropped).
    Abandoned,
}

impl<E> Clone for FillHead<E> {
    fn clone(&self) -> Self {
        match self {
            FillHead::Stream(h) => FillHead::Stream(h.clone()),
            FillHead::Entry(e, r) => FillHead::Entry(e.clone(), *r),
            FillHead::Pass => FillHead::Pass,
            FillHead::Failed(e) => FillHead::Failed(e.clone()),
            FillHead::Abandoned => FillHead::Abandoned,
        }
    }
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

struct FillState<E> {
    head: Option<FillHead<E>>,
    /// Chunks from index `base` on.
    chunks: VecDeque<Bytes>,
    base: usize,
    /// Counted bytes (with [`CHUNK_OVERHEAD`]) of `chunks`.
    held: usize,
    /// Counted bytes of `chunks` reserved from the budget.
    reserved: usize,
    /// Every chunk from the first is kept (the body may still be stored).
    keeping: bool,
    end: Option<Result<(), BodyError>>,
    /// Live readers: id → index of the next chunk each will take.
    readers: HashMap<u64, usize>,
    next_reader: u64,
    /// Readers cut off for taking nothing for too long.
    evicted: Vec<u64>,
}

pub struct Fill<E> {
    state: Mutex<FillState<E>>,
    /// Readers wait on this for the head, chunks and the end.
    changed: Notify,
    /// The fill task waits on this for readers to take chunks or leave.
    taken: Notify,
    budget: Arc<FillBudget>,
    max_object: usize,
}

impl<E> Fill<E> {
    /// A fill that keeps at most `max_object` counted bytes for storing,
    /// and only while `budget` has room for them.
    pub fn new(budget: Arc<FillBudget>, max_object: u64) -> Arc<Fill<E>> {
        Arc::new(Fill {
            state: Mutex::new(FillState {
                head: None,
                chunks: VecDeque::new(),
                base: 0,
                held: 0,
                reserved: 0,
                keeping: true,
                end: None,
                readers: HashMap::new(),
                next_reader: 0,
                evicted: Vec::new(),
            }),
            changed: Notify::new(),
            taken: Notify::new(),
            budget,
            max_object: usize::try_from(max_object).unwrap_or(usize::MAX),
        })
    }

    fn lock(&self) -> MutexGuard<'_, FillState<E>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_head(&self, head: FillHead<E>) {
        self.lock().head = Some(head);
        self.changed.notify_waiters();
    }

    /// Adds a chunk for the readers. Returns whether the body is still being
    /// kept for storing; `false` from the chunk on which keeping was given
    /// up (over `max_object_bytes` or over the budget) and ever after.
    pub fn push(&self, chunk: Bytes) -> bool {
        let cost = chunk.len() + CHUNK_OVERHEAD;
        let keeping = {
            let mut state = self.lock();
            if state.keeping {
                let within = state.held.saturating_add(cost) <= self.max_object;
                if within && self.budget.try_reserve(cost as u64) {
                    state.reserved += cost;
                } else {
                    state.keeping = false;
                }
            }
            state.chunks.push_back(chunk);
            state.held += cost;
            self.trim(&mut state);
            state.keeping
        };
        self.changed.notify_waiters();
        keeping
    }

    /// Drops the chunks every reader has taken, once they are not kept.
    fn trim(&self, state: &mut FillState<E>) {
        if state.keeping {
            return;
        }
        let upto = state.readers.values().copied().min().unwrap_or(usize::MAX);
        let mut freed = 0;
        while state.base < upto {
            let Some(c) = state.chunks.pop_front() else {
                break;
            };
            state.base += 1;
            freed += c.len() + CHUNK_OVERHEAD;
        }
        state.held -= freed.min(state.held);
        let released = freed.min(state.reserved);
        state.reserved -= released;
        self.budget.release(released as u64);
    }

    /// For the fill task of a body no longer kept: waits until the slowest
    /// reader is within [`READER_WINDOW`] of the end. `false` when nobody
    /// reads any more (stop fetching). A reader that takes nothing for
    /// `stall` is cut off.
    pub async fn wait_for_room(&self, stall: Duration) -> bool {
        loop {
            let taken = self.taken.notified();
            tokio::pin!(taken);
            taken.as_mut().enable();
            {
                let state = self.lock();
                if state.readers.is_empty() {
                    return false;
                }
                if state.held <= READER_WINDOW {
                    return true;
                }
            }
            if tokio::time::timeout(stall, taken).await.is_err() {
                self.evict_slowest();
            }
        }
    }

    fn evict_slowest(&self) {
        {
            let mut state = self.lock();
            let Some(slowest) = state.readers.values().copied().min() else {
                return;
            };
            let stalled: Vec<u64> = state
                .readers
                .iter()
                .filter(|(_, at)| **at == slowest)
                .map(|(id, _)| *id)
                .collect();
            for id in stalled {
                state.readers.remove(&id);
                state.evicted.push(id);
            }
            self.trim(&mut state);
        }
        self.changed.notify_waiters();
    }

    pub fn finish(&self, result: Result<(), BodyError>) {
        self.lock().end = Some(result);
        self.changed.notify_waiters();
    }

    /// The whole body, when it was kept to the end (for the stored entry):
    /// one exact-size copy.
    pub fn kept_body(&self) -> Option<Bytes> {
        let state = self.lock();
        if !state.keeping || state.base != 0 {
            return None;
        }
        let len = state.chunks.iter().map(Bytes::len).sum();
        let mut body = BytesMut::with_capacity(len);
        for c in &state.chunks {
            body.extend_from_slice(c);
        }
        Some(body.freeze())
    }

    /// Releases every reader of a fill that ends without finishing: no head
    /// yet → failed; body not ended → ended in an error.
    pub fn abandon(&self) {
        {
            let mut state = self.lock();
            if state.head.is_none() {
                state.head = Some(FillHead::Abandoned);
            }
            if state.end.is_none() {
                state.end = Some(Err(BodyError::FillStopped));
            }
        }
        self.changed.notify_waiters();
    }

    /// Waits for the head.
    pub async fn head(&self) -> FillHead<E> {
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

    /// Chunk `index` for reader `id`, waiting for it; `None` after the last.
    async fn chunk(&self, id: u64, index: usize) -> Option<Result<Bytes, BodyError>> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if state.evicted.contains(&id) {
                    return Some(Err(BodyError::ReaderStalled));
                }
                if let Some(c) = index
                    .checked_sub(state.base)
                    .and_then(|i| state.chunks.get(i))
                    .cloned()
                {
                    if let Some(at) = state.readers.get_mut(&id) {
                        *at = index + 1;
                    }
                    self.trim(&mut state);
                    drop(state);
                    self.taken.notify_one();
                    return Some(Ok(c));
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

    /// The body from its first chunk, as it arrives; `None` when the fill
    /// no longer has its first chunk (it streams a body too large to keep):
    /// the request must then fetch for itself.
    pub fn reader(
        self: &Arc<Self>,
    ) -> Option<impl Stream<Item = Result<Bytes, BodyError>> + Send + 'static>
    where
        E: Send + Sync + 'static,
    {
        let id = {
            let mut state = self.lock();
            if state.base != 0 {
                return None;
            }
            let id = state.next_reader;
            state.next_reader += 1;
            state.readers.insert(id, 0);
            id
        };
        let slot = ReaderSlot {
            fill: self.clone(),
            id,
        };
        Some(futures_util::stream::unfold(
            (slot, 0usize, false),
            |(slot, index, failed)| async move {
                if failed {
                    return None;
                }
                match slot.fill.chunk(slot.id, index).await {
                    None => None,
                    Some(Ok(c)) => Some((Ok(c), (slot, index + 1, false))),
                    Some(Err(e)) => Some((Err(e), (slot, index, true))),
                }
            },
        ))
    }

    /// Readers attached now.
    #[cfg(test)]
    fn reader_count(&self) -> usize {
        self.lock().readers.len()
    }

    /// Counted bytes held now.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock().held
    }
}

impl<E> Drop for Fill<E> {
    fn drop(&mut self) {
        let reserved = self.lock().reserved;
        self.budget.release(reserved as u64);
    }
}

/// A reader's place in a fill; leaving (the stream dropped) lets the fill
/// drop what only it still needed, and stop when nobody is left.
struct ReaderSlot<E> {
    fill: Arc<Fill<E>>,
    id: u64,
}

impl<E> Drop for ReaderSlot<E> {
    fn drop(&mut self) {
        {
            let mut state = self.fill.lock();
            state.readers.remove(&self.id);
            state.evicted.retain(|e| *e != self.id);
            self.fill.trim(&mut state);
        }
        self.fill.taken.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    type TestFill = Fill<std::io::Error>;

    fn fill(max_object: u64, budget: u64) -> (Arc<TestFill>, Arc<FillBudget>) {
        let b = FillBudget::new(budget);
        (TestFill::new(b.clone(), max_object), b)
    }

    #[tokio::test]
    async fn readers_get_every_chunk_whenever_they_join() {
        let (fill, _) = fill(1 << 20, 1 << 20);
        let early = fill.reader().unwrap();
        fill.set_head(FillHead::Pass);
        fill.push(Bytes::from_static(b"a"));
        let late_joiner = fill.clone();
        let task = tokio::spawn(async move {
            late_joiner
                .reader()
                .unwrap()
                .collect::<Vec<_>>()
                .await
                .len()
        });
        fill.push(Bytes::from_static(b"b"));
        fill.finish(Ok(()));
        let early: Vec<_> = early.map(|r| r.unwrap()).collect().await;
        assert_eq!(early, [Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
        assert_eq!(task.await.unwrap(), 2);
        assert_eq!(fill.kept_body().unwrap(), Bytes::from_static(b"ab"));
    }

    #[tokio::test]
    async fn a_failed_body_fails_every_reader_after_its_chunks() {
        let (fill, _) = fill(1 << 20, 1 << 20);
        fill.push(Bytes::from_static(b"a"));
        fill.finish(Err(BodyError::Truncated));
        let items: Vec<_> = fill.reader().unwrap().collect().await;
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok() && items[1].is_err());
    }

    #[tokio::test]
    async fn keeping_stops_past_max_object_bytes_whatever_the_headers_said() {
        let (fill, budget) = fill(10_000, 1 << 20);
        let _reader = fill.reader().unwrap();
        let chunk = Bytes::from(vec![b'x'; 4000]);
        assert!(fill.push(chunk.clone()));
        assert!(fill.push(chunk.clone()));
        assert!(!fill.push(chunk.clone()), "third chunk passes 10 000 bytes");
        assert!(fill.kept_body().is_none());
        // The unread chunks stay for the reader (and stay counted).
        assert_eq!(budget.used(), 2 * (4000 + CHUNK_OVERHEAD) as u64);
        drop(_reader);
        assert_eq!(fill.held(), 0, "nobody needs them any more");
        assert_eq!(budget.used(), 0);
    }

    #[tokio::test]
    async fn keeping_stops_when_the_budget_for_fills_is_spent() {
        let budget = FillBudget::new(10_000);
        let a = TestFill::new(budget.clone(), 1 << 20);
        let b = TestFill::new(budget.clone(), 1 << 20);
        assert!(a.push(Bytes::from(vec![0; 6000])));
        assert!(!b.push(Bytes::from(vec![0; 6000])), "no room left");
        drop(a);
        assert_eq!(budget.used(), 0, "a fill gives its bytes back when it ends");
    }

    #[tokio::test]
    async fn one_byte_chunks_are_counted_with_their_overhead() {
        let (fill, _) = fill(100 * CHUNK_OVERHEAD as u64, 1 << 30);
        let _reader = fill.reader().unwrap();
        let kept = (0..1000)
            .take_while(|_| fill.push(Bytes::from_static(b"x")))
            .count();
        assert!(kept < 100, "{kept} one-byte chunks kept");
    }

    #[tokio::test]
    async fn a_streaming_fill_takes_no_new_readers_and_stops_when_its_readers_leave() {
        let (fill, _) = fill(1000, 1 << 20);
        let reader = fill.reader().unwrap();
        assert!(!fill.push(Bytes::from(vec![0; 2000])));
        let mut reader = Box::pin(reader);
        reader.next().await.unwrap().unwrap();
        assert!(fill.reader().is_none(), "the first chunk is gone");
        assert!(fill.wait_for_room(Duration::from_secs(5)).await);
        drop(reader);
        assert_eq!(fill.reader_count(), 0);
        assert!(!fill.wait_for_room(Duration::from_secs(5)).await);
    }

    #[tokio::test]
    async fn a_slow_reader_holds_the_fill_back_by_a_window_only() {
        let (fill, _) = fill(1000, 1 << 20);
        let reader = fill.reader().unwrap();
        let mut reader = Box::pin(reader);
        let chunk = Bytes::from(vec![0; 64 * 1024]);
        let mut pushed = 0;
        // The fill task's loop: push, then wait for room. The reader reads nothing.
        loop {
            fill.push(chunk.clone());
            pushed += 1;
            let room = tokio::time::timeout(
                Duration::from_millis(50),
                fill.wait_for_room(Duration::from_secs(60)),
            )
            .await;
            if room.is_err() {
                break;
            }
        }
        assert!(fill.held() <= READER_WINDOW + chunk.len() + CHUNK_OVERHEAD);
        assert!(pushed <= READER_WINDOW / chunk.len() + 1, "{pushed}");
        // Reading makes room again.
        reader.next().await.unwrap().unwrap();
        assert!(fill.held() < READER_WINDOW + chunk.len());
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_takes_nothing_is_cut_off_after_the_stall_time() {
        let (fill, _) = fill(1000, 1 << 20);
        let reader = fill.reader().unwrap();
        let mut reader = Box::pin(reader);
        for _ in 0..8 {
            fill.push(Bytes::from(vec![0; 64 * 1024]));
        }
        assert!(
            !fill.wait_for_room(Duration::from_secs(30)).await,
            "cut off, nobody left"
        );
        assert_eq!(fill.held(), 0);
        assert!(matches!(
            reader.next().await,
            Some(Err(BodyError::ReaderStalled))
        ));
    }
}
