//! The operations, grouped by what they touch, plus the helpers they share:
//! value intake, sealing a new version, opening a version, and commit-with-retry.

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod meta;
pub mod password;
pub(crate) mod policy;
pub(crate) mod read;
pub(crate) mod write;

use crate::keyring::DEFAULT_KEY_ALIAS;
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::{SecretRecord, SecretState, ValueKind, VersionRecord, validate};
use coffer_crypto::ValueContext;
use coffer_protocol::ApiError;
use coffer_protocol::shapes::{SecretBytes, SecretText};
use coffer_store::{Change, NewVersion, StoreError};
use zeroize::Zeroizing;

/// A validated plaintext value.
pub(crate) struct Value {
    pub kind: ValueKind,
    pub bytes: Zeroizing<Vec<u8>>,
}

/// Takes SecretString/SecretBinary from a request: at most one, within limits.
pub(crate) fn take_value(
    string: Option<SecretText>,
    binary: Option<SecretBytes>,
) -> ApiResult<Option<Value>> {
    match (string, binary) {
        (Some(_), Some(_)) => Err(ApiError::param(
            "You can't specify both a binary secret value and a string secret value in the same secret.",
        )),
        (Some(s), None) => {
            validate::secret_string(&s.0).map_err(crate::convert::core)?;
            Ok(Some(Value {
                kind: ValueKind::String,
                bytes: Zeroizing::new(s.0.as_bytes().to_vec()),
            }))
        }
        (None, Some(b)) => {
            validate::secret_binary(&b.0).map_err(crate::convert::core)?;
            Ok(Some(Value {
                kind: ValueKind::Binary,
                bytes: b.0,
            }))
        }
        (None, None) => Ok(None),
    }
}

/// The request's ClientRequestToken, validated, or a fresh one.
pub(crate) fn token_or_new(token: Option<String>) -> ApiResult<String> {
    match token {
        Some(t) => {
            validate::client_request_token(&t).map_err(crate::convert::core)?;
            Ok(t)
        }
        None => Ok(uuid::Uuid::new_v4().to_string()),
    }
}

/// Maximum optimistic-concurrency attempts for one write.
pub(crate) const MAX_RETRIES: usize = 10;

