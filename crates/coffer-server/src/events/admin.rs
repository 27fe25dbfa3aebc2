//! The rule operations of `CofferAdmin` (admin-account keys only; checked by the caller):
//!
//! - `PutRule` `{"Rule": {…}}` → `{"Name", "Created"}`: adds the rule, or replaces the
//!   one with its name.
//! - `DeleteRule` `{"Name"}` → `{}`; `ResourceNotFoundException` if there is none.
//! - `ListRules` `{}` → `{"Rules": [...]}`, webhook secrets replaced by `REDACTED`.
//! - `TestEventPattern` `{"EventPattern", "Event"}` (each a JSON object or a string
//!   holding one) → `{"Result": bool}`.

use super::stored::{self, Rules};
use crate::AppState;
use bytes::Bytes;
use coffer_protocol::{ApiError, ErrorCode};
use serde_json::{Value, json};

/// Runs rule operation `op`; `None` if `op` is not one of them.
pub async fn handle(state: &AppState, op: &str, body: &[u8]) -> Option<Result<Bytes, ApiError>> {
    let result = match op {
        "PutRule" => put_rule(state, body).await,
        "DeleteRule" => delete_rule(state, body).await,
        "ListRules" => list_rules(state).await,
        "TestEventPattern" => test_event_pattern(body),
        _ => return None,
    };
    Some(result.and_then(|v| {
        serde_json::to_vec(&v)
            .map(Bytes::from)
            .map_err(|_| ApiError::internal())
    }))
}

fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::new(
            ErrorCode::SerializationException,
            "The request body must be a JSON object.",
        )),
    }
}

/// A JSON value given as itself or as a string holding it.
fn json_arg(v: Option<&Value>, name: &str) -> Result<Value, ApiError> {
    match v {
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|_| ApiError::param(format!("{name} is not valid JSON."))),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        _ => Err(ApiError::param(format!(
            "{name} is required (a JSON object)."
        ))),
    }
}

async fn put_rule(state: &AppState, body: &[u8]) -> Result<Value, ApiError> {
    let mut req = body_object(body)?;
    let rule = match req.remove("Rule") {
        Some(v @ Value::Object(_)) => v,
        _ => return Err(ApiError::param("Rule is required (a JSON object).")),
    };
    Rules::new(vec![rule.clone()]).map_err(|e| ApiError::param(e.to_string()))?;
    let name = rule
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let _guard = state.events.write.lock().await;
    let store = state.service.store();
    let current = stored::load(store.as_ref(), state.service.keyring()).await?;
    let mut docs = current.docs;
    let existing = docs
        .iter()
        .position(|d| d.get("name").and_then(Value::as_str) == Some(&name));
    let created = existing.is_none();
    match existing {
        Some(i) => docs[i] = rule,
        None => docs.push(rule),
    }
    let rules = Rules::new(docs).map_err(|e| ApiError::param(e.to_string()))?;
    stored::save(store.as_ref(), state.service.keyring(), &rules).await?;
    state.events.rules_changed();
    tracing::info!(rule = %name, created, "event rule stored");
    Ok(json!({"Name": name, "Created": created}))
}

async fn delete_rule(state: &AppState, body: &[u8]) -> Result<Value, ApiError> {
    let req = body_object(body)?;
    let Some(name) = req.get("Name").and_then(Value::as_str) else {
        return Err(ApiError::param("Name is required."));
    };
    let _guard = state.events.write.lock().await;
    let store = state.service.store();
    let current = stored::load(store.as_ref(), state.service.keyring()).await?;
    let before = current.docs.len();
    let docs: Vec<Value> = current
        .docs
        .into_iter()
        .filter(|d| d.get("name").and_then(Value::as_str) != Some(name))
        .collect();
    if docs.len() == before {
        return Err(ApiError::new(
            ErrorCode::ResourceNotFoundException,
            format!("No rule named {name:?}."),
        ));
    }
    let rules = Rules::new(docs).map_err(|e| ApiError::param(e.to_string()))?;
    stored::save(store.as_ref(), state.service.keyring(), &rules).await?;
    state.events.rules_changed();
    tracing::info!(rule = %name, "event rule deleted");
    Ok(json!({}))
}

async fn list_rules(state: &AppState) -> Result<Value, ApiError> {
    let store = state.service.store();
    let rules = stored::load(store.as_ref(), state.service.keyring()).await?;
    Ok(json!({"Rules": rules.redacted()}))
}

fn test_event_pattern(body: &[u8]) -> Result<Value, ApiError> {
    let req = body_object(body)?;
    let pattern = json_arg(req.get("EventPattern"), "EventPattern")?;
    let event = json_arg(req.get("Event"), "Event")?;
    let pattern = coffer_events::Pattern::parse(&pattern.to_string())
        .map_err(|e| ApiError::param(format!("Invalid EventPattern: {e}")))?;
    Ok(json!({"Result": pattern.matches(&event)}))
}
