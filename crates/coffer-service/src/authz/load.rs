//! Loading and compiling the policies of a principal from its IAM documents.

use std::sync::Arc;

use coffer_iam::model::{Group, ManagedPolicy, Role, User, name_key, parse_iam_arn};
use coffer_policy::Policy;
use coffer_protocol::ApiError;

use super::identity::Entity;
use super::{PrincipalPolicies, internal};
use crate::{ApiResult, Caller, Service};

/// Entity kinds as stored.
pub(crate) const USER: &str = "user";
/// Groups.
pub(crate) const GROUP: &str = "group";
/// Roles.
pub(crate) const ROLE: &str = "role";
/// Customer-managed policies.
pub(crate) const POLICY: &str = "policy";

impl Service {
    /// The account's IAM revision, re-read at most every `REVISION_CHECK`.
    pub(crate) async fn iam_revision(&self, account: &str) -> ApiResult<u64> {
        if let Some(rev) = self.authz.fresh_revision(account) {
            return Ok(rev);
        }
        let rev = self
            .store
            .iam_revision(account)
            .await
            .map_err(crate::convert::store)?;
        self.authz.note_revision(account, rev);
        Ok(rev)
    }

    /// The compiled policies of the caller's entity (cached per IAM revision).
    pub(crate) async fn principal_policies(
        &self,
        caller: &Caller,
    ) -> ApiResult<Arc<PrincipalPolicies>> {
        let account = caller.identity.principal.account.as_str();
        let entity = &caller.identity.entity;
        if *entity == Entity::Root {
            return Ok(Arc::default());
        }
        let rev = self.iam_revision(account).await?;
        if let Some(p) = self.authz.principal(account, entity, rev) {
            return Ok(p);
        }
        let built = Arc::new(self.build_policies(account, entity).await?);
        self.authz
            .put_principal(account, entity.clone(), rev, Arc::clone(&built));
        Ok(built)
    }

    /// Reads a stored IAM document.
    pub(crate) async fn iam_doc<T: serde::de::DeserializeOwned>(
        &self,
        account: &str,
        kind: &str,
        name: &str,
    ) -> ApiResult<Option<T>> {
        let Some(doc) = self
            .store
            .iam_get(account, kind, &name_key(name))
            .await
            .map_err(crate::convert::store)?
        else {
            return Ok(None);
        };
        serde_json::from_str(&doc)
            .map(Some)
            .map_err(|_| internal("A stored IAM document cannot be read."))
    }

    /// A managed policy by ARN: AWS-managed (built in) or customer-managed (stored).
    pub(crate) async fn managed_policy(
        &self,
        account: &str,
        arn: &str,
    ) -> ApiResult<Option<ManagedPolicy>> {
        if let Some(p) = coffer_iam::managed::find_aws_managed_policy(arn) {
            return Ok(Some(p.to_policy()));
        }
        let Some(parsed) = parse_iam_arn(arn) else {
            return Ok(None);
        };
        if parsed.account != account {
            return Ok(None);
        }
        let found: Option<ManagedPolicy> = self.iam_doc(account, POLICY, parsed.name).await?;
        Ok(found.filter(|p| p.arn == arn))
    }

    async fn build_policies(&self, account: &str, entity: &Entity) -> ApiResult<PrincipalPolicies> {
        let mut out = PrincipalPolicies::default();
        let (inline, attached, boundary, label) = match entity {
            Entity::Root => return Ok(out),
            Entity::User(name) => {
                let Some(user): Option<User> = self.iam_doc(account, USER, name).await? else {
                    // A deleted user keeps no permissions.
                    return Ok(out);
                };
                out.tags = user
                    .tags
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect();
                for g in &user.groups {
                    if let Some(group) = self.iam_doc::<Group>(account, GROUP, g).await? {
                        for (pname, doc) in &group.inline_policies {
                            out.identity
                                .push((format!("group/{}/{pname}", group.name), compile(doc)?));
                        }
                        self.push_managed(account, &group.attached, &mut out.identity)
                            .await?;
                    }
                }
                (
                    user.inline_policies,
                    user.attached,
                    user.boundary,
                    format!("user/{}", user.name),
                )
            }
            Entity::Role(name) => {
                let Some(role): Option<Role> = self.iam_doc(account, ROLE, name).await? else {
                    return Ok(out);
                };
                out.tags = role
                    .tags
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect();
                (
                    role.inline_policies,
                    role.attached,
                    role.boundary,
                    format!("role/{}", role.name),
                )
            }
        };
        for (pname, doc) in &inline {
            out.identity
                .push((format!("{label}/{pname}"), compile(doc)?));
        }
        self.push_managed(account, &attached, &mut out.identity)
            .await?;
        if let Some(arn) = boundary {
            let mut b = Vec::new();
            // A boundary that no longer exists allows nothing (fail closed).
            self.push_managed(account, std::slice::from_ref(&arn), &mut b)
                .await?;
            out.boundary = Some(b);
        }
        Ok(out)
    }

    async fn push_managed(
        &self,
        account: &str,
        arns: &[String],
        into: &mut Vec<(String, Arc<Policy>)>,
    ) -> ApiResult<()> {
        for arn in arns {
            if let Some(p) = self.managed_policy(account, arn).await? {
                into.push((p.arn.clone(), compile(&p.document)?));
            }
        }
        Ok(())
    }
}

/// Compiles a stored document (it was validated when stored).
pub(crate) fn compile(doc: &str) -> ApiResult<Arc<Policy>> {
    Policy::parse(doc)
        .map(Arc::new)
        .map_err(|_| ApiError::internal())
}
