//! Finding the secret a `SecretId` names — a name, a full ARN, or a partial ARN (without
//! the random suffix) — and authorizing the caller on it.
//!
//! Names and partial ARNs resolve inside the caller's account and region; a full ARN may
//! name another account's secret (cross-account access through its resource policy).

use crate::authz::Access;
use crate::{ApiResult, Caller, Service};
use coffer_core::{SecretArn, SecretState, validate};
use coffer_protocol::ApiError;
use coffer_store::Lookup;

impl Service {
    /// Resolves `secret_id` for `caller` and checks `access` on it. A secret that does not
    /// exist is `ResourceNotFoundException` only for callers allowed to ask about it;
    /// others get `AccessDeniedException` (existence is not disclosed).
    pub(crate) async fn resolve(
        &self,
        caller: &Caller,
        access: &Access,
        secret_id: Option<&str>,
    ) -> ApiResult<SecretState> {
        let target = lookups(caller, access, secret_id)?;
        for l in &target.lookups {
            if let Some(s) = self.store.load(l).await.map_err(crate::convert::store)? {
                self.authorize_secret(caller, access, &target.id, &s)
                    .await?;
                return Ok(s);
            }
        }
        Err(self.not_found(caller, access, &target).await)
    }

    /// Authorizes `access` on a loaded secret, adding `secretsmanager:SecretId`.
    pub(crate) async fn authorize_secret(
        &self,
        caller: &Caller,
        access: &Access,
        secret_id: &str,
        state: &SecretState,
    ) -> ApiResult<()> {
        let fast = caller.identity.is_root()
            && state.secret.account_id == caller.account_id
            && state.secret.resource_policy().is_none();
        if !fast {
            let access = access.clone().key("secretsmanager:SecretId", secret_id);
            self.authorize(caller, &access, &state.secret.arn, Some(&state.secret))
                .await?;
        }
        if let Some(d) = &caller.audit {
            d.note_resource(&state.secret.arn);
        }
        Ok(())
    }

    /// The error for a `SecretId` that matched nothing.
    pub(crate) async fn not_found(
        &self,
        caller: &Caller,
        access: &Access,
        target: &Target,
    ) -> ApiError {
        if target.account_id != caller.account_id {
            return crate::authz::denied(caller, &access.action, &target.resource, "");
        }
        let access = access.clone().key("secretsmanager:SecretId", &target.id);
        match self
            .authorize(caller, &access, &target.resource, None)
            .await
        {
            Ok(()) => ApiError::secret_not_found(),
            Err(e) => e,
        }
    }
}

/// What a `SecretId` may name.
pub(crate) struct Target {
    /// The id as given.
    pub id: String,
    /// Account it points into.
    pub account_id: String,
    /// ARN used for authorization when nothing is found.
    pub resource: String,
    /// Lookups to try, in order.
    pub lookups: Vec<Lookup>,
}

/// The lookups to try, in order, for `secret_id`: a full ARN, then the same as a partial
/// ARN (name without suffix); or a name in the caller's account and region.
pub(crate) fn lookups(
    caller: &Caller,
    access: &Access,
    secret_id: Option<&str>,
) -> ApiResult<Target> {
    let id = secret_id.ok_or_else(|| ApiError::param("You must specify a SecretId."))?;
    validate::secret_id(id).map_err(crate::convert::core)?;
    Ok(match SecretArn::parse(id) {
        Some(arn) => {
            if arn.region != caller.region {
                return Err(crate::authz::denied(caller, &access.action, id, ""));
            }
            Target {
                id: id.to_owned(),
                account_id: arn.account_id.clone(),
                resource: id.to_owned(),
                lookups: vec![
                    Lookup::Arn(id.to_owned()),
                    Lookup::Name {
                        account_id: arn.account_id,
                        region: arn.region,
                        name: arn.resource,
                    },
                ],
            }
        }
        None => Target {
            id: id.to_owned(),
            account_id: caller.account_id.clone(),
            resource: format!(
                "arn:aws:secretsmanager:{}:{}:secret:{id}",
                caller.region, caller.account_id
            ),
            lookups: vec![Lookup::Name {
                account_id: caller.account_id.clone(),
                region: caller.region.clone(),
                name: id.to_owned(),
            }],
        },
    })
}

/// The error for operations that need a live secret.
pub(crate) fn deleted_error() -> ApiError {
    ApiError::request(
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}
