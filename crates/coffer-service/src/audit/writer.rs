//! The audit writer: records of calls that change nothing (reads, failures, denials) are
//! batched into one store transaction (group commit); the caller waits for its batch unless
//! the operator chose fail-open.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use coffer_audit::AuditEntry;
use coffer_store::Store;
use tokio::sync::{mpsc, oneshot};

/// What happens when a record cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditMode {
    /// The call fails (the default): nothing is answered without its record.
    #[default]
    FailClosed,
    /// The call is answered; the lost record is counted and logged.
    FailOpen,
    /// No audit records at all (benchmark baseline only).
    Off,
}

impl std::str::FromStr for AuditMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "closed" | "fail-closed" => Ok(AuditMode::FailClosed),
            "open" | "fail-open" => Ok(AuditMode::FailOpen),
            "off" => Ok(AuditMode::Off),
            other => Err(format!(
                "unknown audit mode {other:?} (expected closed, open or off)"
            )),
        }
    }
}

/// Why a record was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The store refused the batch.
    #[error("the audit log could not be written: {0}")]
    Store(String),
    /// The writer is gone (shutting down).
    #[error("the audit writer is not running")]
    Stopped,
}

/// Most records in one group commit.
const MAX_BATCH: usize = 1024;
/// Records that may wait for the writer before callers feel back-pressure.
const QUEUE: usize = 16 * 1024;

struct Job {
    entry: AuditEntry,
    done: Option<oneshot::Sender<Result<(), AuditError>>>,
}

/// Counters of the writer (for `/metrics`).
#[derive(Debug, Default)]
pub struct AuditCounters {
    /// Records written.
    pub written: AtomicU64,
    /// Records lost (fail-open) or refused (fail-closed).
    pub failed: AtomicU64,
    /// Group commits.
    pub batches: AtomicU64,
}

/// The queue's receiving end and the store, until the writer task takes them.
type Pending = (mpsc::Receiver<Job>, Arc<dyn Store>);

/// The batching writer. Starts its task on first use (inside a tokio runtime).
pub struct AuditWriter {
    mode: AuditMode,
    tx: mpsc::Sender<Job>,
    rx: std::sync::Mutex<Option<Pending>>,
    counters: Arc<AuditCounters>,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditWriter")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl AuditWriter {
    /// A writer appending to `store`.
    pub fn new(store: Arc<dyn Store>, mode: AuditMode) -> AuditWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        AuditWriter {
            mode,
            tx,
            rx: std::sync::Mutex::new(Some((rx, store))),
            counters: Arc::default(),
        }
    }

    /// The configured mode.
    pub fn mode(&self) -> AuditMode {
        self.mode
    }

    /// The writer's counters.
    pub fn counters(&self) -> &Arc<AuditCounters> {
        &self.counters
    }

    /// Writes one record in the next group commit. Fail-closed: returns once the batch is
    /// in the store, or the error. Fail-open: returns at once.
    pub async fn record(&self, entry: AuditEntry) -> Result<(), AuditError> {
        if self.mode == AuditMode::Off {
            return Ok(());
        }
        self.start();
        if self.mode == AuditMode::FailOpen {
            if self.tx.try_send(Job { entry, done: None }).is_err() {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!("audit queue full: a record was dropped (fail-open)");
            }
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job {
                entry,
                done: Some(done),
            })
            .await
            .map_err(|_| AuditError::Stopped)?;
        wait.await.map_err(|_| AuditError::Stopped)?
    }

    fn start(&self) {
        let Some((rx, store)) = self.rx.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        let counters = Arc::clone(&self.counters);
        tokio::spawn(run(rx, store, counters));
    }
}

async fn run(mut rx: mpsc::Receiver<Job>, store: Arc<dyn Store>, counters: Arc<AuditCounters>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(64);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (entries, dones): (Vec<AuditEntry>, Vec<_>) =
            jobs.drain(..).map(|j| (j.entry, j.done)).unzip();
        let n = entries.len() as u64;
        let started = std::time::Instant::now();
        let result = store
            .append_audit(entries)
            .await
            .map_err(|e| AuditError::Store(e.to_string()));
        tracing::trace!(
            records = n,
            micros = started.elapsed().as_micros() as u64,
            "audit batch"
        );
        counters.batches.fetch_add(1, Ordering::Relaxed);
        match &result {
            Ok(()) => counters.written.fetch_add(n, Ordering::Relaxed),
            Err(e) => {
                tracing::error!(error = %e, records = n, "audit batch failed");
                counters.failed.fetch_add(n, Ordering::Relaxed)
            }
        };
        for done in dones.into_iter().flatten() {
            let _ = done.send(result.clone());
        }
    }
}
