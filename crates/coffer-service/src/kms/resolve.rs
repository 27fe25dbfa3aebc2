//! Finding keys (key id, key ARN, alias name, alias ARN), authorizing calls on them with
//! their key policy, and saving changes with the call's audit record.

use super::{err, invalid, is_customer, policy};
use crate::keyring::DEFAULT_KEY_ALIAS;
use crate::{Access, ApiResult, Caller, Service};
use coffer_policy::AuthzRequest;
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::KmsKeyRecord;
use std::collections::BTreeMap;

/// How a KMS key was named by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A key ARN `arn:aws:kms:<region>:<account>:key/<id>`.
    KeyArn(String),
    /// An alias in an account and region: (account, region, `alias/…`).
    Alias(String, String, String),
}

impl KeyRef {
    /// Parses a `KeyId` parameter as seen by `caller` (key id, key ARN, alias name, alias
    /// ARN). `None` when it has none of these forms.
    pub fn parse(caller: &Caller, id: &str) -> Option<KeyRef> {
        if let Some(rest) = id.strip_prefix("arn:aws:kms:") {
            let mut parts = rest.splitn(3, ':');
            let (region, account, res) = (parts.next()?, parts.next()?, parts.next()?);
            if region.is_empty() || account.len() != 12 {
                return None;
            }
            if let Some(kid) = res.strip_prefix("key/") {
                return (!kid.is_empty()).then(|| KeyRef::KeyArn(id.to_owned()));
            }
            if res.starts_with("alias/") && res.len() > 6 {
                return Some(KeyRef::Alias(account.into(), region.into(), res.into()));
            }
            return None;
        }
        if id.starts_with("alias/") {
            return (id.len() > 6).then(|| {
                KeyRef::Alias(caller.account_id.clone(), caller.region.clone(), id.into())
            });
        }
        if id.is_empty() || id.contains([':', '/']) {
            return None;
        }
        Some(KeyRef::KeyArn(format!(
            "arn:aws:kms:{}:{}:key/{id}",
            caller.region, caller.account_id
        )))
    }
}

/// The `NotFoundException` for a key.
fn key_not_found(what: &str) -> ApiError {
    err(
        ErrorCode::NotFoundException,
        format!("Key '{what}' does not exist"),
    )
}

/// The state error for a key that cannot be used for cryptography.
pub(crate) fn unusable(key: &KmsKeyRecord) -> Option<ApiError> {
    match key.state.as_str() {
        "Enabled" => None,
        "Disabled" => Some(err(
            ErrorCode::DisabledException,
            format!("{} is disabled.", key.arn),
        )),
        other => Some(err(
            ErrorCode::KMSInvalidStateException,
            format!("{} is {}.", key.arn, state_words(other)),
        )),
    }
}

/// Refuses management of a key scheduled for deletion (`KMSInvalidStateException`).
pub(crate) fn not_pending_deletion(key: &KmsKeyRecord) -> ApiResult<()> {
    if key.state == "PendingDeletion" {
        return Err(err(
            ErrorCode::KMSInvalidStateException,
            format!("{} is pending deletion.", key.arn),
        ));
    }
    Ok(())
}

