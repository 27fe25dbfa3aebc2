//! Audit records (CloudTrail format) → Coffer events.

mod policy;

use crate::event::{Event, SOURCE_IAM, SOURCE_KMS, SOURCE_SECRETS_MANAGER};
use crate::pattern::Glob;
use ring::digest;
use serde_json::{Map, Value};

/// The `detail-type` strings of Coffer events.
pub mod detail_type {
    /// CreateSecret succeeded.
    pub const SECRET_CREATED: &str = "Secret Created";
    /// PutSecretValue, UpdateSecret, UpdateSecretVersionStage, TagResource or UntagResource
    /// succeeded.
    pub const SECRET_UPDATED: &str = "Secret Updated";
    /// DeleteSecret succeeded with a recovery window.
    pub const SECRET_DELETION_SCHEDULED: &str = "Secret Deletion Scheduled";
    /// DeleteSecret succeeded with `ForceDeleteWithoutRecovery`, or the service purged a
    /// secret (`EndSecretVersionDelete`, `SecretPurged`).
    pub const SECRET_DELETED: &str = "Secret Deleted";
    /// RestoreSecret succeeded.
    pub const SECRET_RESTORED: &str = "Secret Restored";
    /// Service event `RotationStarted`, or RotateSecret succeeded.
    pub const ROTATION_STARTED: &str = "Rotation Started";
    /// Service event `RotationSucceeded`.
    pub const ROTATION_SUCCEEDED: &str = "Rotation Succeeded";
    /// Service event `RotationFailed`.
    pub const ROTATION_FAILED: &str = "Rotation Failed";
    /// A call refused because the secret is scheduled for deletion.
    pub const SECRET_ACCESSED_WHILE_PENDING_DELETION: &str =
        "Secret Accessed While Pending Deletion";
    /// PutResourcePolicy or DeleteResourcePolicy succeeded.
    pub const RESOURCE_POLICY_CHANGED: &str = "Resource Policy Changed";
    /// PutResourcePolicy granted access to another account or to `*`.
    pub const FOREIGN_ACCOUNT_GRANTED: &str = "Foreign Account Granted";
    /// KMS DisableKey succeeded.
    pub const KMS_KEY_DISABLED: &str = "KMS Key Disabled";
    /// KMS ScheduleKeyDeletion succeeded.
    pub const KMS_KEY_DELETION_SCHEDULED: &str = "KMS Key Deletion Scheduled";
    /// DeleteSecret or ScheduleKeyDeletion succeeded for the account's root user.
    pub const DELETION_BY_ROOT: &str = "Deletion By Root";
    /// DeleteSecret or ScheduleKeyDeletion succeeded for a configured break-glass principal.
    pub const DELETION_BY_BREAK_GLASS_PRINCIPAL: &str = "Deletion By Break-Glass Principal";
}

use detail_type as dt;

/// Options of [`events_from_record`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingConfig {
    /// ARN globs (`*` matches any run of characters) of break-glass principals: their
    /// deletions also raise "Deletion By Break-Glass Principal". Compared with
    /// `userIdentity.arn`.
    pub break_glass_principals: Vec<String>,
}

