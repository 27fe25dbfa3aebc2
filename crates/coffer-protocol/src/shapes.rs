//! Request and response bodies, field for field as botocore's model names them.
//!
//! Secret values use [`SecretText`] / [`SecretBytes`]: zeroized on drop, redacted in Debug.
//! Unknown request fields are ignored (newer SDKs may send members this server predates).

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// A secret string: zeroized on drop, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretText(pub Zeroizing<String>);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}
impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// Secret bytes (base64 on the wire): zeroized on drop, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(pub Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}
impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*self.0));
        s.serialize_str(&text)
    }
}
impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(|b| Self(Zeroizing::new(b)))
            .map_err(|_| serde::de::Error::custom("SecretBinary is not valid base64"))
    }
}

/// Milliseconds since the epoch → AWS JSON timestamp (epoch seconds, fractional).
pub fn ts(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// A list filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    /// Filter key (name, description, tag-key, ...).
    pub key: String,
    /// Values (prefix matches; `!` negates).
    #[serde(default)]
    pub values: Vec<String>,
}

/// Replica region request (accepted in the shape, rejected by the service for now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicaRegion {
    /// Region.
    pub region: Option<String>,
    /// KMS key for the replica.
    pub kms_key_id: Option<String>,
}

/// CreateSecret input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecretInput {
    /// Name.
    pub name: Option<String>,
    /// Idempotency token / version id.
    pub client_request_token: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// KMS key id, ARN or alias.
    pub kms_key_id: Option<String>,
    /// Binary value.
    pub secret_binary: Option<SecretBytes>,
    /// String value.
    pub secret_string: Option<SecretText>,
    /// Tags.
    pub tags: Option<Vec<Tag>>,
    /// Replication (not supported yet).
    pub add_replica_regions: Option<Vec<ReplicaRegion>>,
    /// Replication flag.
    pub force_overwrite_replica_secret: Option<bool>,
    /// Managed external secret type (not supported).
    #[serde(rename = "Type")]
    pub secret_type: Option<String>,
}

/// CreateSecret output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecretOutput {
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
    /// Version created, if a value was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// Input naming one secret (DescribeSecret, RestoreSecret).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretIdInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
}

/// GetSecretValue input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSecretValueInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// Version id.
    pub version_id: Option<String>,
    /// Staging label.
    pub version_stage: Option<String>,
}

/// GetSecretValue output (also an entry of BatchGetSecretValue).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretValueEntry {
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
    /// Version id.
    pub version_id: String,
    /// Binary value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_binary: Option<SecretBytes>,
    /// String value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<SecretText>,
    /// Labels on the version.
    pub version_stages: Vec<String>,
    /// Version creation time.
    pub created_date: f64,
}

/// BatchGetSecretValue input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetSecretValueInput {
    /// Explicit ids.
    pub secret_id_list: Option<Vec<String>>,
    /// Or filters.
    pub filters: Option<Vec<Filter>>,
    /// Page size (filters only).
    pub max_results: Option<i64>,
    /// Paging token.
    pub next_token: Option<String>,
}

/// One failed entry of BatchGetSecretValue.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiErrorEntry {
    /// Requested id.
    pub secret_id: String,
    /// AWS error code.
    pub error_code: String,
    /// Message.
    pub message: String,
}

/// BatchGetSecretValue output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetSecretValueOutput {
    /// Values read.
    pub secret_values: Vec<SecretValueEntry>,
    /// Per-secret errors.
    pub errors: Vec<ApiErrorEntry>,
    /// Next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// PutSecretValue input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutSecretValueInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// Idempotency token / version id.
    pub client_request_token: Option<String>,
    /// Binary value.
    pub secret_binary: Option<SecretBytes>,
    /// String value.
    pub secret_string: Option<SecretText>,
    /// Labels for the new version (default AWSCURRENT).
    pub version_stages: Option<Vec<String>>,
    /// Rotation token (rotation issue).
    pub rotation_token: Option<String>,
}

/// Output naming a secret and a version (PutSecretValue, UpdateSecret).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretVersionOutput {
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
    /// Version id (absent when UpdateSecret changed no value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Labels on the version (PutSecretValue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_stages: Option<Vec<String>>,
}

/// UpdateSecret input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// Idempotency token / version id.
    pub client_request_token: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New KMS key.
    pub kms_key_id: Option<String>,
    /// Binary value.
    pub secret_binary: Option<SecretBytes>,
    /// String value.
    pub secret_string: Option<SecretText>,
    /// Managed external secret type (not supported).
    #[serde(rename = "Type")]
    pub secret_type: Option<String>,
}

/// DescribeSecret output (also the base of ListSecrets entries).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSecretOutput {
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// KMS key, omitted for the default key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Rotation flag (ListSecrets always reports it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_enabled: Option<bool>,
    /// Last change.
    pub last_changed_date: f64,
    /// Last access (day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accessed_date: Option<f64>,
    /// Scheduled deletion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<f64>,
    /// Tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Labeled versions → labels (DescribeSecret's name).
    #[serde(rename = "VersionIdsToStages", skip_serializing_if = "Option::is_none")]
    pub version_ids_to_stages: Option<BTreeMap<String, Vec<String>>>,
    /// Labeled versions → labels (ListSecrets' name).
    #[serde(
        rename = "SecretVersionsToStages",
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_versions_to_stages: Option<BTreeMap<String, Vec<String>>>,
    /// Creation time.
    pub created_date: f64,
    /// Region of origin.
    pub primary_region: String,
}

