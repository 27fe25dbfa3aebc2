//! PutSecretValue, UpdateSecret and UpdateSecretVersionStage: every change to values and labels.

use super::{Value, bumped, same_value, take_value, token_or_new};
use crate::resolve::deleted_error;
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::{AWSCURRENT, SecretState, labels, validate};
use coffer_protocol::shapes::{
    PutSecretValueInput, SecretRefOutput, SecretVersionOutput, UpdateSecretInput,
    UpdateSecretVersionStageInput,
};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::{Change, NewVersion};

fn version_exists_error() -> ApiError {
    ApiError::new(
        ErrorCode::ResourceExistsException,
        "You can't modify an existing version, you can only create a new version.",
    )
}

impl Service {
    /// Builds the change that adds `new` to `state` (labels moved, old versions expired).
    fn add_version_change(
        &self,
        state: &SecretState,
        new: NewVersion,
        description: Option<Option<String>>,
    ) -> ApiResult<Change> {
        let now = self.now_ms();
        let mut versions = state.versions.clone();
        labels::attach_new_version(&mut versions, new.record.clone())
            .map_err(crate::convert::core)?;
        let delete_versions = labels::expired_versions(&versions, now);
        let set_stages = labels::stage_diff(&state.versions, &versions);
        let mut secret = bumped(&state.secret, now);
        if let Some(d) = description {
            secret.description = d;
        }
        Ok(Change::Update {
            secret,
            expected_revision: state.secret.revision,
            new_version: Some(new),
            set_stages,
            delete_versions,
        })
    }

    /// Idempotency check: if version `token` exists, the request is a retry iff the value matches.
    async fn existing_version(
        &self,
        caller: &Caller,
        state: &SecretState,
        token: &str,
        value: &Value,
    ) -> ApiResult<Option<Vec<String>>> {
        let Some(v) = state.version(token) else {
            return Ok(None);
        };
        let stored = self.open_version(caller, &state.secret, token).await?;
        if same_value(&stored, value) {
            Ok(Some(v.stages.clone()))
        } else {
            Err(version_exists_error())
        }
    }

    /// PutSecretValue: a new version with the given labels (default AWSCURRENT).
    pub async fn put_secret_value(
        &self,
        caller: &Caller,
        input: PutSecretValueInput,
    ) -> ApiResult<SecretVersionOutput> {
        if input.rotation_token.is_some() {
            return Err(ApiError::param(
                "RotationToken is only valid during rotation, which is not available yet.",
            ));
        }
        let value = take_value(input.secret_string, input.secret_binary)?.ok_or_else(|| {
            ApiError::param("You must provide either SecretString or SecretBinary.")
        })?;
        let stages = match input.version_stages {
            Some(s) => {
                validate::version_stages(&s).map_err(crate::convert::core)?;
                s
            }
            None => vec![AWSCURRENT.to_owned()],
        };
        let token = token_or_new(input.client_request_token)?;
        let id = input.secret_id.as_deref();
        let access = Access::sm("PutSecretValue");
        let state = self.resolve(caller, &access, id).await?;
        if state.secret.is_deleted() {
            return Err(deleted_error());
        }
        let new = self
            .seal_version(caller, &state.secret, &token, stages, &value)
            .await?;
        let _guard = self.write_lock(&state.secret.arn).await;
        for attempt in 0..super::MAX_RETRIES {
            super::backoff(attempt).await;
            let state = self.resolve(caller, &access, id).await?;
            if state.secret.is_deleted() {
                return Err(deleted_error());
            }
            if let Some(existing) = self
                .existing_version(caller, &state, &token, &value)
                .await?
            {
                return Ok(SecretVersionOutput {
                    arn: state.secret.arn,
                    name: state.secret.name,
                    version_id: Some(token),
                    version_stages: Some(existing),
                });
            }
            let mut version = new.clone();
            if state.versions.is_empty() && !version.record.stages.iter().any(|s| s == AWSCURRENT) {
                // The first version of a secret always gets AWSCURRENT, whatever labels were asked for.
                version.record.stages.push(AWSCURRENT.to_owned());
            }
            let stages = version.record.stages.clone();
            let change = self.add_version_change(&state, version, None)?;
            let out = SecretVersionOutput {
                arn: state.secret.arn,
                name: state.secret.name,
                version_id: Some(token.clone()),
                version_stages: Some(stages),
            };
            if self.commit_or_retry(caller, change, &out).await? {
                return Ok(out);
            }
        }
        Err(super::gave_up("PutSecretValue"))
    }

