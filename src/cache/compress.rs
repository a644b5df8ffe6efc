//! The compression workers: a fixed pool of threads, fed through a short
//! bounded queue. A job that does not fit is refused at once (the entry
//! stays identity-only until a later hit tries again), so compression never
//! builds a backlog, and its buffers are reused by the same few threads
//! instead of spread over the runtime's blocking pool (measured: transient
//! resident memory of tens of MB otherwise).

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::Shared;
use tokio::sync::oneshot;

use super::variants::Variants;

struct Job {
    identity: Bytes,
    media_type: String,
    done: oneshot::Sender<Variants>,
}

/// An entry's compression job, once one is queued: every hit that wants a
/// compressed form while it runs waits on the same job (and queues no
/// other), instead of getting the identity body (issue 14: 80 KB instead
/// of 9.5 KB for the article, right after its fill).
#[derive(Default)]
pub struct Pending(std::sync::OnceLock<Shared<oneshot::Receiver<Variants>>>);

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Pending(queued)"
        } else {
            "Pending(none)"
        })
    }
}

impl Pending {
    /// Whether a job was queued for this entry.
    pub fn queued(&self) -> bool {
        self.0.get().is_some()
    }

    /// Records `job` as this entry's; `None` if another was recorded first
    /// (then that one is the entry's, and `job` just runs to its end).
    pub fn start(
        &self,
        job: oneshot::Receiver<Variants>,
    ) -> Option<Shared<oneshot::Receiver<Variants>>> {
        let job = job.shared();
        self.0.set(job.clone()).ok().map(|()| job)
    }

    /// The variants, once the queued job has made them, waiting at most
    /// `bound`; `None` without a job, past the bound, or if it failed.
    pub async fn wait(&self, bound: std::time::Duration) -> Option<Variants> {
        let job = self.0.get()?.clone();
        tokio::time::timeout(bound, job).await.ok()?.ok()
    }
}

pub struct Compressor {
    jobs: SyncSender<Job>,
}

impl Compressor {
    /// `workers` threads, at most `queue` jobs waiting.
    pub fn new(workers: usize, queue: usize) -> Compressor {
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("newsmirror-compress-{n}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start a compression worker");
            }
        }
        Compressor { jobs }
    }

    /// Queues the compression of `identity`; `None` when the queue is full
    /// (or the workers are gone).
    pub fn try_submit(
        &self,
        identity: Bytes,
        media_type: String,
    ) -> Option<oneshot::Receiver<Variants>> {
        let (done, rx) = oneshot::channel();
        match self.jobs.try_send(Job {
            identity,
            media_type,
            done,
        }) {
            Ok(()) => Some(rx),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => None,
        }
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let guard = rx.lock().unwrap_or_else(|p| p.into_inner());
            match guard.recv() {
                Ok(job) => job,
                Err(_) => return, // the cache is gone
            }
        };
        let variants = Variants::build(job.identity, &job.media_type);
        let _ = job.done.send(variants);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_come_back_compressed_and_a_full_queue_refuses() {
        let c = Compressor::new(1, 1);
        let body = Bytes::from("<p>compress me, compress me, compress me</p>".repeat(50));
        let rx = c.try_submit(body.clone(), "text/html".into()).unwrap();
        let v = rx.await.unwrap();
        assert_eq!(v.identity, body);
        assert!(v.br.is_some() && v.gzip.is_some());
        // One worker busy, one slot queued: the next has no room.
        let mut accepted = 0;
        for _ in 0..50 {
            if c.try_submit(body.clone(), "text/html".into()).is_some() {
                accepted += 1;
            }
        }
        assert!(accepted < 50);
    }
}
