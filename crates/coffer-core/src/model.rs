//! The persisted shape of a secret and its versions.
//!
//! A [`SecretState`] is one secret's metadata plus the metadata of all its versions;
//! the encrypted value of a version ([`SealedValue`]) is loaded separately, only when a
//! value is read, so listing and describing never touch ciphertext.

use serde::{Deserialize, Serialize};

/// A key/value tag on a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Tag key (1–128 chars; the `aws:` prefix is reserved).
    pub key: String,
    /// Tag value (0–256 chars).
    pub value: String,
}

/// Whether a version holds a `SecretString` or a `SecretBinary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueKind {
    /// UTF-8 text (`SecretString`).
    String,
    /// Arbitrary bytes (`SecretBinary`).
    Binary,
}

impl ValueKind {
    /// Stable name used in storage and in the encryption context.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Binary => "binary",
        }
    }
    /// Inverse of [`ValueKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "string" => Some(Self::String),
            "binary" => Some(Self::Binary),
            _ => None,
        }
    }
}

/// A secret's metadata, one row in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// Full ARN, the primary key.
    pub arn: String,
    /// 12-digit account id that owns the secret.
    pub account_id: String,
    /// Region the secret lives in.
    pub region: String,
    /// Friendly name, unique per (account, region) until the secret is purged.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// KMS key id as the user gave it (None = the account's default `aws/secretsmanager`).
    pub kms_key_id: Option<String>,
    /// Tags, in insertion order.
    pub tags: Vec<Tag>,
    /// Creation time (ms since epoch).
    pub created_ms: i64,
    /// Last change of anything (ms).
    pub last_changed_ms: i64,
    /// Day (midnight UTC, ms) the secret's value was last read, if ever.
    pub last_accessed_ms: Option<i64>,
    /// When DeleteSecret was called, if the secret is scheduled for deletion.
    pub deleted_ms: Option<i64>,
    /// When the secret will be purged, if scheduled for deletion.
    pub deletion_ms: Option<i64>,
    /// Optimistic-concurrency revision; every committed change increments it.
    pub revision: i64,
    /// Forward-compatible JSON for features added later (rotation, policies, replication).
    pub extra: serde_json::Value,
}

impl SecretRecord {
    /// True while the secret is scheduled for deletion.
    pub fn is_deleted(&self) -> bool {
        self.deleted_ms.is_some()
    }

    /// The resource-based policy attached with PutResourcePolicy, if any.
    pub fn resource_policy(&self) -> Option<&str> {
        self.extra.get(RESOURCE_POLICY_FIELD)?.as_str()
    }

    /// Attaches (`Some`) or removes (`None`) the resource-based policy.
    pub fn set_resource_policy(&mut self, policy: Option<String>) {
        if !self.extra.is_object() {
            self.extra = serde_json::Value::Object(serde_json::Map::new());
        }
        if let Some(map) = self.extra.as_object_mut() {
            match policy {
                Some(p) => {
                    map.insert(RESOURCE_POLICY_FIELD.to_owned(), p.into());
                }
                None => {
                    map.remove(RESOURCE_POLICY_FIELD);
                }
            }
        }
    }
}

/// Rotation as the controls see it. Rotation is not implemented yet: until it is, its state is
/// read from [`SecretRecord::extra`] (`extra["rotation"]["enabled"] == true` means enabled,
/// anything else not; `extra["rotation"]["last_outcome"] == "failed"` means the last rotation
/// failed). These two accessors are the only readers, so the rotation feature can move the
/// state elsewhere by changing them.
impl SecretRecord {
    /// Whether rotation is enabled for the secret.
    pub fn rotation_enabled(&self) -> bool {
        self.extra
            .get(ROTATION_FIELD)
            .and_then(|r| r.get("enabled"))
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    }

    /// Whether the secret's last rotation failed.
    pub fn rotation_failed(&self) -> bool {
        self.extra
            .get(ROTATION_FIELD)
            .and_then(|r| r.get("last_outcome"))
            .and_then(serde_json::Value::as_str)
            == Some("failed")
    }
}

/// Key in [`SecretRecord::extra`] holding rotation state (see [`SecretRecord::rotation_enabled`]).
const ROTATION_FIELD: &str = "rotation";

/// Key in [`SecretRecord::extra`] holding the resource policy text.
const RESOURCE_POLICY_FIELD: &str = "resource_policy";

/// A version's metadata (no ciphertext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// Version id (the ClientRequestToken that created it), 32–64 chars.
    pub version_id: String,
    /// Staging labels attached to this version (at most 20).
    pub stages: Vec<String>,
    /// Creation time (ms).
    pub created_ms: i64,
    /// Day (midnight UTC, ms) this version was last read, if ever.
    pub last_accessed_ms: Option<i64>,
    /// ARN of the KMS key whose material wrapped this version's data key.
    pub kms_key_arn: String,
}

/// An encrypted secret value as stored: never plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// String or binary.
    pub kind: ValueKind,
    /// ARN of the KMS key that wrapped the data key.
    pub kms_key_arn: String,
    /// The KMS key generation (key rotation adds generations).
    pub key_generation: u32,
    /// The data key, wrapped (nonce ‖ ciphertext ‖ tag).
    pub wrapped_dek: Vec<u8>,
    /// The value, sealed with the data key (nonce ‖ ciphertext ‖ tag).
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedValue")
            .field("kind", &self.kind)
            .field("kms_key_arn", &self.kms_key_arn)
            .field("key_generation", &self.key_generation)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A secret with all its versions' metadata, as loaded for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretState {
    /// The secret row.
    pub secret: SecretRecord,
    /// Every stored version, oldest first.
    pub versions: Vec<VersionRecord>,
}

impl SecretState {
    /// The version carrying `label`, if any.
    pub fn version_with_label(&self, label: &str) -> Option<&VersionRecord> {
        self.versions
            .iter()
            .find(|v| v.stages.iter().any(|s| s == label))
    }
    /// The version with id `id`, if any.
    pub fn version(&self, id: &str) -> Option<&VersionRecord> {
        self.versions.iter().find(|v| v.version_id == id)
    }
}