/// Jittered exponential pause before retry `attempt` (none before the first try).
pub(crate) async fn backoff(attempt: usize) {
    if attempt == 0 {
        return;
    }
    let cap_ms = 2u64 << attempt.min(6);
    let ms = rand_ms(cap_ms);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

fn rand_ms(cap: u64) -> u64 {
    let b = coffer_crypto::random_bytes(2);
    u64::from(u16::from_le_bytes([b[0], b[1]])) % cap.max(1)
}

impl Service {
    /// Validates a KmsKeyId: until customer-managed keys exist, only the default key.
    pub(crate) async fn check_kms_key_id(
        &self,
        caller: &Caller,
        id: Option<&str>,
    ) -> ApiResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        validate::kms_key_id(id).map_err(crate::convert::core)?;
        let alias_arn = format!(
            "arn:aws:kms:{}:{}:{DEFAULT_KEY_ALIAS}",
            caller.region, caller.account_id
        );
        if id.is_empty() || id == DEFAULT_KEY_ALIAS || id == alias_arn {
            return Ok(None);
        }
        let key = self
            .keyring
            .default_key(
                &*self.store,
                &caller.account_id,
                &caller.region,
                self.now_ms(),
            )
            .await?;
        if id == key.arn || id == key.key_id {
            return Ok(None);
        }
        Err(ApiError::new(
            coffer_protocol::ErrorCode::ResourceNotFoundException,
            format!(
                "The KMS key {id} can't be found. Customer-managed keys are not available yet; use {DEFAULT_KEY_ALIAS}."
            ),
        ))
    }

    /// Encrypts `value` as version `version_id` of `secret` under the account's key.
    pub(crate) async fn seal_version(
        &self,
        secret: &SecretRecord,
        version_id: &str,
        stages: Vec<String>,
        value: &Value,
    ) -> ApiResult<NewVersion> {
        let key = self
            .keyring
            .default_key(
                &*self.store,
                &secret.account_id,
                &secret.region,
                self.now_ms(),
            )
            .await?;
        let kek = self.keyring.kek(&key, key.generation)?;
        let ctx = ValueContext {
            account_id: &secret.account_id,
            secret_arn: &secret.arn,
            version_id,
            kind: value.kind.as_str(),
            kms_key_arn: &key.arn,
            key_generation: key.generation,
        };
        let env =
            coffer_crypto::seal_value(&kek, &ctx, &value.bytes).map_err(crate::convert::encrypt)?;
        Ok(NewVersion {
            record: VersionRecord {
                version_id: version_id.to_owned(),
                stages,
                created_ms: self.now_ms(),
                last_accessed_ms: None,
                kms_key_arn: key.arn.clone(),
            },
            sealed: coffer_core::SealedValue {
                kind: value.kind,
                kms_key_arn: key.arn,
                key_generation: key.generation,
                wrapped_dek: env.wrapped_dek,
                ciphertext: env.ciphertext,
            },
        })
    }

    /// Decrypts one version of a secret.
    pub(crate) async fn open_version(
        &self,
        secret: &SecretRecord,
        version_id: &str,
    ) -> ApiResult<Value> {
        let sealed = self
            .store
            .sealed_value(&secret.arn, version_id)
            .await
            .map_err(crate::convert::store)?
            .ok_or_else(|| {
                ApiError::new(
                    coffer_protocol::ErrorCode::ResourceNotFoundException,
                    format!("Secrets Manager can't find the specified secret value for VersionId: {version_id}"),
                )
            })?;
        self.open_sealed(secret, version_id, &sealed).await
    }

    /// Decrypts a sealed value of version `version_id` of `secret`.
    pub(crate) async fn open_sealed(
        &self,
        secret: &SecretRecord,
        version_id: &str,
        sealed: &coffer_core::SealedValue,
    ) -> ApiResult<Value> {
        let kek = match self
            .keyring
            .cached_kek(&sealed.kms_key_arn, sealed.key_generation)
        {
            Some(kek) => kek,
            None => {
                let key = self
                    .keyring
                    .key_record(&*self.store, &sealed.kms_key_arn)
                    .await?;
                self.keyring.kek(&key, sealed.key_generation)?
            }
        };
        let ctx = ValueContext {
            account_id: &secret.account_id,
            secret_arn: &secret.arn,
            version_id,
            kind: sealed.kind.as_str(),
            kms_key_arn: &sealed.kms_key_arn,
            key_generation: sealed.key_generation,
        };
        let bytes = coffer_crypto::open_value(&kek, &ctx, &sealed.wrapped_dek, &sealed.ciphertext)
            .map_err(crate::convert::decrypt)?;
        Ok(Value {
            kind: sealed.kind,
            bytes,
        })
    }

    /// Read-modify-write of one secret with optimistic concurrency: `plan` sees the current
    /// state and returns the change to commit (or None for a no-op) plus its result.
    pub(crate) async fn mutate<R: serde::Serialize>(
        &self,
        caller: &Caller,
        access: &Access,
        secret_id: Option<&str>,
        mut plan: impl FnMut(&SecretState) -> ApiResult<(Option<Change>, R)>,
    ) -> ApiResult<R> {
        let arn = self.resolve(caller, access, secret_id).await?.secret.arn;
        let _guard = self.write_lock(&arn).await;
        for attempt in 0..MAX_RETRIES {
            backoff(attempt).await;
            let state = self.resolve(caller, access, secret_id).await?;
            let (change, out) = plan(&state)?;
            let Some(change) = change else { return Ok(out) };
            if self.commit_or_retry(caller, change, &out).await? {
                return Ok(out);
            }
        }
        Err(gave_up(access.op()))
    }
}

impl Service {
    /// Commits one planned change with the caller's audit record (whose response elements
    /// are `response`): `Ok(true)` when it landed, `Ok(false)` when a concurrent writer got
    /// there first (re-read and plan again), `Err` on a storage failure.
    pub(crate) async fn commit_or_retry<T: serde::Serialize>(
        &self,
        caller: &Caller,
        change: Change,
        response: &T,
    ) -> ApiResult<bool> {
        let audit = self.audit_for_commit(caller, response);
        let audited = audit.is_some();
        match self.store.commit_audited(change, audit).await {
            Ok(()) => {
                if audited {
                    self.audit_committed(caller);
                }
                Ok(true)
            }
            Err(StoreError::Conflict) | Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(crate::convert::store(e)),
        }
    }
}

/// The error after [`MAX_RETRIES`] lost races on one secret.
pub(crate) fn gave_up(action: &str) -> ApiError {
    tracing::warn!(action, "gave up after repeated write conflicts");
    ApiError::new(
        coffer_protocol::ErrorCode::InternalServiceError,
        "The secret is being changed concurrently; retry the request.",
    )
}

/// The secret row after a change at `now`: next revision, new last-changed time.
pub(crate) fn bumped(secret: &SecretRecord, now_ms: i64) -> SecretRecord {
    let mut s = secret.clone();
    s.revision += 1;
    s.last_changed_ms = now_ms;
    s
}

/// Compares two plaintexts in constant time (idempotency checks).
pub(crate) fn same_value(a: &Value, b: &Value) -> bool {
    a.kind == b.kind && coffer_crypto::constant_time_eq(&a.bytes, &b.bytes)
}
