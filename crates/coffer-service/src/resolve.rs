//! Finding the secret a `SecretId` names: a name, a full ARN, or a partial ARN (without the
//! random suffix), always inside the caller's account and region.

use crate::{ApiResult, Caller, Service};
use coffer_core::{SecretArn, SecretState, validate};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::Lookup;

impl Service {
    /// Resolves `secret_id` for `caller`, or `ResourceNotFoundException`.
    pub(crate) async fn resolve(
        &self,
        caller: &Caller,
        action: &str,
        secret_id: Option<&str>,
    ) -> ApiResult<SecretState> {
        for l in &lookups(caller, action, secret_id)? {
            if let Some(s) = self.store.load(l).await.map_err(crate::convert::store)? {
                return Ok(s);
            }
        }
        Err(ApiError::secret_not_found())
    }
}

/// The lookups to try, in order, for `secret_id`: a full ARN, then the same as a partial
/// ARN (name without suffix); or a name in the caller's account and region.
pub(crate) fn lookups(
    caller: &Caller,
    action: &str,
    secret_id: Option<&str>,
) -> ApiResult<Vec<Lookup>> {
    {
        let id = secret_id.ok_or_else(|| ApiError::param("You must specify a SecretId."))?;
        validate::secret_id(id).map_err(crate::convert::core)?;
        let lookups = match SecretArn::parse(id) {
            Some(arn) => {
                if arn.account_id != caller.account_id || arn.region != caller.region {
                    return Err(ApiError::new(
                        ErrorCode::AccessDeniedException,
                        format!(
                            "User: {} is not authorized to perform: secretsmanager:{action} on resource: {id}",
                            caller.principal_arn
                        ),
                    ));
                }
                vec![
                    Lookup::Arn(id.to_owned()),
                    Lookup::Name {
                        account_id: arn.account_id,
                        region: arn.region,
                        name: arn.resource,
                    },
                ]
            }
            None => vec![Lookup::Name {
                account_id: caller.account_id.clone(),
                region: caller.region.clone(),
                name: id.to_owned(),
            }],
        };
        Ok(lookups)
    }
}

/// The error for operations that need a live secret.
pub(crate) fn deleted_error() -> ApiError {
    ApiError::request(
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}
