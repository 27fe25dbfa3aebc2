//! The record of a call in progress: everything known when the request arrives, finished
//! with the outcome either inside the transaction of the write it describes or after the
//! call.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::chain::AuditEntry;
use crate::params::redact_elements;
use crate::record::{Record, Resource};

/// A call's record before its outcome is known.
#[derive(Debug)]
pub struct AuditDraft {
    record: Record,
    time_ms: i64,
    committed: AtomicBool,
    /// The resource the call resolved (set once the caller was allowed to see it).
    resolved: OnceLock<String>,
}

impl AuditDraft {
    /// A draft of `record` (identity, request, ids filled) for a call at `time_ms`.
    pub fn new(record: Record, time_ms: i64) -> AuditDraft {
        AuditDraft {
            record,
            time_ms,
            committed: AtomicBool::new(false),
            resolved: OnceLock::new(),
        }
    }

    /// The record as drafted.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Notes the ARN of the resource the call acts on (the first one noted is kept).
    pub fn note_resource(&self, arn: &str) {
        let _ = self.resolved.set(arn.to_owned());
    }

    fn base(&self) -> Record {
        let mut r = self.record.clone();
        if r.resources.is_empty()
            && let Some(res) = self.resolved.get().and_then(|a| resource_of(a))
        {
            r.resources.push(res);
        }
        r
    }

    /// The entry of a successful call whose response body (AWS JSON, PascalCase) is
    /// `response`; read-only calls record no response elements.
    pub fn success(&self, response: Option<&Value>) -> AuditEntry {
        let mut r = self.base();
        if let Some(resp) = response {
            add_resources(&mut r, resp);
            if !r.read_only {
                r.response_elements = redact_elements(resp);
            }
        }
        entry(&r, self.time_ms)
    }

    /// The entry of a failed call.
    pub fn failure(&self, code: &str, message: &str) -> AuditEntry {
        let mut r = self.base();
        r.error_code = Some(code.to_owned());
        r.error_message = Some(message.to_owned());
        entry(&r, self.time_ms)
    }

    /// Marks the record as written (inside the transaction of the call's write), so the
    /// caller does not write it again.
    pub fn mark_committed(&self) {
        self.committed.store(true, Ordering::Release);
    }

    /// True once [`AuditDraft::mark_committed`] was called.
    pub fn is_committed(&self) -> bool {
        self.committed.load(Ordering::Acquire)
    }
}

/// Adds the resource named by a response's `ARN` when the record names none yet.
fn add_resources(r: &mut Record, resp: &Value) {
    if !r.resources.is_empty() {
        return;
    }
    if let Some(res) = resp
        .get("ARN")
        .and_then(Value::as_str)
        .and_then(resource_of)
    {
        r.resources.push(res);
    }
}

/// The `resources` entry for an ARN Coffer knows the type of.
pub fn resource_of(arn: &str) -> Option<Resource> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, account, rest) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let kind = match (service, rest.split([':', '/']).next()?) {
        ("secretsmanager", "secret") => "AWS::SecretsManager::Secret",
        ("kms", "key") => "AWS::KMS::Key",
        ("iam", "user") => "AWS::IAM::User",
        ("iam", "role") => "AWS::IAM::Role",
        ("iam", "group") => "AWS::IAM::Group",
        ("iam", "policy") => "AWS::IAM::Policy",
        _ => return None,
    };
    Some(Resource {
        account_id: account.to_owned(),
        kind: kind.to_owned(),
        arn: arn.to_owned(),
    })
}

/// Serializes a finished record into the entry the store appends.
pub fn entry(r: &Record, time_ms: i64) -> AuditEntry {
    let mut names: Vec<String> = Vec::new();
    for res in &r.resources {
        names.push(res.arn.clone());
        if let Some(name) = secret_name_of(&res.arn) {
            names.push(name.to_owned());
        }
    }
    for key in [
        "secretId",
        "name",
        "userName",
        "roleName",
        "groupName",
        "policyArn",
        "keyId",
    ] {
        if let Some(v) = r.request_parameters.get(key).and_then(Value::as_str)
            && !names.iter().any(|n| n == v)
        {
            names.push(v.to_owned());
        }
    }
    AuditEntry {
        account_id: r.recipient_account_id.clone(),
        time_ms,
        event_id: r.event_id.clone(),
        event_name: r.event_name.clone(),
        username: r.lookup_username(),
        access_key_id: r.user_identity.access_key_id.clone().unwrap_or_default(),
        read_only: r.read_only,
        resources: names,
        // A Record always serializes (string keys, no non-finite floats).
        json: serde_json::to_string(r).unwrap_or_default(),
    }
}

/// The secret name inside a secret ARN (`…:secret:NAME-abcdef` → `NAME`).
pub fn secret_name_of(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":secret:")?.1;
    let cut = rest.len().checked_sub(7)?;
    (rest.as_bytes().get(cut) == Some(&b'-')).then(|| &rest[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(read_only: bool) -> AuditDraft {
        let mut r = Record::new("secretsmanager.amazonaws.com", "PutSecretValue");
        r.read_only = read_only;
        r.recipient_account_id = "111111111111".into();
        r.request_parameters = json!({"secretId": "db", "secretString": crate::HIDDEN});
        AuditDraft::new(r, 5)
    }

    #[test]
    fn success_records_redacted_response_and_resources() {
        let arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db/prod-AbCdEf";
        let e = draft(false).success(Some(
            &json!({"ARN": arn, "Name": "db/prod", "VersionId": "v"}),
        ));
        let v: Value = serde_json::from_str(&e.json).unwrap();
        assert_eq!(
            v["responseElements"],
            json!({"arn": arn, "name": "db/prod", "versionId": "v"})
        );
        assert_eq!(v["resources"][0]["type"], "AWS::SecretsManager::Secret");
        assert_eq!(
            e.resources,
            vec![arn.to_owned(), "db/prod".into(), "db".into()]
        );
        assert!(v.get("errorCode").is_none());
    }

    #[test]
    fn reads_have_no_response_elements_and_failures_carry_the_error() {
        let e = draft(true).success(Some(&json!({"SecretString": "x", "ARN": "a"})));
        let v: Value = serde_json::from_str(&e.json).unwrap();
        assert_eq!(v["responseElements"], Value::Null);
        let e = draft(false).failure("ResourceNotFoundException", "not found");
        let v: Value = serde_json::from_str(&e.json).unwrap();
        assert_eq!(v["errorCode"], "ResourceNotFoundException");
        assert_eq!(v["responseElements"], Value::Null);
    }

    #[test]
    fn secret_names_come_out_of_arns() {
        assert_eq!(
            secret_name_of("arn:aws:secretsmanager:r:1:secret:a/b-c-123456"),
            Some("a/b-c")
        );
        assert_eq!(
            secret_name_of("arn:aws:secretsmanager:r:1:secret:abc"),
            None
        );
    }

    #[test]
    fn committed_flag() {
        let d = draft(false);
        assert!(!d.is_committed());
        d.mark_committed();
        assert!(d.is_committed());
    }
}
