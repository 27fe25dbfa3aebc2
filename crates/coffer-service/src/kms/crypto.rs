//! Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext) and ReEncrypt.

use super::{MAX_CONTEXT_BYTES, MAX_PLAINTEXT, blob, err, invalid, resolve::unusable};
use crate::{ApiResult, Caller, Service};
use base64::Engine;
use coffer_protocol::ErrorCode;
use coffer_store::KmsKeyRecord;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// An encryption context.
pub(crate) type Context = BTreeMap<String, String>;

/// Input of the cryptographic operations.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CryptoInput {
    key_id: Option<String>,
    plaintext: Option<String>,
    ciphertext_blob: Option<String>,
    encryption_context: Option<Context>,
    encryption_algorithm: Option<String>,
    key_spec: Option<String>,
    number_of_bytes: Option<i64>,
    source_key_id: Option<String>,
    source_encryption_context: Option<Context>,
    destination_key_id: Option<String>,
    destination_encryption_context: Option<Context>,
    source_encryption_algorithm: Option<String>,
    destination_encryption_algorithm: Option<String>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Checks an encryption context's size.
pub(crate) fn check_context(c: &Context) -> ApiResult<()> {
    let total: usize = c.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > MAX_CONTEXT_BYTES || c.keys().any(String::is_empty) {
        return Err(invalid(format!(
            "The encryption context must have non-empty keys and at most {MAX_CONTEXT_BYTES} bytes of keys and values."
        )));
    }
    Ok(())
}

fn check_algorithm(a: Option<&str>) -> ApiResult<()> {
    match a {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(other) => Err(err(
            ErrorCode::ValidationException,
            format!(
                "Unsupported EncryptionAlgorithm {other}: Coffer keys support SYMMETRIC_DEFAULT only."
            ),
        )),
    }
}

fn invalid_ciphertext() -> coffer_protocol::ApiError {
    err(
        ErrorCode::InvalidCiphertextException,
        "The ciphertext is invalid.",
    )
}

/// Decodes a base64 blob parameter.
fn blob_param(v: Option<&str>, name: &str, max: usize) -> ApiResult<Zeroizing<Vec<u8>>> {
    let v = v.ok_or_else(|| invalid(format!("{name} is required.")))?;
    let bytes = Zeroizing::new(b64().decode(v).map_err(|_| {
        err(
            ErrorCode::SerializationException,
            format!("{name} is not valid base64."),
        )
    })?);
    if bytes.is_empty() || bytes.len() > max {
        return Err(invalid(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length between 1 and {max}",
            lower_first(name)
        )));
    }
    Ok(bytes)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

impl Service {
    /// Seals `plaintext` under the newest generation of `key` (which must be usable).
    pub(crate) fn kms_seal(
        &self,
        key: &KmsKeyRecord,
        context: &Context,
        plaintext: &[u8],
    ) -> ApiResult<Vec<u8>> {
        if let Some(e) = unusable(key) {
            return Err(e);
        }
        let kek = self.keyring().kek(key, key.generation)?;
        blob::seal(&kek, &key.arn, key.generation, context, plaintext)
            .map_err(|_| coffer_protocol::ApiError::internal())
    }

    /// Finds the key a blob was sealed under, checks `expected` (a KeyId parameter) names
    /// it, authorizes `action`, and opens the blob.
    async fn kms_open(
        &self,
        caller: &Caller,
        ciphertext: &[u8],
        context: &Context,
        expected: Option<&str>,
        action: &str,
    ) -> ApiResult<(KmsKeyRecord, Zeroizing<Vec<u8>>)> {
        let h = blob::parse(ciphertext).map_err(|_| invalid_ciphertext())?;
        let key = self
            .store()
            .kms_key_by_arn(h.key_arn)
            .await
            .map_err(crate::convert::store)?
            .filter(|k| k.region == caller.region)
            .ok_or_else(invalid_ciphertext)?;
        if let Some(id) = expected {
            let named = self.kms_find_key(caller, Some(id)).await?;
            if named.arn != key.arn {
                return Err(err(
                    ErrorCode::IncorrectKeyException,
                    "The key ID in the request does not identify a KMS key that can perform this operation.",
                ));
            }
        }
        self.kms_authorize(caller, &key, action, None, Some(context))
            .await?;
        if let Some(e) = unusable(&key) {
            return Err(e);
        }
        if !key.wrapped_material.iter().any(|(g, _)| *g == h.generation) {
            return Err(invalid_ciphertext());
        }
        let kek = self.keyring().kek(&key, h.generation)?;
        let plain = blob::open(&kek, ciphertext, &h, context).map_err(|_| invalid_ciphertext())?;
        Ok((key, plain))
    }

