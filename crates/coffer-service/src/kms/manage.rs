//! Key management: CreateKey, DescribeKey, ListKeys, Enable/DisableKey, scheduled
//! deletion, rotation settings, key policies and tags.

use super::{MAX_ON_DEMAND_ROTATIONS, MAX_POLICY, MAX_TAGS, err, invalid, key_metadata, page, ts};
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::clock::DAY_MS;
use coffer_crypto::SymmetricKey;
use coffer_protocol::ErrorCode;
use coffer_store::{KmsKeyMeta, KmsKeyRecord, KmsRotation};
use serde::Deserialize;
use serde_json::{Value, json};

/// A tag on the wire.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WireTag {
    tag_key: Option<String>,
    tag_value: Option<String>,
}

/// CreateKey's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateKeyInput {
    description: Option<String>,
    key_usage: Option<String>,
    key_spec: Option<String>,
    customer_master_key_spec: Option<String>,
    origin: Option<String>,
    policy: Option<String>,
    #[serde(default)]
    tags: Vec<WireTag>,
    multi_region: Option<bool>,
    bypass_policy_lockout_safety_check: Option<bool>,
}

/// Input of the operations naming one key.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyInput {
    key_id: Option<String>,
    pending_window_in_days: Option<i64>,
    rotation_period_in_days: Option<i64>,
    policy_name: Option<String>,
    policy: Option<String>,
    #[serde(default)]
    tags: Vec<WireTag>,
    #[serde(default)]
    tag_keys: Vec<String>,
    limit: Option<i64>,
    marker: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
}

