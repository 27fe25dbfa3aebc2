//! Event rules at rest: the rule documents (JSON, as written by the operator) in the
//! store's meta table under [`RULES_KEY`], sealed under the root key because webhook
//! targets carry their signing secrets.

use coffer_events::{Rule, RuleError, RuleSet};
use coffer_protocol::ApiError;
use coffer_store::Store;
use serde_json::{Value, json};

/// Meta key of the sealed rules.
pub const RULES_KEY: &str = "events.rules";
/// Key-wrapping label of the sealed rules.
pub const SEAL_LABEL: &str = "coffer/event-rules/v1";
/// What replaces a webhook secret in listings.
pub const REDACTED: &str = "REDACTED";

/// Why rules could not be read, validated or written.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The rules do not validate.
    #[error(transparent)]
    Invalid(#[from] RuleError),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// Sealing or opening failed (sealed server, or a blob sealed under another root key).
    #[error("the rules could not be sealed or opened: {0}")]
    Seal(String),
    /// A rules file could not be read.
    #[error("reading {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        error: std::io::Error,
    },
}

impl From<RulesError> for ApiError {
    fn from(e: RulesError) -> ApiError {
        match e {
            RulesError::Invalid(e) => ApiError::param(e.to_string()),
            other => {
                tracing::error!(error = %other, "event rules unavailable");
                ApiError::internal()
            }
        }
    }
}

/// Validated rule documents: what is stored, and the compiled set.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The documents, in order.
    pub docs: Vec<Value>,
    /// The compiled rules.
    pub set: RuleSet,
}

impl Rules {
    /// Validates rule documents.
    pub fn new(docs: Vec<Value>) -> Result<Rules, RuleError> {
        let rules = docs
            .iter()
            .map(|d| serde_json::from_value::<Rule>(d.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RuleError::Json(e.to_string()))?;
        Ok(Rules {
            set: RuleSet::new(rules)?,
            docs,
        })
    }

    /// Parses a rules file `{"rules": [...]}`.
    pub fn parse_file(text: &str) -> Result<Rules, RuleError> {
        RuleSet::parse(text)?; // the file-level checks and their messages
        let v: Value = serde_json::from_str(text).map_err(|e| RuleError::Json(e.to_string()))?;
        let docs = v
            .get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Rules::new(docs)
    }

    /// Reads and parses a rules file.
    pub fn read_file(path: &std::path::Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|error| RulesError::Read {
            path: path.display().to_string(),
            error,
        })?;
        Ok(Rules::parse_file(&text)?)
    }

    /// The documents with webhook secrets replaced by [`REDACTED`].
    pub fn redacted(&self) -> Vec<Value> {
        let mut docs = self.docs.clone();
        for d in &mut docs {
            if let Some(targets) = d.get_mut("targets").and_then(Value::as_array_mut) {
                for t in targets {
                    if let Some(s) = t.get_mut("secret") {
                        *s = Value::String(REDACTED.to_owned());
                    }
                }
            }
        }
        docs
    }
}

/// The raw sealed blob (to notice changes without opening it), if any.
pub async fn raw(store: &dyn Store) -> Result<Option<Vec<u8>>, RulesError> {
    store
        .get_meta(RULES_KEY)
        .await
        .map_err(|e| RulesError::Store(e.to_string()))
}

/// Opens a sealed blob.
pub fn open(keyring: &coffer_service::Keyring, sealed: &[u8]) -> Result<Rules, RulesError> {
    let plain = keyring
        .unwrap(SEAL_LABEL, &[], sealed)
        .map_err(|e| RulesError::Seal(e.message))?;
    let v: Value =
        serde_json::from_slice(&plain).map_err(|e| RulesError::Seal(format!("not JSON: {e}")))?;
    let docs = v
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(Rules::new(docs)?)
}

/// The stored rules (none stored: empty).
pub async fn load(
    store: &dyn Store,
    keyring: &coffer_service::Keyring,
) -> Result<Rules, RulesError> {
    match raw(store).await? {
        Some(sealed) => open(keyring, &sealed),
        None => Ok(Rules::default()),
    }
}

/// Seals and stores rule documents (replacing the stored ones).
pub async fn save(
    store: &dyn Store,
    keyring: &coffer_service::Keyring,
    rules: &Rules,
) -> Result<(), RulesError> {
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(&json!({ "rules": rules.docs }))
            .map_err(|e| RulesError::Seal(e.to_string()))?,
    );
    let sealed = keyring
        .wrap(SEAL_LABEL, &[], &plain)
        .map_err(|e| RulesError::Seal(e.message))?;
    store
        .put_meta(RULES_KEY, &sealed)
        .await
        .map_err(|e| RulesError::Store(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_hide_webhook_secrets() {
        let r = Rules::parse_file(
            r#"{"rules":[{"name":"a","event_pattern":{"source":["coffer.iam"]},
                "targets":[{"type":"webhook","url":"http://h/x","secret":"k1"},{"type":"log"}]}]}"#,
        )
        .unwrap();
        let text = serde_json::to_string(&r.redacted()).unwrap();
        assert!(!text.contains("k1") && text.contains(REDACTED), "{text}");
        assert!(Rules::parse_file(r#"{"rules":[{"name":"b c","event_pattern":{}}]}"#).is_err());
    }
}
