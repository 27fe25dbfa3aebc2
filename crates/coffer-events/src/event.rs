//! Events in Amazon EventBridge's envelope.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Source of events about secrets (`secretsmanager.amazonaws.com` records).
pub const SOURCE_SECRETS_MANAGER: &str = "coffer.secretsmanager";
/// Source of events about KMS keys (`kms.amazonaws.com` records).
pub const SOURCE_KMS: &str = "coffer.kms";
/// Source of events about IAM (`iam.amazonaws.com` records).
pub const SOURCE_IAM: &str = "coffer.iam";

/// One event, serialized exactly like an EventBridge event:
///
/// ```json
/// {"version":"0","id":"…","detail-type":"Secret Created","source":"coffer.secretsmanager",
///  "account":"111122223333","time":"2026-11-25T14:20:19Z","region":"us-east-1",
///  "resources":["arn:aws:secretsmanager:…"],"detail":{…}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Always `"0"`.
    pub version: String,
    /// A UUID, unique per event (see [`crate::events_from_record`] for how it is derived).
    pub id: String,
    /// What happened, e.g. `"Secret Created"`.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// One of [`SOURCE_SECRETS_MANAGER`], [`SOURCE_KMS`], [`SOURCE_IAM`].
    pub source: String,
    /// The 12-digit account the event belongs to.
    pub account: String,
    /// When it happened, `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    /// The region it happened in.
    pub region: String,
    /// ARNs of the resources involved.
    pub resources: Vec<String>,
    /// Event-specific details (a JSON object).
    pub detail: Value,
}

impl Event {
    /// The event as a JSON value (what patterns are matched against).
    pub fn to_value(&self) -> Value {
        // Serializing strings, a Vec<String> and a Value cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The event as compact JSON text (what targets receive).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shape_and_field_order() {
        let e = Event {
            version: "0".into(),
            id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718".into(),
            detail_type: "Secret Created".into(),
            source: SOURCE_SECRETS_MANAGER.into(),
            account: "111122223333".into(),
            time: "2026-11-25T14:20:19Z".into(),
            region: "us-east-1".into(),
            resources: vec![
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf".into(),
            ],
            detail: json!({"eventName": "CreateSecret"}),
        };
        let text = e.to_json();
        assert!(text.starts_with(
            r#"{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Secret Created","source":"coffer.secretsmanager","account":"111122223333","time":"2026-11-25T14:20:19Z","region":"us-east-1","resources":["#
        ));
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
        assert_eq!(e.to_value()["detail-type"], "Secret Created");
    }
}
