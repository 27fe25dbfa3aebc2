//! Key management: CreateKey, DescribeKey, ListKeys, Enable/DisableKey, scheduled
//! deletion (and the job that carries it out).

use super::props::{check_policy, check_tags, merge_tags};
use super::{MAX_TAGS, err, invalid, key_metadata, page, ts};
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::clock::DAY_MS;
use coffer_crypto::SymmetricKey;
use coffer_protocol::ErrorCode;
use coffer_store::{KmsKeyMeta, KmsKeyRecord};
use serde::Deserialize;
use serde_json::{Value, json};

/// A tag on the wire.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WireTag {
    pub(super) tag_key: Option<String>,
    pub(super) tag_value: Option<String>,
}

/// CreateKey's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateKeyInput {
    pub(super) description: Option<String>,
    pub(super) key_usage: Option<String>,
    pub(super) key_spec: Option<String>,
    pub(super) customer_master_key_spec: Option<String>,
    pub(super) origin: Option<String>,
    pub(super) policy: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<WireTag>,
    pub(super) multi_region: Option<bool>,
    pub(super) bypass_policy_lockout_safety_check: Option<bool>,
}

/// Input of the operations naming one key.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyInput {
    pub(super) key_id: Option<String>,
    pub(super) pending_window_in_days: Option<i64>,
    pub(super) rotation_period_in_days: Option<i64>,
    pub(super) policy_name: Option<String>,
    pub(super) policy: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<WireTag>,
    #[serde(default)]
    pub(super) tag_keys: Vec<String>,
    pub(super) limit: Option<i64>,
    pub(super) marker: Option<String>,
    pub(super) bypass_policy_lockout_safety_check: Option<bool>,
}

impl Service {
    /// Finds, authorizes (customer keys only), locks and re-reads a key, lets `f` change
    /// it and build the response, then saves it with the call's audit record.
    pub(super) async fn kms_mutate(
        &self,
        caller: &Caller,
        id: Option<&str>,
        action: &str,
        f: impl FnOnce(&mut KmsKeyRecord, i64) -> ApiResult<Value>,
    ) -> ApiResult<Value> {
        let key = self.kms_customer_key_for(caller, id, action).await?;
        let _guard = self.write_lock(&key.arn).await;
        let mut key = self
            .store()
            .kms_key_by_arn(&key.arn)
            .await
            .map_err(crate::convert::store)?
            .ok_or_else(|| {
                err(
                    ErrorCode::NotFoundException,
                    format!("Key '{}' does not exist", key.arn),
                )
            })?;
        let out = f(&mut key, self.now_ms())?;
        self.kms_save(caller, &key, &out).await?;
        Ok(out)
    }

    /// CreateKey.
    pub(crate) async fn kms_create_key(
        &self,
        caller: &Caller,
        input: CreateKeyInput,
    ) -> ApiResult<Value> {
        let tags = check_tags(&input.tags)?;
        if tags.len() > MAX_TAGS {
            return Err(err(
                ErrorCode::TagException,
                format!("A key can have at most {MAX_TAGS} tags."),
            ));
        }
        self.authorize(
            caller,
            &Access::new("kms:CreateKey")
                .key("kms:CallerAccount", caller.account_id.clone())
                .request_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            "*",
            None,
        )
        .await?;
        let description = input.description.unwrap_or_default();
        if description.chars().count() > 8192 {
            return Err(invalid("Description must be at most 8192 characters."));
        }
        if input
            .key_usage
            .as_deref()
            .is_some_and(|u| u != "ENCRYPT_DECRYPT")
        {
            return Err(invalid("Coffer supports only KeyUsage ENCRYPT_DECRYPT."));
        }
        for spec in [&input.key_spec, &input.customer_master_key_spec] {
            if spec.as_deref().is_some_and(|s| s != "SYMMETRIC_DEFAULT") {
                return Err(invalid("Coffer supports only KeySpec SYMMETRIC_DEFAULT."));
            }
        }
        if input.origin.as_deref().is_some_and(|o| o != "AWS_KMS") {
            return Err(err(
                ErrorCode::UnsupportedOperationException,
                "Coffer supports only Origin AWS_KMS.",
            ));
        }
        if input.multi_region == Some(true) {
            return Err(err(
                ErrorCode::UnsupportedOperationException,
                "Multi-Region keys are not supported.",
            ));
        }
        if let Some(p) = &input.policy {
            check_policy(p)?;
        }
        let mut meta = KmsKeyMeta {
            key_manager: "CUSTOMER".to_owned(),
            description,
            policy: input.policy,
            ..Default::default()
        };
        merge_tags(&mut meta.tags, tags)?;
        let key_id = uuid::Uuid::new_v4().to_string();
        let arn = format!(
            "arn:aws:kms:{}:{}:key/{key_id}",
            caller.region, caller.account_id
        );
        let wrapped = self
            .keyring()
            .wrap_material(&arn, 1, &SymmetricKey::generate())?;
        let key = KmsKeyRecord {
            arn,
            key_id,
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            alias: None,
            generation: 1,
            wrapped_material: vec![(1, wrapped)],
            state: "Enabled".to_owned(),
            created_ms: self.now_ms(),
            meta,
        };
        if key.meta.policy.is_some() && input.bypass_policy_lockout_safety_check != Some(true) {
            self.lockout_check(caller, &key).await?;
        }
        let out = json!({"KeyMetadata": key_metadata(&key)});
        self.kms_save(caller, &key, &out).await?;
        Ok(out)
    }

