//! DeleteSecret, RestoreSecret and the purge of secrets whose recovery window has ended.

use super::bumped;
use super::meta::update_meta;
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::{clock::DAY_MS, validate};
use coffer_protocol::ApiError;
use coffer_protocol::shapes::{
    DeleteSecretInput, DeleteSecretOutput, SecretIdInput, SecretRefOutput, ts,
};
use coffer_store::Change;

/// Recovery window when none is given.
const DEFAULT_RECOVERY_DAYS: i64 = 30;

impl Service {
    /// DeleteSecret: schedules deletion after a 7–30 day window, or deletes at once.
    pub async fn delete_secret(
        &self,
        caller: &Caller,
        input: DeleteSecretInput,
    ) -> ApiResult<DeleteSecretOutput> {
        let force = input.force_delete_without_recovery.unwrap_or(false);
        if force && input.recovery_window_in_days.is_some() {
            return Err(ApiError::param(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            ));
        }
        let days = input
            .recovery_window_in_days
            .unwrap_or(DEFAULT_RECOVERY_DAYS);
        validate::recovery_window_days(days).map_err(crate::convert::core)?;
        let now = self.now_ms();
        let access = Access::sm("DeleteSecret")
            .opt(
                "secretsmanager:RecoveryWindowInDays",
                input.recovery_window_in_days.map(|d| d.to_string()),
            )
            .key(
                "secretsmanager:ForceDeleteWithoutRecovery",
                force.to_string(),
            );
        self.mutate(caller, &access, input.secret_id.as_deref(), |state| {
            let s = &state.secret;
            if force {
                return Ok((
                    Some(Change::Purge { arn: s.arn.clone() }),
                    DeleteSecretOutput { arn: s.arn.clone(), name: s.name.clone(), deletion_date: ts(now) },
                ));
            }
            if s.is_deleted() {
                return Err(ApiError::request(
                    "You can't perform this operation on the secret because it was already scheduled for deletion.",
                ));
            }
            let mut secret = bumped(s, now);
            secret.deleted_ms = Some(now);
            secret.deletion_ms = Some(now + days * DAY_MS);
            let out = DeleteSecretOutput {
                arn: s.arn.clone(),
                name: s.name.clone(),
                deletion_date: ts(now + days * DAY_MS),
            };
            Ok((Some(update_meta(state, secret)), out))
        })
        .await
    }

    /// RestoreSecret: cancels a scheduled deletion (a no-op on a live secret).
    pub async fn restore_secret(
        &self,
        caller: &Caller,
        input: SecretIdInput,
    ) -> ApiResult<SecretRefOutput> {
        let now = self.now_ms();
        self.mutate(
            caller,
            &Access::sm("RestoreSecret"),
            input.secret_id.as_deref(),
            |state| {
                let out = SecretRefOutput {
                    arn: state.secret.arn.clone(),
                    name: state.secret.name.clone(),
                };
                if !state.secret.is_deleted() {
                    return Ok((None, out));
                }
                let mut secret = bumped(&state.secret, now);
                secret.deleted_ms = None;
                secret.deletion_ms = None;
                Ok((Some(update_meta(state, secret)), out))
            },
        )
        .await
    }

    /// Purges every secret whose recovery window has ended; returns how many.
    pub async fn purge_due(&self) -> ApiResult<usize> {
        let due = self
            .store
            .due_for_purge(self.now_ms())
            .await
            .map_err(crate::convert::store)?;
        let n = due.len();
        for arn in due {
            let mut parts = arn.split(':');
            let region = parts.nth(3).unwrap_or_default().to_owned();
            let account = parts.next().unwrap_or_default().to_owned();
            let audit = (self.audit.mode() != crate::audit::AuditMode::Off).then(|| {
                self.service_event(
                    &account,
                    &region,
                    "SecretPurged",
                    &[&arn],
                    serde_json::json!({"reason": "the recovery window ended"}),
                )
            });
            self.store
                .commit_audited(Change::Purge { arn }, audit)
                .await
                .map_err(crate::convert::store)?;
        }
        Ok(n)
    }
}
