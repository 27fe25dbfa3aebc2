//! Rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand, ListKeyRotations, and the automatic rotation job.

use super::manage::KeyInput;
use super::{MAX_ON_DEMAND_ROTATIONS, err, page, ts};
use crate::{ApiResult, Caller, Service};
use coffer_core::clock::DAY_MS;
use coffer_crypto::SymmetricKey;
use coffer_protocol::ErrorCode;
use coffer_store::{KmsKeyRecord, KmsRotation};
use serde_json::{Value, json};

impl Service {
    /// EnableKeyRotation (90–2560 days, default 365).
    pub(crate) async fn kms_enable_rotation(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        let days = input.rotation_period_in_days.unwrap_or(365);
        super::in_range("rotationPeriodInDays", days, 90, 2560)?;
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
}
