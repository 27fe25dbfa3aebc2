//! Event rules: a dispatcher tails the audit log from the meta cursor [`CURSOR_KEY`]
//! (created at the log's head when the server first runs with this feature), maps each
//! record to EventBridge-style events with [`coffer_events::events_from_record`], matches
//! them against the stored rules and delivers them to the rules' targets.
//!
//! Rules live sealed in the store ([`stored`]); they are replaced at start by
//! `--rules-file` and changed at runtime by the `CofferAdmin.PutRule`/`DeleteRule`
//! operations ([`admin`]). The dispatcher re-reads them every [`RELOAD`], and at once on
//! the node that changed them. While the server is sealed nothing is dispatched (the
//! rules cannot be opened); records wait in the log.

pub mod admin;
pub mod deliver;
pub mod stored;

use crate::AppState;
use crate::tail::{Backoff, POLL, StartAt, init_cursor, save_cursor};
use coffer_events::MappingConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use stored::{Rules, RulesError};

/// Meta key of the dispatcher's cursor.
pub const CURSOR_KEY: &str = "events.cursor";
/// How often stored rules are checked for changes made by other nodes.
pub const RELOAD: Duration = Duration::from_secs(2);
/// Records read per batch.
const BATCH: usize = 100;

/// Signals from the admin operations to this node's dispatcher.
#[derive(Debug, Default)]
pub struct EventsSignal {
    dirty: AtomicBool,
    wake: tokio::sync::Notify,
    /// Serializes read-modify-write of the stored rules on this node.
    pub(crate) write: tokio::sync::Mutex<()>,
}

impl EventsSignal {
    /// Tells the dispatcher that the stored rules changed.
    pub fn rules_changed(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// Settings of the dispatcher.
#[derive(Debug, Clone, Default)]
pub struct EventsOptions {
    /// ARN globs of break-glass principals (`--break-glass-principal`).
    pub break_glass_principals: Vec<String>,
    /// Rules from `--rules-file`, replacing the stored ones (stored once unsealed).
    pub file_rules: Option<Rules>,
}

/// Why the dispatcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// The rules could not be stored.
    #[error("event rules: {0}")]
    Rules(#[from] RulesError),
    /// The cursor could not be read or created.
    #[error("event dispatcher cursor: {0}")]
    Cursor(String),
}

/// Creates the cursor (at the head on first use), stores `--rules-file` rules if the
/// server is unsealed, and starts the dispatcher task.
pub async fn start(state: &AppState, options: EventsOptions) -> Result<(), EventsError> {
    let store = state.service.store();
    let cursor = init_cursor(store.as_ref(), CURSOR_KEY, StartAt::Head)
        .await
        .map_err(|e| EventsError::Cursor(e.to_string()))?;
    let mut pending = options.file_rules;
    if state.service.keyring().is_unsealed()
        && let Some(rules) = pending.take()
    {
        stored::save(store.as_ref(), state.service.keyring(), &rules).await?;
        tracing::info!(
            rules = rules.docs.len(),
            "event rules loaded from the rules file"
        );
    }
    let client = crate::sinks::webhook::client().map_err(|e| EventsError::Cursor(e.to_string()))?;
    let d = Dispatcher {
        state: state.clone(),
        mapping: MappingConfig {
            break_glass_principals: options.break_glass_principals,
        },
        rules: Rules::default(),
        loaded: None,
        pending,
        client,
        cursor,
    };
    tokio::spawn(d.run());
    Ok(())
}

struct Dispatcher {
    state: AppState,
    mapping: MappingConfig,
    rules: Rules,
    /// The sealed blob the rules were opened from.
    loaded: Option<Vec<u8>>,
    /// `--rules-file` rules not yet stored (the server was sealed at start).
    pending: Option<Rules>,
    client: reqwest::Client,
    cursor: u64,
}

impl Dispatcher {
    async fn run(mut self) {
        let signal = std::sync::Arc::clone(&self.state.events);
        let store = std::sync::Arc::clone(self.state.service.store());
        let mut last_reload: Option<Instant> = None;
        let mut backoff = Backoff::default();
        loop {
            if !self.state.service.keyring().is_unsealed() {
                last_reload = None;
                tokio::time::sleep(POLL).await;
                continue;
            }
            if let Some(rules) = self.pending.take()
                && let Err(e) =
                    stored::save(store.as_ref(), self.state.service.keyring(), &rules).await
            {
                tracing::warn!(error = %e, "storing the rules file failed; retrying");
                self.pending = Some(rules);
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
            if signal.dirty.swap(false, Ordering::SeqCst)
                || last_reload.is_none_or(|t| t.elapsed() >= RELOAD)
            {
                last_reload = Some(Instant::now());
                self.reload().await;
            }
            let rows = match store.audit_range(self.cursor, BATCH).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "event dispatcher: reading the log failed");
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            };
            let Some(last) = rows.last().map(|r| r.seq) else {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = signal.wake.notified() => {}
                }
                continue;
            };
            for row in &rows {
                if self.dispatch(&row.entry.json).await {
                    // Deliveries happened: do not repeat them after a restart.
                    self.save(row.seq).await;
                }
            }
            self.save(last).await;
            backoff.reset();
        }
    }

    /// Re-reads the rules if the stored blob changed; keeps the old ones on errors.
    async fn reload(&mut self) {
        let store = self.state.service.store();
        let raw = match stored::raw(store.as_ref()).await {
            Ok(raw) => raw,
            Err(e) => {
                tracing::warn!(error = %e, "event rules: reading failed");
                return;
            }
        };
        if raw == self.loaded {
            return;
        }
        let rules = match &raw {
            None => Ok(Rules::default()),
            Some(sealed) => stored::open(self.state.service.keyring(), sealed),
        };
        match rules {
            Ok(rules) => {
                tracing::info!(rules = rules.docs.len(), "event rules loaded");
                self.rules = rules;
                self.loaded = raw;
            }
            Err(e) => tracing::warn!(error = %e, "event rules: keeping the previous rules"),
        }
    }

    /// Maps one record and delivers its events; returns whether any target was tried.
    async fn dispatch(&self, json: &str) -> bool {
        if self.rules.set.is_empty() {
            return false;
        }
        let Ok(record) = serde_json::from_str::<serde_json::Value>(json) else {
            return false;
        };
        let mut tried = false;
        for event in coffer_events::events_from_record(&record, &self.mapping) {
            for rule in self.rules.set.matching(&event) {
                for (i, target) in rule.targets.iter().enumerate() {
                    tried = true;
                    deliver::deliver(&self.client, &rule.name, i, target, &event).await;
                }
            }
        }
        tried
    }

    async fn save(&mut self, seq: u64) {
        if seq <= self.cursor {
            return;
        }
        let store = self.state.service.store();
        let mut backoff = Backoff::default();
        while let Err(e) = save_cursor(store.as_ref(), CURSOR_KEY, seq).await {
            tracing::warn!(error = %e, "event dispatcher: saving the cursor failed");
            tokio::time::sleep(backoff.next_delay()).await;
        }
        self.cursor = seq;
    }
}
