//! Authorization: every operation asks [`Service::authorize`] before it acts.
//!
//! The caller's identity-based policies (inline, managed, group, boundary) are loaded once
//! per principal and cached as compiled [`Policy`]s, keyed by the account's IAM revision:
//! a change on this node clears the account's entries at once; other nodes' changes are
//! seen within [`REVISION_CHECK`] (IAM is eventually consistent in AWS too). A secret's
//! resource policy is compiled once per distinct text.

mod cache;
mod context;
pub mod identity;
pub(crate) mod load;

use std::sync::Arc;

use coffer_core::SecretRecord;
use coffer_policy::{AuthzRequest, Decision, Policy, PolicyRef, RequestContext};
use coffer_protocol::{ApiError, ErrorCode};

pub use self::cache::AuthzCache;
pub use self::context::Access;
pub(crate) use self::context::tag_pairs as context_tag_pairs;
use crate::{ApiResult, Caller, Service};

/// The policies that apply to one principal, compiled.
#[derive(Debug, Default)]
pub struct PrincipalPolicies {
    /// Identity-based policies: `(id, policy)`.
    pub identity: Vec<(String, Arc<Policy>)>,
    /// Permissions boundary, if set.
    pub boundary: Option<Vec<(String, Arc<Policy>)>>,
    /// The entity's tags (`aws:PrincipalTag/*`).
    pub tags: Vec<(String, String)>,
}

/// The refusal for `caller` doing `action` on `resource`, in AWS's words.
pub(crate) fn denied(caller: &Caller, action: &str, resource: &str, why: &str) -> ApiError {
    let because = if why.is_empty() {
        String::new()
    } else {
        format!(" because {why}")
    };
    ApiError::new(
        ErrorCode::AccessDeniedException,
        format!(
            "User: {} is not authorized to perform: {action} on resource: {resource}{because}",
            caller.identity.principal.arn
        ),
    )
}

impl Service {
    /// Decides whether `caller` may perform `access` on `resource` (an ARN or `*`);
    /// `secret` supplies resource tags and the resource policy. Refusal is
    /// `AccessDeniedException` with AWS's message.
    pub async fn authorize(
        &self,
        caller: &Caller,
        access: &Access,
        resource: &str,
        secret: Option<&SecretRecord>,
    ) -> ApiResult<()> {
        let resource_policy = match secret.and_then(SecretRecord::resource_policy) {
            Some(text) => Some(self.authz.resource_policy(text)?),
            None => None,
        };
        // Fast path: the account root, with no resource policy to deny it.
        if caller.identity.is_root() && resource_policy.is_none() {
            let own = secret.is_none_or(|s| s.account_id == caller.account_id);
            if own {
                return Ok(());
            }
        }
        let policies = self.principal_policies(caller).await?;
        let ctx = self.request_context(caller, access, resource, secret, &policies);
        let resource_account = secret.map_or(caller.account_id.as_str(), |s| &s.account_id);
        let outcome = self.decide(
            caller,
            &ctx,
            &policies,
            resource_policy.as_deref(),
            resource_account,
        );
        match outcome.decision {
            Decision::Allow => Ok(()),
            _ => Err(ApiError::new(
                ErrorCode::AccessDeniedException,
                outcome.message(&ctx),
            )),
        }
    }

    /// Runs the evaluation for `caller`: its identity policies, boundary and session
    /// policies, and the resource's policy (a secret's resource policy, a role's trust
    /// policy) owned by `resource_account`.
    pub(crate) fn decide(
        &self,
        caller: &Caller,
        ctx: &RequestContext,
        policies: &PrincipalPolicies,
        resource_policy: Option<&Policy>,
        resource_account: &str,
    ) -> coffer_policy::Outcome {
        let identity: Vec<PolicyRef<'_>> = refs(&policies.identity);
        let boundary = policies.boundary.as_deref().map(refs);
        let session = caller
            .identity
            .session
            .as_ref()
            .and_then(|s| s.policies.as_deref())
            .map(refs);
        let req = AuthzRequest {
            ctx,
            identity: &identity,
            boundary: boundary.as_deref(),
            session: session.as_deref(),
            resource_policy: resource_policy.map(|p| PolicyRef {
                id: "resource-policy",
                policy: p,
            }),
            resource_account,
        };
        coffer_policy::authorize(&req)
    }
}

pub(crate) fn refs(list: &[(String, Arc<Policy>)]) -> Vec<PolicyRef<'_>> {
    list.iter()
        .map(|(id, p)| PolicyRef {
            id: id.as_str(),
            policy: p.as_ref(),
        })
        .collect()
}

/// A failure to read stored IAM data (fails closed).
pub(crate) fn internal(what: &str) -> ApiError {
    ApiError::new(ErrorCode::InternalServiceError, what.to_owned())
}
