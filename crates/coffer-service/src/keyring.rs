//! Key material in memory: the root key (present only while unsealed) and the unwrapped
//! KMS key material it protects. Nothing here is ever written to disk in plaintext.
//!
//! Hierarchy: root key → KMS key material (one per key generation, stored wrapped by the
//! root key) → per-version data keys (stored wrapped by the KMS key material).

use crate::ApiResult;
use coffer_crypto::{SymmetricKey, aad};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::{KmsKeyRecord, Store};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Alias of the per-account, per-region default key.
pub const DEFAULT_KEY_ALIAS: &str = "alias/aws/secretsmanager";

/// In-memory keys. Sealing drops them all.
#[derive(Debug, Default)]
pub struct Keyring {
    root: RwLock<Option<Arc<SymmetricKey>>>,
    /// Unwrapped material by key ARN, then generation (nested so lookups borrow the ARN).
    keks: RwLock<HashMap<String, HashMap<u32, Arc<SymmetricKey>>>>,
    records: RwLock<HashMap<String, KmsKeyRecord>>,
    defaults: RwLock<HashMap<(String, String), String>>,
}

fn sealed_error() -> ApiError {
    ApiError::new(
        ErrorCode::ServiceUnavailableException,
        "Coffer is sealed: an operator must unseal it (coffer operator unseal) before it can serve requests.",
    )
}

fn material_aad(key_arn: &str, generation: u32) -> Vec<u8> {
    aad(
        "coffer/kms-material/v1",
        &[key_arn.as_bytes(), generation.to_string().as_bytes()],
    )
}