/// Maps one audit record to zero or more events (the main event first, then derived ones:
/// "Foreign Account Granted", "Deletion By Root", "Deletion By Break-Glass Principal").
///
/// Records from other services, read-only and unknown calls, and failed calls (with an
/// `errorCode`) give no event, except a Secrets Manager call refused because the secret is
/// marked for deletion. Service events (`eventType` `AwsServiceEvent`) are mapped even
/// when they carry an error.
///
/// The event id is derived from the record's `eventID` and the detail-type (SHA-256,
/// shaped as a version-8 UUID), so delivering the same record twice gives the same ids.
pub fn events_from_record(record: &Value, config: &MappingConfig) -> Vec<Event> {
    let Some(rec) = record.as_object() else {
        return Vec::new();
    };
    let source = match str_at(rec, "eventSource") {
        Some("secretsmanager.amazonaws.com") => SOURCE_SECRETS_MANAGER,
        Some("kms.amazonaws.com") => SOURCE_KMS,
        Some("iam.amazonaws.com") => SOURCE_IAM,
        _ => return Vec::new(),
    };
    let secrets = source == SOURCE_SECRETS_MANAGER;
    let name = str_at(rec, "eventName").unwrap_or_default();
    let error_code = str_at(rec, "errorCode").filter(|c| !c.is_empty());
    let service_event = str_at(rec, "eventType") == Some("AwsServiceEvent");
    let request = rec.get("requestParameters").and_then(Value::as_object);

    let mut types: Vec<&'static str> = Vec::new();
    let mut foreign: Vec<String> = Vec::new();
    let mut deletion = false;
    if service_event {
        if secrets {
            types.extend(match name {
                "RotationStarted" => Some(dt::ROTATION_STARTED),
                "RotationSucceeded" => Some(dt::ROTATION_SUCCEEDED),
                "RotationFailed" => Some(dt::ROTATION_FAILED),
                "EndSecretVersionDelete" | "SecretPurged" => Some(dt::SECRET_DELETED),
                _ => None,
            });
        }
    } else if let Some(code) = error_code {
        let message = str_at(rec, "errorMessage").unwrap_or_default();
        if secrets
            && code == "InvalidRequestException"
            && message.to_ascii_lowercase().contains("marked for deletion")
        {
            types.push(dt::SECRET_ACCESSED_WHILE_PENDING_DELETION);
        }
    } else if secrets {
        match name {
            "CreateSecret" => types.push(dt::SECRET_CREATED),
            "PutSecretValue"
            | "UpdateSecret"
            | "UpdateSecretVersionStage"
            | "TagResource"
            | "UntagResource" => types.push(dt::SECRET_UPDATED),
            "DeleteSecret" => {
                let force = request.and_then(|r| r.get("forceDeleteWithoutRecovery"));
                let force = match force {
                    Some(Value::Bool(b)) => *b,
                    Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                    _ => false,
                };
                types.push(if force {
                    dt::SECRET_DELETED
                } else {
                    dt::SECRET_DELETION_SCHEDULED
                });
                deletion = true;
            }
            "RestoreSecret" => types.push(dt::SECRET_RESTORED),
            "RotateSecret" => types.push(dt::ROTATION_STARTED),
            "PutResourcePolicy" => {
                types.push(dt::RESOURCE_POLICY_CHANGED);
                let recipient = str_at(rec, "recipientAccountId");
                if let Some(doc) = request.and_then(|r| r.get("resourcePolicy")) {
                    foreign = policy::granted_accounts(doc)
                        .into_iter()
                        .filter(|a| Some(a.as_str()) != recipient)
                        .collect();
                }
                if !foreign.is_empty() {
                    types.push(dt::FOREIGN_ACCOUNT_GRANTED);
                }
            }
            "DeleteResourcePolicy" => types.push(dt::RESOURCE_POLICY_CHANGED),
            _ => {}
        }
    } else if source == SOURCE_KMS {
        match name {
            "DisableKey" => types.push(dt::KMS_KEY_DISABLED),
            "ScheduleKeyDeletion" => {
                types.push(dt::KMS_KEY_DELETION_SCHEDULED);
                deletion = true;
            }
            _ => {}
        }
    }
    if deletion {
        let identity = rec.get("userIdentity");
        if identity.and_then(|i| i.get("type")).and_then(Value::as_str) == Some("Root") {
            types.push(dt::DELETION_BY_ROOT);
        }
        let arn = identity.and_then(|i| i.get("arn")).and_then(Value::as_str);
        if arn.is_some_and(|arn| is_break_glass(arn, config)) {
            types.push(dt::DELETION_BY_BREAK_GLASS_PRINCIPAL);
        }
    }
    if types.is_empty() {
        return Vec::new();
    }

    let detail = base_detail(rec, source, service_event);
    let resources: Vec<String> = match rec.get("resources") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|r| r.get("ARN").or_else(|| r.get("arn")))
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let account = str_at(rec, "recipientAccountId")
        .or_else(|| rec.get("userIdentity")?.get("accountId")?.as_str())
        .unwrap_or_default();
    types
        .into_iter()
        .map(|kind| {
            let mut detail = detail.clone();
            if kind == dt::FOREIGN_ACCOUNT_GRANTED {
                detail.insert("foreignAccounts".into(), foreign.clone().into());
            }
            Event {
                version: "0".into(),
                id: event_id(record, kind),
                detail_type: kind.into(),
                source: source.into(),
                account: account.into(),
                time: str_at(rec, "eventTime").unwrap_or_default().into(),
                region: str_at(rec, "awsRegion").unwrap_or_default().into(),
                resources: resources.clone(),
                detail: Value::Object(detail),
            }
        })
        .collect()
}

