//! Audit sinks (`--audit-sink`): each sink tails the audit log from its own cursor
//! (meta key `audit.sink.<id>.cursor`) and delivers every record, in sequence order, at
//! least once. The cursor moves only after a batch was delivered; a failing sink retries
//! the same batch with exponential backoff (100 ms doubling to 30 s) for as long as it
//! takes. Record contents are never logged.

pub mod file;
pub mod spec;
pub mod stdout;
pub mod syslog;
pub mod webhook;

pub use spec::{SinkKind, SinkSpec, SpecError, Transport};

use crate::AppState;
use crate::tail::{Backoff, POLL, init_cursor, save_cursor};
use coffer_audit::AuditRow;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Records per batch for sinks without a `batch` option.
const BATCH: usize = 500;

/// Why a delivery (or setting up a sink) failed. Never carries record contents.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A file, socket or pipe error.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The syslog host name did not resolve.
    #[error("the address did not resolve")]
    Resolve,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The HTTP request failed (connection, TLS, timeout).
    #[error("http: {0}")]
    Http(String),
    /// The receiver answered with a status other than 2xx.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    /// The store could not be read or the cursor not written.
    #[error("store: {0}")]
    Store(String),
    /// A worker went away.
    #[error("the sink is shutting down")]
    Stopped,
}

/// A configured sink.
#[derive(Debug)]
enum Sink {
    File(file::FileSink),
    Stdout(stdout::StdoutSink),
    Syslog(syslog::SyslogSink),
    Webhook {
        sink: webhook::WebhookSink,
        batch: usize,
        interval: Duration,
    },
}

impl Sink {
    fn build(spec: &SinkSpec) -> Result<Sink, SinkError> {
        Ok(match &spec.kind {
            SinkKind::File {
                path,
                max_bytes,
                max_files,
            } => Sink::File(file::FileSink::new(path.clone(), *max_bytes, *max_files)?),
            SinkKind::Stdout => Sink::Stdout(stdout::StdoutSink),
            SinkKind::Syslog { transport, address } => {
                Sink::Syslog(syslog::SyslogSink::new(*transport, address.clone()))
            }
            SinkKind::Webhook {
                url,
                batch,
                interval,
                secret_env,
            } => {
                // Checked by the spec parser; read again so the value is not kept twice.
                let secret = Zeroizing::new(std::env::var(secret_env).unwrap_or_default());
                Sink::Webhook {
                    sink: webhook::WebhookSink::new(url.clone(), secret)?,
                    batch: *batch,
                    interval: *interval,
                }
            }
        })
    }

    fn batch(&self) -> usize {
        match self {
            Sink::Webhook { batch, .. } => *batch,
            _ => BATCH,
        }
    }

    fn linger(&self) -> Duration {
        match self {
            Sink::Webhook { interval, .. } => *interval,
            _ => Duration::ZERO,
        }
    }

    async fn deliver(&mut self, rows: &[AuditRow]) -> Result<(), SinkError> {
        let lines = || rows.iter().map(|r| r.entry.json.clone()).collect();
        match self {
            Sink::File(s) => s.deliver(lines()).await,
            Sink::Stdout(s) => s.deliver(lines()).await,
            Sink::Syslog(s) => s.deliver(rows).await,
            Sink::Webhook { sink, .. } => {
                let texts: Vec<&str> = rows.iter().map(|r| r.entry.json.as_str()).collect();
                sink.deliver(&texts).await
            }
        }
    }
}

/// Why the sinks could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A sink could not be set up (e.g. its file cannot be opened).
    #[error("audit sink {name}: {error}")]
    Sink {
        /// The sink.
        name: String,
        /// Why.
        #[source]
        error: SinkError,
    },
}

/// Sets up every sink (opening files, creating cursors) and starts their tasks. Cursors
/// are created before the server accepts calls, so a new sink's first record is the first
/// call after start (or the log's first record with `from=start`).
pub async fn start(state: &AppState, specs: Vec<SinkSpec>) -> Result<(), StartError> {
    for spec in specs {
        let fail = |error| StartError::Sink {
            name: spec.name.clone(),
            error,
        };
        let sink = Sink::build(&spec).map_err(fail)?;
        let key = spec.cursor_key();
        let cursor = init_cursor(state.service.store().as_ref(), &key, spec.start)
            .await
            .map_err(|e| fail(SinkError::Store(e.to_string())))?;
        tracing::info!(sink = %spec.name, cursor, "audit sink started");
        tokio::spawn(run(state.clone(), sink, spec.name, key, cursor));
    }
    Ok(())
}

/// The loop of one sink: read a batch after the cursor, deliver it, move the cursor.
async fn run(state: AppState, mut sink: Sink, name: String, key: String, mut cursor: u64) {
    let store = std::sync::Arc::clone(state.service.store());
    let mut backoff = Backoff::default();
    let mut waiting_since: Option<Instant> = None;
    loop {
        let head = match store.audit_head().await {
            Ok((h, _)) => h,
            Err(e) => {
                tracing::warn!(sink = %name, error = %e, "audit sink: reading the log failed");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        state
            .metrics
            .set_audit_sink_lag(&name, head.saturating_sub(cursor));
        if head <= cursor {
            waiting_since = None;
            tokio::time::sleep(POLL).await;
            continue;
        }
        // A webhook waits up to its interval for a full batch.
        let linger = sink.linger();
        if head - cursor < sink.batch() as u64 && !linger.is_zero() {
            let since = *waiting_since.get_or_insert_with(Instant::now);
            if let Some(left) = linger.checked_sub(since.elapsed()).filter(|d| !d.is_zero()) {
                tokio::time::sleep(left.min(POLL)).await;
                continue;
            }
        }
        let rows = match store.audit_range(cursor, sink.batch()).await {
            Ok(rows) if !rows.is_empty() => rows,
            Ok(_) => {
                tokio::time::sleep(POLL).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(sink = %name, error = %e, "audit sink: reading the log failed");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        if rows[0].seq > cursor + 1 {
            tracing::warn!(sink = %name, first_missing = cursor + 1, next = rows[0].seq,
                "audit sink: records were removed by retention before delivery");
        }
        if let Err(e) = sink.deliver(&rows).await {
            let delay = backoff.next_delay();
            tracing::warn!(sink = %name, error = %e, retry_in_ms = delay.as_millis() as u64,
                "audit sink delivery failed; retrying");
            tokio::time::sleep(delay).await;
            continue;
        }
        let last = rows[rows.len() - 1].seq;
        while let Err(e) = save_cursor(store.as_ref(), &key, last).await {
            tracing::warn!(sink = %name, error = %e, "audit sink: saving the cursor failed");
            tokio::time::sleep(backoff.next_delay()).await;
        }
        backoff.reset();
        cursor = last;
        waiting_since = None;
        state
            .metrics
            .set_audit_sink_lag(&name, head.saturating_sub(cursor));
    }
}
