//! Background jobs: purging secrets whose recovery window has ended.

use crate::AppState;
use std::time::Duration;

/// Starts the background jobs.
pub(crate) fn spawn(state: AppState) {
    let every = Duration::from_secs(state.config.purge_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !state.service.keyring().is_unsealed() {
                continue;
            }
            match state.service.purge_due().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "purged secrets whose recovery window ended"),
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
        }
    });
}