fn str_at<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

fn is_break_glass(arn: &str, config: &MappingConfig) -> bool {
    config
        .break_glass_principals
        .iter()
        .any(|g| Glob::parse_plain(g).matches(arn))
}

/// What every event of the record carries: identifiers, who, what resource, the error
/// and service details. Never the request or response as a whole.
fn base_detail(rec: &Map<String, Value>, source: &str, service_event: bool) -> Map<String, Value> {
    let mut d = Map::new();
    for key in ["eventName", "eventID", "requestID"] {
        if let Some(v) = rec.get(key).filter(|v| !v.is_null()) {
            d.insert(key.into(), v.clone());
        }
    }
    if let Some(identity) = rec.get("userIdentity").filter(|v| v.is_object()) {
        d.insert("userIdentity".into(), identity.clone());
    }
    let request = rec.get("requestParameters").and_then(Value::as_object);
    let response = rec.get("responseElements").and_then(Value::as_object);
    let service = rec.get("serviceEventDetails").and_then(Value::as_object);
    let extra = rec.get("additionalEventData").and_then(Value::as_object);
    let field = |m: Option<&Map<String, Value>>, k: &str| -> Option<String> {
        let s = m?.get(k)?.as_str()?;
        (!s.is_empty() && s != "HIDDEN_DUE_TO_SECURITY_REASONS").then(|| s.to_string())
    };
    let resource_arn = |kind: &str| -> Option<String> {
        rec.get("resources")?
            .as_array()?
            .iter()
            .find(|r| r.get("type").and_then(Value::as_str) == Some(kind))
            .and_then(|r| r.get("ARN").or_else(|| r.get("arn")))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if source == SOURCE_SECRETS_MANAGER {
        // Where a secret may be named, most specific first.
        let ids = [
            field(request, "secretId"),
            field(response, "arn"),
            field(service, "secretArn"),
            field(service, "secretId"),
            field(service, "SecretId"),
            field(extra, "SecretId"),
        ];
        let arn = resource_arn("AWS::SecretsManager::Secret").or_else(|| {
            ids.iter()
                .flatten()
                .find(|s| s.starts_with("arn:"))
                .cloned()
        });
        let name = field(request, "name")
            .or_else(|| field(response, "name"))
            .or_else(|| {
                ids.iter()
                    .flatten()
                    .find(|s| !s.starts_with("arn:"))
                    .cloned()
            })
            .or_else(|| arn.as_deref().and_then(name_from_arn));
        if let Some(arn) = arn {
            d.insert("secretArn".into(), arn.into());
        }
        if let Some(name) = name {
            d.insert("secretName".into(), name.into());
        }
    } else if source == SOURCE_KMS {
        let arn = resource_arn("AWS::KMS::Key")
            .or_else(|| field(response, "keyId").filter(|k| k.starts_with("arn:")));
        if let Some(arn) = arn {
            d.insert("keyArn".into(), arn.into());
        }
        if let Some(id) = field(request, "keyId") {
            d.insert("keyId".into(), id.into());
        }
    }
    for key in ["errorCode", "errorMessage"] {
        if let Some(v) = rec.get(key).filter(|v| !v.is_null()) {
            d.insert(key.into(), v.clone());
        }
    }
    if let Some(details) = rec
        .get("serviceEventDetails")
        .filter(|v| service_event && !v.is_null())
    {
        d.insert("serviceEventDetails".into(), details.clone());
    }
    d
}

/// `arn:…:secret:NAME-AbCdEf` → `NAME` (the six-character suffix Secrets Manager adds).
fn name_from_arn(arn: &str) -> Option<String> {
    let (_, tail) = arn.split_once(":secret:")?;
    match tail.rsplit_once('-') {
        Some((name, suffix))
            if suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Some(name.to_string())
        }
        _ => Some(tail.to_string()),
    }
}

/// SHA-256 of a domain tag, the record's `eventID` (or the whole record when it has
/// none) and the detail-type, as a version-8 (custom) UUID.
fn event_id(record: &Value, kind: &str) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"coffer-events/v1\0");
    match record.get("eventID").and_then(Value::as_str) {
        Some(id) => ctx.update(id.as_bytes()),
        None => ctx.update(record.to_string().as_bytes()),
    }
    ctx.update(b"\0");
    ctx.update(kind.as_bytes());
    let hash = ctx.finish();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests;