    /// Encrypt.
    pub(crate) async fn kms_encrypt(
        &self,
        caller: &Caller,
        input: CryptoInput,
    ) -> ApiResult<Value> {
        check_algorithm(input.encryption_algorithm.as_deref())?;
        let context = input.encryption_context.unwrap_or_default();
        check_context(&context)?;
        let plaintext = blob_param(input.plaintext.as_deref(), "Plaintext", MAX_PLAINTEXT)?;
        let key = self.kms_find_key(caller, input.key_id.as_deref()).await?;
        self.kms_authorize(caller, &key, "Encrypt", None, Some(&context))
            .await?;
        let blob = self.kms_seal(&key, &context, &plaintext)?;
        Ok(json!({
            "CiphertextBlob": b64().encode(blob),
            "KeyId": key.arn,
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }))
    }

    /// Decrypt (the key is read from the blob; KeyId, if given, must name it).
    pub(crate) async fn kms_decrypt(
        &self,
        caller: &Caller,
        input: CryptoInput,
    ) -> ApiResult<Value> {
        check_algorithm(input.encryption_algorithm.as_deref())?;
        let context = input.encryption_context.unwrap_or_default();
        check_context(&context)?;
        let ciphertext = blob_param(input.ciphertext_blob.as_deref(), "CiphertextBlob", 6144)?;
        let (key, plain) = self
            .kms_open(
                caller,
                &ciphertext,
                &context,
                input.key_id.as_deref(),
                "Decrypt",
            )
            .await?;
        Ok(json!({
            "KeyId": key.arn,
            "Plaintext": b64().encode(&*plain),
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }))
    }

    /// GenerateDataKey / GenerateDataKeyWithoutPlaintext.
    pub(crate) async fn kms_generate_data_key(
        &self,
        caller: &Caller,
        input: CryptoInput,
        with_plaintext: bool,
    ) -> ApiResult<Value> {
        let len = match (input.key_spec.as_deref(), input.number_of_bytes) {
            (Some("AES_256"), None) => 32,
            (Some("AES_128"), None) => 16,
            (None, Some(n)) => {
                super::in_range("numberOfBytes", n, 1, 1024)?;
                n as usize
            }
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(
                    "Please specify either number of bytes or key spec.",
                ));
            }
            (Some(other), None) => {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
                )));
            }
        };
        let context = input.encryption_context.unwrap_or_default();
        check_context(&context)?;
        let action = if with_plaintext {
            "GenerateDataKey"
        } else {
            "GenerateDataKeyWithoutPlaintext"
        };
        let key = self.kms_find_key(caller, input.key_id.as_deref()).await?;
        self.kms_authorize(caller, &key, action, None, Some(&context))
            .await?;
        let data_key = Zeroizing::new(coffer_crypto::random_bytes(len));
        let blob = self.kms_seal(&key, &context, &data_key)?;
        let mut out = json!({"CiphertextBlob": b64().encode(blob), "KeyId": key.arn});
        if with_plaintext {
            out["Plaintext"] = json!(b64().encode(&*data_key));
        }
        Ok(out)
    }

    /// ReEncrypt: decrypts under the source key (kms:ReEncryptFrom) and encrypts under
    /// the destination key (kms:ReEncryptTo) without revealing the plaintext.
    pub(crate) async fn kms_re_encrypt(
        &self,
        caller: &Caller,
        input: CryptoInput,
    ) -> ApiResult<Value> {
        check_algorithm(input.source_encryption_algorithm.as_deref())?;
        check_algorithm(input.destination_encryption_algorithm.as_deref())?;
        let src_ctx = input.source_encryption_context.unwrap_or_default();
        let dst_ctx = input.destination_encryption_context.unwrap_or_default();
        check_context(&src_ctx)?;
        check_context(&dst_ctx)?;
        let ciphertext = blob_param(input.ciphertext_blob.as_deref(), "CiphertextBlob", 6144)?;
        let dst_id = input
            .destination_key_id
            .as_deref()
            .ok_or_else(|| invalid("DestinationKeyId is required."))?;
        let (src, plain) = self
            .kms_open(
                caller,
                &ciphertext,
                &src_ctx,
                input.source_key_id.as_deref(),
                "ReEncryptFrom",
            )
            .await?;
        let dst = self.kms_find_key(caller, Some(dst_id)).await?;
        self.kms_authorize(caller, &dst, "ReEncryptTo", None, Some(&dst_ctx))
            .await?;
        let blob = self.kms_seal(&dst, &dst_ctx, &plain)?;
        Ok(json!({
            "CiphertextBlob": b64().encode(blob),
            "SourceKeyId": src.arn,
            "KeyId": dst.arn,
            "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }))
    }
}
