//! Dedicated reader threads, each owning one read-only connection.
//!
//! Reads are the hot path (every GetSecretValue is `load` + `sealed_value`). Handing each
//! one to tokio's general blocking pool costs more than the query itself (a shared mutex and
//! condvar for the whole pool); a few long-lived threads with their own queue, picked by
//! fewest jobs in flight, halve that overhead and never block the async runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::{StoreError, StoreResult};

/// A unit of work for a reader thread.
type Job = Box<dyn FnOnce(&Connection) + Send>;

/// One reader thread: its queue and how many jobs it has not finished.
struct Worker {
    queue: mpsc::Sender<Job>,
    in_flight: Arc<AtomicUsize>,
}

/// A fixed set of reader threads. Dropping the pool ends the threads (after their queued
/// jobs) and closes their connections.
pub(super) struct ReadPool {
    workers: Vec<Worker>,
}

impl ReadPool {
    /// Starts one thread per connection.
    pub(super) fn start(connections: Vec<Connection>) -> StoreResult<Self> {
        let mut workers = Vec::with_capacity(connections.len());
        for (i, conn) in connections.into_iter().enumerate() {
            let (queue, jobs) = mpsc::channel::<Job>();
            let in_flight = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&in_flight);
            std::thread::Builder::new()
                .name(format!("coffer-store-read-{i}"))
                .spawn(move || {
                    while let Ok(job) = jobs.recv() {
                        // A panicking job drops its reply sender; the caller sees an error.
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&conn)));
                        counter.fetch_sub(1, Ordering::Release);
                    }
                })
                .map_err(|e| StoreError::Backend(format!("cannot start a reader thread: {e}")))?;
            workers.push(Worker { queue, in_flight });
        }
        Ok(Self { workers })
    }

    /// Number of reader threads.
    pub(super) fn len(&self) -> usize {
        self.workers.len()
    }

    /// Runs `f` on the least busy reader thread and awaits its result.
    pub(super) async fn run<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let worker = self
            .workers
            .iter()
            .min_by_key(|w| w.in_flight.load(Ordering::Acquire))
            .ok_or_else(|| StoreError::Backend("no reader threads".into()))?;
        let (reply, result) = tokio::sync::oneshot::channel();
        worker.in_flight.fetch_add(1, Ordering::AcqRel);
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        if worker.queue.send(job).is_err() {
            worker.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(StoreError::Backend("reader thread has stopped".into()));
        }
        result
            .await
            .map_err(|_| StoreError::Backend("store read panicked".into()))?
    }
}
