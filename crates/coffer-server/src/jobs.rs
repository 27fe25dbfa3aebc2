//! Background jobs: purging secrets whose recovery window has ended; deleting KMS keys
//! whose waiting period has ended; signing audit digests;
//! audit retention.

use crate::AppState;
use std::time::Duration;

/// Starts the background jobs.
pub(crate) fn spawn(state: AppState) {
    spawn_audit(state.clone());
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
            match state.service.kms_delete_due_keys().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "deleted KMS keys whose waiting period ended"),
                Err(e) => tracing::warn!(error = %e, "KMS key deletion failed"),
            }
            match state.service.kms_rotate_due_keys().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rotated = n, "rotated KMS keys whose rotation was due"),
                Err(e) => tracing::warn!(error = %e, "KMS key rotation failed"),
            }
        }
    });
}

/// Signs the audit chain head every interval and applies retention once an hour.
pub(crate) fn spawn_audit(state: AppState) {
    let every = Duration::from_secs(state.config.audit_digest_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune: Option<std::time::Instant> = None;
        loop {
            tick.tick().await;
            if !state.service.keyring().is_unsealed() {
                continue;
            }
            if let Err(e) = state.service.write_audit_digest().await {
                tracing::warn!(error = %e, "audit digest failed");
            }
            if let Some(days) = state.config.audit_retention_days
                && last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600))
            {
                last_prune = Some(std::time::Instant::now());
                match state.service.prune_audit(days).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, days, "audit retention applied"),
                    Err(e) => tracing::warn!(error = %e, "audit retention failed"),
                }
            }
        }
    });
}
