//! Tailing the audit log: cursors persisted in the store's meta table and the retry
//! backoff shared by the audit sinks and the event dispatcher.
//!
//! A cursor is the sequence number of the last record a consumer has finished with. It is
//! written only after delivery, so a restart re-reads from it: delivery is at least once
//! and no record is skipped.

use coffer_store::{Store, StoreError};
use std::time::Duration;

/// How often a consumer looks for new records when it is caught up.
pub const POLL: Duration = Duration::from_millis(200);
/// First retry delay.
pub const BACKOFF_START: Duration = Duration::from_millis(100);
/// Longest retry delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Where a consumer without a stored cursor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartAt {
    /// After the last record written so far (the default).
    #[default]
    Head,
    /// At the first record still in the log.
    Start,
}

/// Reads the cursor under `key`, or creates it (at the head or at 0) and stores it.
pub async fn init_cursor(store: &dyn Store, key: &str, start: StartAt) -> Result<u64, StoreError> {
    if let Some(raw) = store.get_meta(key).await? {
        if let Some(n) = std::str::from_utf8(&raw)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return Ok(n);
        }
        tracing::warn!(key, "unreadable cursor; starting again from the head");
    }
    let seq = match start {
        StartAt::Head => store.audit_head().await?.0,
        StartAt::Start => 0,
    };
    save_cursor(store, key, seq).await?;
    Ok(seq)
}

/// Stores the cursor under `key`.
pub async fn save_cursor(store: &dyn Store, key: &str, seq: u64) -> Result<(), StoreError> {
    store.put_meta(key, seq.to_string().as_bytes()).await
}

/// Exponential backoff: [`BACKOFF_START`] doubling up to [`BACKOFF_MAX`].
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: BACKOFF_START,
        }
    }
}

impl Backoff {
    /// The delay to wait now; the following one is twice as long (capped).
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        d
    }

    /// Back to the first delay (after a success).
    pub fn reset(&mut self) {
        self.next = BACKOFF_START;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_store::MemoryStore;

    #[test]
    fn backoff_doubles_to_the_cap() {
        let mut b = Backoff::default();
        let d: Vec<u64> = (0..12).map(|_| b.next_delay().as_millis() as u64).collect();
        assert_eq!(&d[..4], &[100, 200, 400, 800]);
        assert_eq!(*d.last().unwrap(), 30_000);
        b.reset();
        assert_eq!(b.next_delay(), BACKOFF_START);
    }

    #[tokio::test]
    async fn cursors_start_where_asked_and_persist() {
        let store = MemoryStore::new();
        assert_eq!(init_cursor(&store, "k", StartAt::Start).await.unwrap(), 0);
        save_cursor(&store, "k", 42).await.unwrap();
        assert_eq!(init_cursor(&store, "k", StartAt::Head).await.unwrap(), 42);
        assert_eq!(init_cursor(&store, "h", StartAt::Head).await.unwrap(), 0);
    }
}
