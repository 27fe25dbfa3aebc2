//! The operations, grouped by what they touch, plus the helpers they share:
//! value intake, sealing a new version, opening a version, and commit-with-retry.

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod meta;
pub mod password;
pub(crate) mod policy;
pub(crate) mod read;
pub(crate) mod write;

use crate::{Access, ApiResult, Caller, Service};
use coffer_core::{SecretRecord, SecretState, ValueKind, VersionRecord, validate};
use coffer_crypto::ValueContext;
use coffer_protocol::shapes::{SecretBytes, SecretText};
use coffer_protocol::{ApiError, ErrorCode};
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
    /// Validates and resolves a KmsKeyId (key id, key ARN, alias name or alias ARN):
    /// `None` for the account's AWS managed key, else the customer key's ARN.
    pub(crate) async fn check_kms_key_id(
        &self,
        caller: &Caller,
        id: Option<&str>,
    ) -> ApiResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        validate::kms_key_id(id).map_err(crate::convert::core)?;
        if id.is_empty() {
            return Ok(None);
        }
        let key = self
            .kms_find_key(caller, Some(id))
            .await
            .map_err(|e| match e.code {
                ErrorCode::NotFoundException | ErrorCode::ValidationException => ApiError::new(
                    ErrorCode::ResourceNotFoundException,
                    format!("The KMS key {id} can't be found."),
                ),
                _ => e,
            })?;
        if !crate::kms::is_customer(&key) {
            // AWS managed keys serve only their own account.
            if key.account_id == caller.account_id {
                return Ok(None);
            }
            return Err(ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!("The KMS key {id} can't be found."),
            ));
        }
        Ok(Some(key.arn))
    }

    /// `kms:ViaService` when Secrets Manager uses a key for `caller`.
    fn via_secretsmanager(caller: &Caller) -> String {
        format!("secretsmanager.{}.amazonaws.com", caller.region)
    }

    /// Authorizes Secrets Manager's use of customer key `key` for `caller` (`action` is
    /// `GenerateDataKey` or `Decrypt`), with the encryption context AWS uses.
    async fn authorize_secret_key(
        &self,
        caller: &Caller,
        key: &coffer_store::KmsKeyRecord,
        action: &str,
        secret_arn: &str,
        version_id: &str,
    ) -> ApiResult<()> {
        let context: std::collections::BTreeMap<String, String> = [
            ("SecretARN".to_owned(), secret_arn.to_owned()),
            ("SecretVersionId".to_owned(), version_id.to_owned()),
        ]
        .into();
        let via = Self::via_secretsmanager(caller);
        self.kms_authorize(caller, key, action, Some(&via), Some(&context))
            .await
            .map_err(|e| match e.code {
                ErrorCode::AccessDeniedException => ApiError::new(
                    ErrorCode::AccessDeniedException,
                    format!("Access to KMS is not allowed. {}", e.message),
                ),
                _ => e,
            })
    }

    /// Encrypts `value` as version `version_id` of `secret` under its key (the secret's
    /// customer key, else the account's AWS managed key), newest generation.
    pub(crate) async fn seal_version(
        &self,
        caller: &Caller,
        secret: &SecretRecord,
        version_id: &str,
        stages: Vec<String>,
        value: &Value,
    ) -> ApiResult<NewVersion> {
        let key = match &secret.kms_key_id {
            Some(arn) => {
                let key = self
                    .store
                    .kms_key_by_arn(arn)
                    .await
                    .map_err(crate::convert::store)?
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::EncryptionFailure,
                            format!("The KMS key {arn} no longer exists."),
                        )
                    })?;
                if let Some(e) = crate::kms::unusable(&key) {
                    return Err(ApiError::new(
                        ErrorCode::EncryptionFailure,
                        format!(
                            "Secrets Manager can't encrypt the protected secret text using the provided KMS key: {}",
                            e.message
                        ),
                    ));
                }
                self.authorize_secret_key(caller, &key, "GenerateDataKey", &secret.arn, version_id)
                    .await?;
                key
            }
            None => {
                self.keyring
                    .default_key(
                        &*self.store,
                        &secret.account_id,
                        &secret.region,
                        self.now_ms(),
                    )
                    .await?
            }
        };
        self.seal_with(&key, secret, version_id, stages, value)
    }

    /// Encrypts `value` under the newest generation of `key`.
    pub(crate) fn seal_with(
        &self,
        key: &coffer_store::KmsKeyRecord,
        secret: &SecretRecord,
        version_id: &str,
        stages: Vec<String>,
        value: &Value,
    ) -> ApiResult<NewVersion> {
        let kek = self.keyring.kek(key, key.generation)?;
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
                kms_key_arn: key.arn.clone(),
                key_generation: key.generation,
                wrapped_dek: env.wrapped_dek,
                ciphertext: env.ciphertext,
            },
        })
    }

    /// Decrypts one version of a secret.
    pub(crate) async fn open_version(
        &self,
        caller: &Caller,
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
        self.open_sealed(caller, secret, version_id, &sealed).await
    }

    /// Decrypts a sealed value of version `version_id` of `secret`. Values under a
    /// customer key need the key enabled and `kms:Decrypt` for the caller (via Secrets
    /// Manager); the AWS managed key's material is used straight from the cache.
    pub(crate) async fn open_sealed(
        &self,
        caller: &Caller,
        secret: &SecretRecord,
        version_id: &str,
        sealed: &coffer_core::SealedValue,
    ) -> ApiResult<Value> {
        let arn = &sealed.kms_key_arn;
        let fast = self.keyring.cached_is_enabled_aws_managed(arn) == Some(true);
        let cached = if fast {
            self.keyring.cached_kek(arn, sealed.key_generation)
        } else {
            None
        };
        let kek = match cached {
            Some(kek) => kek,
            None => {
                let mut key = self.keyring.key_record(&*self.store, arn).await?;
                if crate::kms::is_customer(&key) {
                    // A customer key's state can change at any time (on any node).
                    key = self.keyring.fresh_record(&*self.store, arn).await?;
                    if let Some(e) = crate::kms::unusable(&key) {
                        return Err(ApiError::new(
                            ErrorCode::DecryptionFailure,
                            format!(
                                "Secrets Manager can't decrypt the protected secret text using the provided KMS key: {}",
                                e.message
                            ),
                        ));
                    }
                    self.authorize_secret_key(caller, &key, "Decrypt", &secret.arn, version_id)
                        .await?;
                }
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