/// `PendingDeletion` → `pending deletion`.
pub(crate) fn state_words(state: &str) -> String {
    let mut out = String::new();
    for (i, c) in state.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Service {
    /// The key named by `id` (any of its four forms). Unknown → `NotFoundException`.
    pub(crate) async fn kms_find_key(
        &self,
        caller: &Caller,
        id: Option<&str>,
    ) -> ApiResult<KmsKeyRecord> {
        let id = id.ok_or_else(|| invalid("KeyId is required."))?;
        if id.is_empty() || id.len() > 2048 {
            return Err(invalid(
                "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048",
            ));
        }
        let r = KeyRef::parse(caller, id).ok_or_else(|| {
            err(
                ErrorCode::NotFoundException,
                format!("Invalid keyId '{id}'"),
            )
        })?;
        match r {
            // KMS is regional: a key of another region is not found from this one.
            KeyRef::KeyArn(arn) => self
                .store()
                .kms_key_by_arn(&arn)
                .await
                .map_err(crate::convert::store)?
                .filter(|k| k.region == caller.region)
                .ok_or_else(|| key_not_found(&arn)),
            KeyRef::Alias(account, region, name) => {
                if region != caller.region {
                    return Err(err(
                        ErrorCode::NotFoundException,
                        format!("Alias arn:aws:kms:{region}:{account}:{name} is not found."),
                    ));
                }
                let alias_arn = format!("arn:aws:kms:{region}:{account}:{name}");
                let not_found = || {
                    err(
                        ErrorCode::NotFoundException,
                        format!("Alias {alias_arn} is not found."),
                    )
                };
                if name == DEFAULT_KEY_ALIAS {
                    if account != caller.account_id {
                        return Err(not_found());
                    }
                    return self
                        .keyring()
                        .default_key(&**self.store(), &account, &region, self.now_ms())
                        .await;
                }
                let aliases = self
                    .store()
                    .list_kms_aliases(&account, &region)
                    .await
                    .map_err(crate::convert::store)?;
                let target = aliases
                    .into_iter()
                    .find(|a| a.name == name)
                    .ok_or_else(not_found)?
                    .target_arn;
                self.store()
                    .kms_key_by_arn(&target)
                    .await
                    .map_err(crate::convert::store)?
                    .ok_or_else(not_found)
            }
        }
    }

    /// The key's policy text (stored, or the default for its kind).
    pub(crate) fn kms_policy_text(key: &KmsKeyRecord) -> String {
        match &key.meta.policy {
            Some(p) => p.clone(),
            None if is_customer(key) => policy::default_key_policy(&key.account_id),
            None => policy::aws_managed_policy(&key.account_id, &key.region),
        }
    }

    /// Authorizes `caller` to perform `kms:<action>` on `key` with KMS semantics: the key
    /// policy must allow it, directly or by delegating to the account and IAM.
    /// `via` sets `kms:ViaService` (Secrets Manager acting for the caller); `context`
    /// sets `kms:EncryptionContext:*` and `kms:EncryptionContextKeys`.
    pub(crate) async fn kms_authorize(
        &self,
        caller: &Caller,
        key: &KmsKeyRecord,
        action: &str,
        via: Option<&str>,
        context: Option<&BTreeMap<String, String>>,
    ) -> ApiResult<()> {
        // A direct KMS call's record names the key; one made through Secrets Manager names
        // the secret.
        if via.is_none()
            && let Some(d) = &caller.audit
        {
            d.note_resource(&key.arn);
        }
        let mut access = Access::new(format!("kms:{action}"))
            .key(
                "kms:CallerAccount",
                caller.identity.principal.account.clone(),
            )
            .opt("kms:ViaService", via);
        if let Some(c) = context {
            for (k, v) in c {
                access = access.key(&format!("kms:EncryptionContext:{k}"), v.clone());
            }
            if !c.is_empty() {
                access = access.multi("kms:EncryptionContextKeys", c.keys().cloned().collect());
            }
        }
        let text = Self::kms_policy_text(key);
        let key_policy = self.authz_cache().key_policy(&text)?;
        let policies = self.principal_policies(caller).await?;
        let ctx = self.request_context(caller, &access, &key.arn, None, &policies);
        let refs = crate::authz::refs;
        let identity = refs(&policies.identity);
        let boundary = policies.boundary.as_deref().map(refs);
        let session = caller
            .identity
            .session
            .as_ref()
            .and_then(|s| s.policies.as_deref())
            .map(refs);
        let req = AuthzRequest {
            ctx: &ctx,
            identity: &identity,
            boundary: boundary.as_deref(),
            session: session.as_deref(),
            resource_policy: Some(policy::key_policy_ref(&key_policy)),
            resource_account: &key.account_id,
        };
        let outcome = policy::decide(&req, &key_policy);
        if outcome.allowed() {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::AccessDeniedException,
                outcome.message(&ctx),
            ))
        }
    }

    /// Finds the key named by `id` and authorizes `action` on it.
    pub(crate) async fn kms_key_for(
        &self,
        caller: &Caller,
        id: Option<&str>,
        action: &str,
    ) -> ApiResult<KmsKeyRecord> {
        let key = self.kms_find_key(caller, id).await?;
        self.kms_authorize(caller, &key, action, None, None).await?;
        Ok(key)
    }

    /// Like [`Service::kms_key_for`] for management operations, which AWS managed keys
    /// refuse.
    pub(crate) async fn kms_customer_key_for(
        &self,
        caller: &Caller,
        id: Option<&str>,
        action: &str,
    ) -> ApiResult<KmsKeyRecord> {
        let key = self.kms_key_for(caller, id, action).await?;
        if !is_customer(&key) {
            return Err(err(
                ErrorCode::AccessDeniedException,
                format!(
                    "User: {} is not authorized to perform: kms:{action} on resource: {} because it is an AWS managed key",
                    caller.principal_arn(),
                    key.arn
                ),
            ));
        }
        Ok(key)
    }

    /// Stores `key` with the caller's audit record (response `response`) in the same
    /// transaction, and drops cached copies of it.
    pub(crate) async fn kms_save(
        &self,
        caller: &Caller,
        key: &KmsKeyRecord,
        response: &serde_json::Value,
    ) -> ApiResult<()> {
        if let Some(d) = &caller.audit {
            d.note_resource(&key.arn);
        }
        let audit = self.audit_for_commit(caller, response);
        let audited = audit.is_some();
        self.store()
            .put_kms_key_audited(key, audit)
            .await
            .map_err(crate::convert::store)?;
        self.keyring().forget(&key.arn);
        if audited {
            self.audit_committed(caller);
        }
        Ok(())
    }
}