/// ListSecrets input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretsInput {
    /// Include secrets scheduled for deletion.
    pub include_planned_deletion: Option<bool>,
    /// Page size (1–100).
    pub max_results: Option<i64>,
    /// Paging token.
    pub next_token: Option<String>,
    /// Filters.
    pub filters: Option<Vec<Filter>>,
    /// asc | desc.
    pub sort_order: Option<String>,
    /// created-date | last-accessed-date | last-changed-date | name.
    pub sort_by: Option<String>,
}

/// ListSecrets output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretsOutput {
    /// Page of secrets.
    pub secret_list: Vec<DescribeSecretOutput>,
    /// Next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListSecretVersionIds input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretVersionIdsInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// Page size.
    pub max_results: Option<i64>,
    /// Paging token.
    pub next_token: Option<String>,
    /// Include unlabeled versions.
    pub include_deprecated: Option<bool>,
}

/// One version in ListSecretVersionIds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionEntry {
    /// Version id.
    pub version_id: String,
    /// Labels (present, possibly empty, as AWS sends it).
    pub version_stages: Vec<String>,
    /// Last access (day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accessed_date: Option<f64>,
    /// Creation time.
    pub created_date: f64,
    /// KMS keys that encrypt this version.
    pub kms_key_ids: Vec<String>,
}

/// ListSecretVersionIds output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretVersionIdsOutput {
    /// Page of versions.
    pub versions: Vec<VersionEntry>,
    /// Next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
}

/// UpdateSecretVersionStage input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretVersionStageInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// Label to move.
    pub version_stage: Option<String>,
    /// Version to take the label from.
    pub remove_from_version_id: Option<String>,
    /// Version to put the label on.
    pub move_to_version_id: Option<String>,
}

/// Output naming a secret (UpdateSecretVersionStage, RestoreSecret, TagResource-like).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretRefOutput {
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
}

/// DeleteSecret input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecretInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// 7–30 days.
    pub recovery_window_in_days: Option<i64>,
    /// Delete now.
    pub force_delete_without_recovery: Option<bool>,
}

/// DeleteSecret output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecretOutput {
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
    /// When it will be (or was) purged.
    pub deletion_date: f64,
}

/// TagResource input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// Tags to add or overwrite.
    pub tags: Option<Vec<Tag>>,
}

/// UntagResource input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// Keys to remove.
    pub tag_keys: Option<Vec<String>>,
}

/// GetRandomPassword input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRandomPasswordInput {
    /// Length (default 32).
    pub password_length: Option<i64>,
    /// Characters to leave out.
    pub exclude_characters: Option<String>,
    /// No digits.
    pub exclude_numbers: Option<bool>,
    /// No punctuation.
    pub exclude_punctuation: Option<bool>,
    /// No uppercase.
    pub exclude_uppercase: Option<bool>,
    /// No lowercase.
    pub exclude_lowercase: Option<bool>,
    /// Allow spaces.
    pub include_space: Option<bool>,
    /// At least one of each included type (default true).
    pub require_each_included_type: Option<bool>,
}

/// GetRandomPassword output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRandomPasswordOutput {
    /// The password.
    pub random_password: SecretText,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_redacted_in_debug() {
        let i: PutSecretValueInput = serde_json::from_str(
            r#"{"SecretId":"x","SecretString":"hunter2-canary","SecretBinary":"aGVsbG8=","Extra":1}"#,
        )
        .unwrap();
        let d = format!("{i:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(!d.contains("hello") && !d.contains("aGVsbG8"), "{d}");
        assert_eq!(&*i.secret_binary.unwrap().0, b"hello");
    }

    #[test]
    fn bad_base64_is_an_error() {
        let r: Result<PutSecretValueInput, _> = serde_json::from_str(r#"{"SecretBinary":"***"}"#);
        assert!(r.is_err());
    }

    #[test]
    fn output_field_names() {
        let o = CreateSecretOutput {
            arn: "a".into(),
            name: "n".into(),
            version_id: None,
        };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"ARN":"a","Name":"n"}"#
        );
    }
}

/// PutResourcePolicy input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResourcePolicyInput {
    /// Name or ARN.
    pub secret_id: Option<String>,
    /// The policy JSON.
    pub resource_policy: Option<String>,
    /// Refuse policies that grant broad access (default true in AWS's CLI docs; false if
    /// absent on the wire).
    pub block_public_policy: Option<bool>,
}

/// GetResourcePolicy output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyOutput {
    /// ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Name.
    pub name: String,
    /// The policy JSON, if one is attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
}

/// ValidateResourcePolicy input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidateResourcePolicyInput {
    /// Optional secret the policy is meant for.
    pub secret_id: Option<String>,
    /// The policy JSON.
    pub resource_policy: Option<String>,
}

/// One finding of ValidateResourcePolicy.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidationErrorsEntry {
    /// Name of the check.
    pub check_name: String,
    /// What is wrong.
    pub error_message: String,
}

/// ValidateResourcePolicy output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidateResourcePolicyOutput {
    /// True when no error-level finding was made.
    pub policy_validation_passed: bool,
    /// The findings.
    pub validation_errors: Vec<ValidationErrorsEntry>,
}