impl Keyring {
    /// An empty (sealed) keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs the root key (unseal).
    pub fn set_root(&self, key: SymmetricKey) {
        *self.root.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(key));
    }

    /// Drops every key from memory (seal).
    pub fn clear(&self) {
        *self.root.write().unwrap_or_else(|p| p.into_inner()) = None;
        self.keks.write().unwrap_or_else(|p| p.into_inner()).clear();
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.defaults
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// True while the root key is present.
    pub fn is_unsealed(&self) -> bool {
        self.root
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// The root key, or a "sealed" error.
    pub fn root(&self) -> ApiResult<Arc<SymmetricKey>> {
        self.root
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(sealed_error)
    }

    /// Seals `plaintext` under the root key with a labeled AAD.
    pub fn wrap(&self, label: &str, fields: &[&[u8]], plaintext: &[u8]) -> ApiResult<Vec<u8>> {
        let root = self.root()?;
        root.seal(&aad(label, fields), plaintext).map_err(|e| {
            tracing::error!(error = %e, "root wrap failed");
            ApiError::internal()
        })
    }

    /// Opens something sealed by [`Keyring::wrap`].
    pub fn unwrap(
        &self,
        label: &str,
        fields: &[&[u8]],
        sealed: &[u8],
    ) -> ApiResult<zeroize::Zeroizing<Vec<u8>>> {
        let root = self.root()?;
        root.open(&aad(label, fields), sealed).map_err(|e| {
            tracing::error!(error = %e, "root unwrap failed");
            ApiError::internal()
        })
    }

    /// The account's default key in `region`, created on first use.
    pub async fn default_key(
        &self,
        store: &dyn Store,
        account_id: &str,
        region: &str,
        now_ms: i64,
    ) -> ApiResult<KmsKeyRecord> {
        let cache_key = (account_id.to_owned(), region.to_owned());
        let cached = self
            .defaults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&cache_key)
            .cloned();
        if let Some(arn) = cached
            && let Some(rec) = self.cached_record(&arn)
        {
            return Ok(rec);
        }
        let existing = store
            .kms_key_by_alias(account_id, region, DEFAULT_KEY_ALIAS)
            .await
            .map_err(crate::convert::store)?;
        let rec = match existing {
            Some(r) => r,
            None => {
                let key_id = uuid::Uuid::new_v4().to_string();
                let arn = format!("arn:aws:kms:{region}:{account_id}:key/{key_id}");
                let material = SymmetricKey::generate();
                let root = self.root()?;
                let wrapped = root
                    .seal(&material_aad(&arn, 1), material.expose_bytes())
                    .map_err(crate::convert::encrypt)?;
                let rec = KmsKeyRecord {
                    arn,
                    key_id,
                    account_id: account_id.to_owned(),
                    region: region.to_owned(),
                    alias: Some(DEFAULT_KEY_ALIAS.to_owned()),
                    generation: 1,
                    wrapped_material: vec![(1, wrapped)],
                    state: "Enabled".to_owned(),
                    created_ms: now_ms,
                    meta: coffer_store::KmsKeyMeta {
                        key_manager: "AWS".to_owned(),
                        description: "Default key that protects my Secrets Manager data when no other key is defined".to_owned(),
                        ..Default::default()
                    },
                };
                store
                    .insert_kms_key_if_absent(&rec)
                    .await
                    .map_err(crate::convert::store)?
            }
        };
        self.remember(&rec);
        self.defaults
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(cache_key, rec.arn.clone());
        Ok(rec)
    }

    /// Seals fresh key material for generation `generation` of `key_arn` under the root
    /// key (the stored form of every KMS key generation).
    pub fn wrap_material(
        &self,
        key_arn: &str,
        generation: u32,
        material: &SymmetricKey,
    ) -> ApiResult<Vec<u8>> {
        self.root()?
            .seal(&material_aad(key_arn, generation), material.expose_bytes())
            .map_err(crate::convert::encrypt)
    }

    /// Drops the cached record and unwrapped material of `key_arn` (after a change to the
    /// key: state, rotation, deletion), so the next use re-reads it.
    pub fn forget(&self, key_arn: &str) {
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key_arn);
        self.keks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key_arn);
    }

    /// Whether the cached record of `key_arn` is an enabled AWS managed key (the secret
    /// read hot path needs no KMS authorization for those); `None` if not cached.
    pub fn cached_is_enabled_aws_managed(&self, key_arn: &str) -> Option<bool> {
        self.records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key_arn)
            .map(|r| r.meta.key_manager != "CUSTOMER" && r.state == "Enabled")
    }

    fn cached_record(&self, arn: &str) -> Option<KmsKeyRecord> {
        self.records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(arn)
            .cloned()
    }

    fn remember(&self, rec: &KmsKeyRecord) {
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rec.arn.clone(), rec.clone());
    }

    /// The KMS key record for `arn` (cached).
    pub async fn key_record(&self, store: &dyn Store, arn: &str) -> ApiResult<KmsKeyRecord> {
        if let Some(r) = self.cached_record(arn) {
            return Ok(r);
        }
        let rec = store
            .kms_key_by_arn(arn)
            .await
            .map_err(crate::convert::store)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::DecryptionFailure,
                    "The KMS key that protects this secret no longer exists.",
                )
            })?;
        self.remember(&rec);
        Ok(rec)
    }

    /// The KMS key record for `arn` read from the store (its state may have been changed
    /// by another node), refreshing the cache.
    pub async fn fresh_record(&self, store: &dyn Store, arn: &str) -> ApiResult<KmsKeyRecord> {
        let rec = store
            .kms_key_by_arn(arn)
            .await
            .map_err(crate::convert::store)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::DecryptionFailure,
                    "The KMS key that protects this secret no longer exists.",
                )
            })?;
        self.remember(&rec);
        Ok(rec)
    }

    /// Material already unwrapped for `key_arn` at `generation`, if any: the read hot path,
    /// which needs neither the key record nor an allocation.
    pub fn cached_kek(&self, key_arn: &str, generation: u32) -> Option<Arc<SymmetricKey>> {
        self.keks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key_arn)?
            .get(&generation)
            .cloned()
    }

    /// The unwrapped material of `rec` at `generation` (cached).
    pub fn kek(&self, rec: &KmsKeyRecord, generation: u32) -> ApiResult<Arc<SymmetricKey>> {
        if let Some(kek) = self.cached_kek(&rec.arn, generation) {
            return Ok(kek);
        }
        if rec.state != "Enabled" {
            return Err(ApiError::new(
                ErrorCode::DecryptionFailure,
                format!("The KMS key {} is {}.", rec.arn, rec.state.to_lowercase()),
            ));
        }
        let wrapped = rec
            .wrapped_material
            .iter()
            .find(|(g, _)| *g == generation)
            .map(|(_, w)| w)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::DecryptionFailure,
                    "The KMS key material for this secret version is missing.",
                )
            })?;
        let root = self.root()?;
        let bytes = root
            .open(&material_aad(&rec.arn, generation), wrapped)
            .map_err(crate::convert::decrypt)?;
        let kek = Arc::new(SymmetricKey::from_bytes(&bytes).map_err(crate::convert::decrypt)?);
        self.keks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(rec.arn.clone())
            .or_default()
            .insert(generation, kek.clone());
        Ok(kek)
    }
}