/// Validates tags as KMS does; returns (key, value) pairs.
fn check_tags(tags: &[WireTag]) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(tags.len());
    for t in tags {
        let k = t.tag_key.clone().unwrap_or_default();
        let v = t.tag_value.clone().unwrap_or_default();
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(err(
                ErrorCode::TagException,
                "Tag keys must be 1-128 characters and tag values 0-256 characters.",
            ));
        }
        if k.starts_with("aws:") {
            return Err(err(
                ErrorCode::TagException,
                "Tags beginning with aws: are reserved.",
            ));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn merge_tags(existing: &mut Vec<(String, String)>, new: Vec<(String, String)>) -> ApiResult<()> {
    for (k, v) in new {
        match existing.iter_mut().find(|(ek, _)| *ek == k) {
            Some(e) => e.1 = v,
            None => existing.push((k, v)),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(err(
            ErrorCode::LimitExceededException,
            format!("A key can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(())
}

/// Validates a key policy document.
pub(crate) fn check_policy(text: &str) -> ApiResult<()> {
    if text.len() > MAX_POLICY {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY}"
        )));
    }
    coffer_policy::Policy::parse_with_limit(text, MAX_POLICY).map_err(|e| {
        err(
            ErrorCode::MalformedPolicyDocumentException,
            format!(
                "The new key policy will not allow you to update the key policy in the future: {}",
                e.detail()
            ),
        )
    })?;
    Ok(())
}

fn check_policy_name(name: Option<&str>) -> ApiResult<()> {
    match name {
        None | Some("default") => Ok(()),
        Some(other) => Err(err(
            ErrorCode::NotFoundException,
            format!("Policy {other} does not exist. The only valid policy name is default."),
        )),
    }
}

impl Service {
    /// Finds, authorizes (customer keys only), locks and re-reads a key, lets `f` change
    /// it and build the response, then saves it with the call's audit record.
    async fn kms_mutate(
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

    /// The policy lockout safety check: the key's (new) policy must let the caller change
    /// the policy again.
    async fn lockout_check(&self, caller: &Caller, key: &KmsKeyRecord) -> ApiResult<()> {
        self.kms_authorize(caller, key, "PutKeyPolicy", None, None)
            .await
            .map_err(|_| {
                err(
                    ErrorCode::MalformedPolicyDocumentException,
                    "The new key policy will not allow you to update the key policy in the future.",
                )
            })
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
            if key.state == "PendingDeletion" {
                return Err(err(
                    ErrorCode::KMSInvalidStateException,
                    format!("{} is pending deletion.", key.arn),
                ));
            }
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
        if !(7..=30).contains(&days) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30 and greater than or equal to 7"
            )));
        }
        self.kms_mutate(
            caller,
            input.key_id.as_deref(),
            "ScheduleKeyDeletion",
            |key, now| {
                if key.state == "PendingDeletion" {
                    return Err(err(
                        ErrorCode::KMSInvalidStateException,
                        format!("{} is pending deletion.", key.arn),
                    ));
                }
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

    /// EnableKeyRotation (90–2560 days, default 365).
    pub(crate) async fn kms_enable_rotation(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        let days = input.rotation_period_in_days.unwrap_or(365);
        if !(90..=2560).contains(&days) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{days}' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value less than or equal to 2560 and greater than or equal to 90"
            )));
        }
        self.kms_mutate(
            caller,
            input.key_id.as_deref(),
            "EnableKeyRotation",
            |key, now| {
                if let Some(e) = super::resolve::unusable(key) {
                    return Err(e);
                }
                key.meta.rotation_enabled = true;
                key.meta.rotation_period_days = Some(days as u32);
                key.meta.next_rotation_ms = Some(now + days * DAY_MS);
                Ok(json!({}))
            },
        )
        .await
    }

    /// DisableKeyRotation.
    pub(crate) async fn kms_disable_rotation(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        self.kms_mutate(
            caller,
            input.key_id.as_deref(),
            "DisableKeyRotation",
            |key, _| {
                if let Some(e) = super::resolve::unusable(key) {
                    return Err(e);
                }
                key.meta.rotation_enabled = false;
                key.meta.next_rotation_ms = None;
                Ok(json!({}))
            },
        )
        .await
    }

    /// GetKeyRotationStatus.
    pub(crate) async fn kms_rotation_status(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        let key = self
            .kms_key_for(caller, input.key_id.as_deref(), "GetKeyRotationStatus")
            .await?;
        let mut out = json!({"KeyId": key.arn, "KeyRotationEnabled": key.meta.rotation_enabled});
        if key.meta.rotation_enabled {
            out["RotationPeriodInDays"] = json!(key.meta.rotation_period_days.unwrap_or(365));
            if let Some(n) = key.meta.next_rotation_ms {
                out["NextRotationDate"] = ts(n);
            }
        }
        Ok(out)
    }

    /// Adds a generation of fresh material to `key` (old generations are kept).
    pub(crate) fn kms_add_generation(
        &self,
        key: &mut KmsKeyRecord,
        now: i64,
        kind: &str,
    ) -> ApiResult<()> {
        let generation = key.generation + 1;
        let wrapped =
            self.keyring()
                .wrap_material(&key.arn, generation, &SymmetricKey::generate())?;
        key.wrapped_material.push((generation, wrapped));
        key.generation = generation;
        key.meta.rotations.push(KmsRotation {
            generation,
            time_ms: now,
            rotation_type: kind.to_owned(),
        });
        Ok(())
    }

    /// RotateKeyOnDemand.
    pub(crate) async fn kms_rotate_on_demand(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        let key = self
            .kms_customer_key_for(caller, input.key_id.as_deref(), "RotateKeyOnDemand")
            .await?;
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
        if let Some(e) = super::resolve::unusable(&key) {
            return Err(e);
        }
        let on_demand = key
            .meta
            .rotations
            .iter()
            .filter(|r| r.rotation_type == "ON_DEMAND")
            .count();
        if on_demand >= MAX_ON_DEMAND_ROTATIONS {
            return Err(err(
                ErrorCode::LimitExceededException,
                format!(
                    "{} has reached the limit of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations.",
                    key.arn
                ),
            ));
        }
        self.kms_add_generation(&mut key, self.now_ms(), "ON_DEMAND")?;
        let out = json!({"KeyId": key.arn});
        self.kms_save(caller, &key, &out).await?;
        Ok(out)
    }

    /// ListKeyRotations.
    pub(crate) async fn kms_list_rotations(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        let key = self
            .kms_key_for(caller, input.key_id.as_deref(), "ListKeyRotations")
            .await?;
        let (rots, next) = page(
            key.meta.rotations.clone(),
            input.limit,
            input.marker.as_deref(),
        )?;
        let list: Vec<Value> = rots
            .iter()
            .map(|r| json!({"KeyId": key.arn, "RotationDate": ts(r.time_ms), "RotationType": r.rotation_type}))
            .collect();
        let mut out = json!({"Rotations": list, "Truncated": next.is_some()});
        if let Some(n) = next {
            out["NextMarker"] = json!(n);
        }
        Ok(out)
    }

    /// GetKeyPolicy (policy name `default`).
    pub(crate) async fn kms_get_policy(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        check_policy_name(input.policy_name.as_deref())?;
        let key = self
            .kms_key_for(caller, input.key_id.as_deref(), "GetKeyPolicy")
            .await?;
        Ok(json!({"Policy": Self::kms_policy_text(&key), "PolicyName": "default"}))
    }

    /// PutKeyPolicy.
    pub(crate) async fn kms_put_policy(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        check_policy_name(input.policy_name.as_deref())?;
        let policy = input.policy.ok_or_else(|| invalid("Policy is required."))?;
        check_policy(&policy)?;
        if input.bypass_policy_lockout_safety_check != Some(true) {
            let mut key = self
                .kms_customer_key_for(caller, input.key_id.as_deref(), "PutKeyPolicy")
                .await?;
            key.meta.policy = Some(policy.clone());
            self.lockout_check(caller, &key).await?;
        }
        self.kms_mutate(caller, input.key_id.as_deref(), "PutKeyPolicy", |key, _| {
            key.meta.policy = Some(policy);
            Ok(json!({}))
        })
        .await
    }

    /// TagResource.
    pub(crate) async fn kms_tag(&self, caller: &Caller, input: KeyInput) -> ApiResult<Value> {
        let tags = check_tags(&input.tags)?;
        if tags.is_empty() || tags.len() > MAX_TAGS {
            return Err(invalid(format!("Tags must list 1 to {MAX_TAGS} tags.")));
        }
        self.kms_mutate(caller, input.key_id.as_deref(), "TagResource", |key, _| {
            if key.state == "PendingDeletion" {
                return Err(err(
                    ErrorCode::KMSInvalidStateException,
                    format!("{} is pending deletion.", key.arn),
                ));
            }
            merge_tags(&mut key.meta.tags, tags)?;
            Ok(json!({}))
        })
        .await
    }

    /// UntagResource.
    pub(crate) async fn kms_untag(&self, caller: &Caller, input: KeyInput) -> ApiResult<Value> {
        let keys = input.tag_keys;
        if keys.is_empty() || keys.len() > MAX_TAGS {
            return Err(invalid(format!("TagKeys must list 1 to {MAX_TAGS} keys.")));
        }
        self.kms_mutate(
            caller,
            input.key_id.as_deref(),
            "UntagResource",
            |key, _| {
                if key.state == "PendingDeletion" {
                    return Err(err(
                        ErrorCode::KMSInvalidStateException,
                        format!("{} is pending deletion.", key.arn),
                    ));
                }
                key.meta.tags.retain(|(k, _)| !keys.contains(k));
                Ok(json!({}))
            },
        )
        .await
    }

    /// ListResourceTags.
    pub(crate) async fn kms_list_tags(&self, caller: &Caller, input: KeyInput) -> ApiResult<Value> {
        let key = self
            .kms_key_for(caller, input.key_id.as_deref(), "ListResourceTags")
            .await?;
        let (tags, next) = page(key.meta.tags.clone(), input.limit, input.marker.as_deref())?;
        let list: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
            .collect();
        let mut out = json!({"Tags": list, "Truncated": next.is_some()});
        if let Some(n) = next {
            out["NextMarker"] = json!(n);
        }
        Ok(out)
    }

    /// Rotates every enabled key whose automatic rotation is due (a new generation; the
    /// next rotation one period later); returns how many. Run by the background job.
    pub async fn kms_rotate_due_keys(&self) -> ApiResult<usize> {
        let now = self.now_ms();
        let due = self
            .store()
            .kms_keys_due_for_rotation(now)
            .await
            .map_err(crate::convert::store)?;
        let mut n = 0;
        for arn in &due {
            let _guard = self.write_lock(arn).await;
            let Some(mut key) = self
                .store()
                .kms_key_by_arn(arn)
                .await
                .map_err(crate::convert::store)?
            else {
                continue;
            };
            let due_at = key.meta.next_rotation_ms.unwrap_or(i64::MAX);
            if key.state != "Enabled" || !key.meta.rotation_enabled || due_at > now {
                continue;
            }
            self.kms_add_generation(&mut key, now, "AUTOMATIC")?;
            let period = i64::from(key.meta.rotation_period_days.unwrap_or(365));
            key.meta.next_rotation_ms = Some(now + period * DAY_MS);
            let audit = (self.audit_mode() != crate::audit::AuditMode::Off)
                .then(|| self.kms_service_event(&key.account_id, &key.region, "RotateKey", arn));
            self.store()
                .put_kms_key_audited(&key, audit)
                .await
                .map_err(crate::convert::store)?;
            self.keyring().forget(arn);
            n += 1;
        }
        Ok(n)
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
