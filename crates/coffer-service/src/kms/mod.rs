//! AWS KMS over the JSON 1.1 protocol (`TrentService.*`, signing name `kms`): customer
//! managed symmetric keys, aliases, key policies, rotation, scheduled deletion and the
//! cryptographic operations.
//!
//! Key material lives in the store sealed under the root key, exactly like the default
//! `aws/secretsmanager` key (see [`crate::keyring`]); every generation is kept so old
//! ciphertexts still decrypt after rotation. Every request is authorized by the key policy
//! with KMS semantics ([`policy`]).

mod alias;
pub mod blob;
mod crypto;
mod manage;
pub mod policy;
mod props;
mod resolve;
mod rotation;

use crate::{ApiResult, Caller, Service};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::KmsKeyRecord;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use resolve::KeyRef;
pub(crate) use resolve::unusable;

/// Target prefix of the KMS JSON 1.1 API.
pub const TARGET_PREFIX: &str = "TrentService.";

/// Largest plaintext Encrypt accepts (bytes).
pub const MAX_PLAINTEXT: usize = 4096;
/// Largest key policy (bytes).
pub const MAX_POLICY: usize = 32 * 1024;
/// Largest encryption context: total bytes of its keys and values.
pub const MAX_CONTEXT_BYTES: usize = 8192;
/// Most tags on a key.
pub const MAX_TAGS: usize = 50;
/// Most on-demand rotations of one key (as AWS).
pub const MAX_ON_DEMAND_ROTATIONS: usize = 10;

/// A KMS error with AWS's code.
pub(crate) fn err(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
}

/// A `ValidationException`.
pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    err(ErrorCode::ValidationException, message)
}

/// `value` of the member `field` within `lo..=hi`, or AWS's validation error for it.
pub(crate) fn in_range(field: &str, value: i64, lo: i64, hi: i64) -> ApiResult<()> {
    if (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(invalid(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have value less than or equal to {hi} and greater than or equal to {lo}"
    )))
}

fn decode<T: DeserializeOwned + Default>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        err(
            ErrorCode::SerializationException,
            format!(
                "A request field has the wrong type or value (line {}, column {}).",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Epoch seconds, as AWS JSON timestamps.
pub(crate) fn ts(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// True for keys made by CreateKey (as opposed to AWS managed keys).
pub(crate) fn is_customer(key: &KmsKeyRecord) -> bool {
    key.meta.key_manager == "CUSTOMER"
}

/// AWS's `KeyMetadata` of a key.
pub(crate) fn key_metadata(key: &KmsKeyRecord) -> Value {
    let mut m = json!({
        "AWSAccountId": key.account_id,
        "KeyId": key.key_id,
        "Arn": key.arn,
        "CreationDate": ts(key.created_ms),
        "Enabled": key.state == "Enabled",
        "Description": key.meta.description,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": key.state,
        "Origin": "AWS_KMS",
        "KeyManager": if is_customer(key) { "CUSTOMER" } else { "AWS" },
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": false,
    });
    if let Some(d) = key.meta.deletion_ms
        && key.state == "PendingDeletion"
    {
        m["DeletionDate"] = ts(d);
    }
    m
}

impl Service {
    /// Runs one KMS operation (`op` is the target without [`TARGET_PREFIX`]) on a JSON
    /// body and returns the JSON response.
    pub async fn kms_call(&self, caller: &Caller, op: &str, body: &[u8]) -> ApiResult<Value> {
        let c = caller;
        match op {
            "CreateKey" => self.kms_create_key(c, decode(body)?).await,
            "DescribeKey" => self.kms_describe_key(c, decode(body)?).await,
            "ListKeys" => self.kms_list_keys(c, decode(body)?).await,
            "EnableKey" => self.kms_set_enabled(c, decode(body)?, true).await,
            "DisableKey" => self.kms_set_enabled(c, decode(body)?, false).await,
            "ScheduleKeyDeletion" => self.kms_schedule_deletion(c, decode(body)?).await,
            "CancelKeyDeletion" => self.kms_cancel_deletion(c, decode(body)?).await,
            "EnableKeyRotation" => self.kms_enable_rotation(c, decode(body)?).await,
            "DisableKeyRotation" => self.kms_disable_rotation(c, decode(body)?).await,
            "GetKeyRotationStatus" => self.kms_rotation_status(c, decode(body)?).await,
            "RotateKeyOnDemand" => self.kms_rotate_on_demand(c, decode(body)?).await,
            "ListKeyRotations" => self.kms_list_rotations(c, decode(body)?).await,
            "GetKeyPolicy" => self.kms_get_policy(c, decode(body)?).await,
            "PutKeyPolicy" => self.kms_put_policy(c, decode(body)?).await,
            "TagResource" => self.kms_tag(c, decode(body)?).await,
            "UntagResource" => self.kms_untag(c, decode(body)?).await,
            "ListResourceTags" => self.kms_list_tags(c, decode(body)?).await,
            "CreateAlias" => self.kms_create_alias(c, decode(body)?).await,
            "UpdateAlias" => self.kms_update_alias(c, decode(body)?).await,
            "DeleteAlias" => self.kms_delete_alias(c, decode(body)?).await,
            "ListAliases" => self.kms_list_aliases(c, decode(body)?).await,
            "Encrypt" => self.kms_encrypt(c, decode(body)?).await,
            "Decrypt" => self.kms_decrypt(c, decode(body)?).await,
            "GenerateDataKey" => self.kms_generate_data_key(c, decode(body)?, true).await,
            "GenerateDataKeyWithoutPlaintext" => {
                self.kms_generate_data_key(c, decode(body)?, false).await
            }
            "ReEncrypt" => self.kms_re_encrypt(c, decode(body)?).await,
            _ => Err(err(
                ErrorCode::UnknownOperationException,
                format!("The KMS operation {op:?} is not available in Coffer."),
            )),
        }
    }
}

/// Paging over an ordered list with AWS's `Limit`/`Marker` (the marker is an offset).
pub(crate) fn page<T>(
    items: Vec<T>,
    limit: Option<i64>,
    marker: Option<&str>,
) -> ApiResult<(Vec<T>, Option<String>)> {
    let limit = match limit {
        None => 100,
        Some(n) => {
            in_range("limit", n, 1, 1000)?;
            n as usize
        }
    };
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| err(ErrorCode::InvalidMarkerException, "Invalid marker."))?,
    };
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + out.len() < total).then(|| (start + out.len()).to_string());
    Ok((out, next))
}