    /// UpdateSecret: description, KMS key, and/or a new AWSCURRENT value.
    pub async fn update_secret(
        &self,
        caller: &Caller,
        input: UpdateSecretInput,
    ) -> ApiResult<SecretVersionOutput> {
        if let Some(d) = &input.description {
            validate::description(d).map_err(crate::convert::core)?;
        }
        if input.secret_type.is_some() {
            return Err(ApiError::param(
                "Managed external secrets (Type) are not supported.",
            ));
        }
        let value = take_value(input.secret_string, input.secret_binary)?;
        let token = token_or_new(input.client_request_token)?;
        let kms_changed = input.kms_key_id.is_some();
        let kms = self
            .check_kms_key_id(caller, input.kms_key_id.as_deref())
            .await?;
        let id = input.secret_id.as_deref();
        let access = Access::sm("UpdateSecret")
            .opt("secretsmanager:Description", input.description.clone())
            .opt("secretsmanager:KmsKeyId", input.kms_key_id.clone());
        let first = self.resolve(caller, &access, id).await?;
        if first.secret.is_deleted() {
            return Err(deleted_error());
        }
        // A new value goes under the new key when the key changes with it.
        let mut target = first.secret.clone();
        if kms_changed {
            target.kms_key_id = kms.clone();
        }
        let new = match &value {
            Some(v) => Some(
                self.seal_version(caller, &target, &token, vec![AWSCURRENT.to_owned()], v)
                    .await?,
            ),
            None => None,
        };
        let _guard = self.write_lock(&first.secret.arn).await;
        if kms_changed {
            self.reseal_labeled(caller, &access, id, &target).await?;
        }
        for attempt in 0..super::MAX_RETRIES {
            super::backoff(attempt).await;
            let state = self.resolve(caller, &access, id).await?;
            if state.secret.is_deleted() {
                return Err(deleted_error());
            }
            let mut description = input.description.clone().map(Some);
            if description == Some(Some(String::new())) {
                description = Some(None);
            }
            let change = match (&new, &value) {
                (Some(new), Some(v)) => {
                    if self
                        .existing_version(caller, &state, &token, v)
                        .await?
                        .is_some()
                    {
                        return Ok(SecretVersionOutput {
                            arn: state.secret.arn,
                            name: state.secret.name,
                            version_id: Some(token),
                            version_stages: None,
                        });
                    }
                    let mut c = self.add_version_change(&state, new.clone(), description)?;
                    if kms_changed && let Change::Update { secret, .. } = &mut c {
                        secret.kms_key_id = kms.clone();
                    }
                    c
                }
                _ => {
                    let mut secret = bumped(&state.secret, self.now_ms());
                    if let Some(d) = description {
                        secret.description = d;
                    }
                    if kms_changed {
                        secret.kms_key_id = kms.clone();
                    }
                    super::meta::update_meta(&state, secret)
                }
            };
            let out = SecretVersionOutput {
                arn: state.secret.arn,
                name: state.secret.name,
                version_id: new.as_ref().map(|_| token.clone()),
                version_stages: None,
            };
            if self.commit_or_retry(caller, change, &out).await? {
                return Ok(out);
            }
        }
        Err(super::gave_up("UpdateSecret"))
    }

    /// Re-encrypts the versions labeled AWSCURRENT, AWSPREVIOUS or AWSPENDING under the
    /// key of `target` (a secret record carrying the new KmsKeyId); other versions stay
    /// under the key they were sealed with. The caller needs kms:Decrypt on the old key and
    /// kms:GenerateDataKey on the new one (through Secrets Manager).
    async fn reseal_labeled(
        &self,
        caller: &Caller,
        access: &Access,
        id: Option<&str>,
        target: &coffer_core::SecretRecord,
    ) -> ApiResult<()> {
        const LABELS: [&str; 3] = ["AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"];
        for attempt in 0..super::MAX_RETRIES {
            super::backoff(attempt).await;
            let state = self.resolve(caller, access, id).await?;
            let mut values = Vec::new();
            for v in &state.versions {
                if !v.stages.iter().any(|s| LABELS.contains(&s.as_str())) {
                    continue;
                }
                let value = self
                    .open_version(caller, &state.secret, &v.version_id)
                    .await?;
                let sealed = self
                    .seal_version(caller, target, &v.version_id, v.stages.clone(), &value)
                    .await?;
                if sealed.sealed.kms_key_arn == v.kms_key_arn {
                    continue; // already under the target key
                }
                values.push((v.version_id.clone(), sealed.sealed));
            }
            if values.is_empty() {
                return Ok(());
            }
            let change = Change::Reseal {
                arn: state.secret.arn.clone(),
                expected_revision: state.secret.revision,
                values,
            };
            match self.store.commit(change).await {
                Ok(()) => return Ok(()),
                Err(coffer_store::StoreError::Conflict) => continue,
                Err(e) => return Err(crate::convert::store(e)),
            }
        }
        Err(super::gave_up("UpdateSecret"))
    }

    /// UpdateSecretVersionStage: moves or removes one staging label.
    pub async fn update_secret_version_stage(
        &self,
        caller: &Caller,
        input: UpdateSecretVersionStageInput,
    ) -> ApiResult<SecretRefOutput> {
        let label = input
            .version_stage
            .ok_or_else(|| ApiError::param("You must specify a VersionStage."))?;
        validate::version_stage(&label).map_err(crate::convert::core)?;
        for v in [&input.move_to_version_id, &input.remove_from_version_id]
            .into_iter()
            .flatten()
        {
            validate::version_id(v).map_err(crate::convert::core)?;
        }
        let now = self.now_ms();
        self.mutate(
            caller,
            &Access::sm("UpdateSecretVersionStage")
                .key("secretsmanager:VersionStage", label.clone()),
            input.secret_id.as_deref(),
            |state| {
                if state.secret.is_deleted() {
                    return Err(deleted_error());
                }
                let mut versions = state.versions.clone();
                labels::move_label(
                    &mut versions,
                    &label,
                    input.move_to_version_id.as_deref(),
                    input.remove_from_version_id.as_deref(),
                )
                .map_err(crate::convert::core)?;
                let set_stages = labels::stage_diff(&state.versions, &versions);
                let out = SecretRefOutput {
                    arn: state.secret.arn.clone(),
                    name: state.secret.name.clone(),
                };
                if set_stages.is_empty() {
                    return Ok((None, out));
                }
                Ok((
                    Some(Change::Update {
                        secret: bumped(&state.secret, now),
                        expected_revision: state.secret.revision,
                        new_version: None,
                        set_stages,
                        delete_versions: Vec::new(),
                    }),
                    out,
                ))
            },
        )
        .await
    }
}