    /// DescribeKey.
    pub(crate) async fn kms_describe_key(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        let key = self
            .kms_key_for(caller, input.key_id.as_deref(), "DescribeKey")
            .await?;
        Ok(json!({"KeyMetadata": key_metadata(&key)}))
    }

    /// ListKeys: the keys of the caller's account and region.
    pub(crate) async fn kms_list_keys(&self, caller: &Caller, input: KeyInput) -> ApiResult<Value> {
        self.authorize(caller, &Access::new("kms:ListKeys"), "*", None)
            .await?;
        let keys = self
            .store()
            .list_kms_keys(&caller.account_id, &caller.region)
            .await
            .map_err(crate::convert::store)?;
        let (keys, next) = page(keys, input.limit, input.marker.as_deref())?;
        let list: Vec<Value> = keys
            .iter()
            .map(|k| json!({"KeyId": k.key_id, "KeyArn": k.arn}))
            .collect();
        let mut out = json!({"Keys": list, "Truncated": next.is_some()});
        if let Some(n) = next {
            out["NextMarker"] = json!(n);
        }
        Ok(out)
    }

    /// EnableKey / DisableKey.
    pub(crate) async fn kms_set_enabled(
        &self,
        caller: &Caller,
        input: KeyInput,
        enable: bool,
    ) -> ApiResult<Value> {
        let action = if enable { "EnableKey" } else { "DisableKey" };
        self.kms_mutate(caller, input.key_id.as_deref(), action, |key, _| {
            super::resolve::not_pending_deletion(key)?;
            key.state = if enable { "Enabled" } else { "Disabled" }.to_owned();
            Ok(json!({}))
        })
        .await
    }

    /// ScheduleKeyDeletion (7–30 days, default 30).
    pub(crate) async fn kms_schedule_deletion(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        let days = input.pending_window_in_days.unwrap_or(30);
        super::in_range("pendingWindowInDays", days, 7, 30)?;
        self.kms_mutate(
            caller,
            input.key_id.as_deref(),
            "ScheduleKeyDeletion",
            |key, now| {
                super::resolve::not_pending_deletion(key)?;
                let when = now + days * DAY_MS;
                key.state = "PendingDeletion".to_owned();
                key.meta.deletion_ms = Some(when);
                Ok(json!({
                    "KeyId": key.arn, "DeletionDate": ts(when),
                    "KeyState": "PendingDeletion", "PendingWindowInDays": days
                }))
            },
        )
        .await
    }

    /// CancelKeyDeletion: back to `Disabled`, as AWS.
    pub(crate) async fn kms_cancel_deletion(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        self.kms_mutate(
            caller,
            input.key_id.as_deref(),
            "CancelKeyDeletion",
            |key, _| {
                if key.state != "PendingDeletion" {
                    return Err(err(
                        ErrorCode::KMSInvalidStateException,
                        format!("{} is not pending deletion.", key.arn),
                    ));
                }
                key.state = "Disabled".to_owned();
                key.meta.deletion_ms = None;
                Ok(json!({"KeyId": key.arn}))
            },
        )
        .await
    }

    /// Deletes every key whose scheduled deletion date has passed (material, aliases and
    /// all); returns how many. Run by the server's background job.
    pub async fn kms_delete_due_keys(&self) -> ApiResult<usize> {
        let due = self
            .store()
            .kms_keys_due_for_deletion(self.now_ms())
            .await
            .map_err(crate::convert::store)?;
        for arn in &due {
            let mut parts = arn.split(':');
            let region = parts.nth(3).unwrap_or_default().to_owned();
            let account = parts.next().unwrap_or_default().to_owned();
            let audit = (self.audit_mode() != crate::audit::AuditMode::Off)
                .then(|| self.kms_service_event(&account, &region, "DeleteKey", arn));
            self.store()
                .delete_kms_key_audited(arn, audit)
                .await
                .map_err(crate::convert::store)?;
            self.keyring().forget(arn);
        }
        Ok(due.len())
    }
}
