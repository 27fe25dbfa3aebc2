//! Customer-managed policies: CreatePolicy, GetPolicy, GetPolicyVersion, ListPolicies,
//! DeletePolicy. AWS-managed policies are built in and read-only.

use coffer_iam::IamError;
use coffer_iam::managed::aws_managed_policies;
use coffer_iam::model::{
    ManagedPolicy, Role, User, check_managed_policy_size, new_unique_id, policy_arn,
    validate_description, validate_policy_name,
};
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};

use super::entity::check_identity_policy;
use super::users::{req_path, req_tags};
use super::{IamResult, delete_doc, wire_error, xml};
use crate::authz::load::{POLICY, ROLE, USER};
use crate::{Caller, Service};

impl Service {
    pub(crate) async fn policy_call(
        &self,
        caller: &Caller,
        action: &str,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let account = caller.account_id.as_str();
        match action {
            "CreatePolicy" => {
                let name = req.required("PolicyName").map_err(wire_error)?.to_owned();
                validate_policy_name(&name)?;
                let path = req_path(req)?;
                let doc = req
                    .required("PolicyDocument")
                    .map_err(wire_error)?
                    .to_owned();
                check_identity_policy("PolicyDocument", &doc)?;
                check_managed_policy_size(&doc)?;
                let description = req.get("Description").map(str::to_owned);
                if let Some(d) = &description {
                    validate_description(d)?;
                }
                let arn = policy_arn(account, &path, &name);
                self.iam_allow(caller, action, &arn).await?;
                let now = self.now_ms();
                let policy = ManagedPolicy {
                    name: name.clone(),
                    path,
                    policy_id: new_unique_id("ANPA"),
                    arn,
                    default_version_id: "v1".into(),
                    document: doc,
                    created_ms: now,
                    updated_ms: now,
                    attachment_count: 0,
                    description,
                    is_aws_managed: false,
                    tags: req_tags(req)?,
                };
                self.iam_create(caller, account, POLICY, &name, &policy, || {
                    IamError::EntityAlreadyExists(format!(
                        "A policy called {name} already exists. Duplicate names are not allowed."
                    ))
                })
                .await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.start("Policy");
                xml::policy(&mut w, &policy);
                w.end();
                Ok(w.finish(rid))
            }
            "GetPolicy" | "GetPolicyVersion" => {
                let arn = req.required("PolicyArn").map_err(wire_error)?;
                self.iam_allow(caller, action, arn).await?;
                let policy = self.managed(account, arn).await?.ok_or_else(|| {
                    IamError::NoSuchEntity(format!(
                        "Policy {arn} does not exist or is not attachable."
                    ))
                })?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                if action == "GetPolicy" {
                    w.start("Policy");
                    xml::policy(&mut w, &policy);
                    w.end();
                } else {
                    let v = req.required("VersionId").map_err(wire_error)?;
                    if v != policy.default_version_id {
                        return Err(IamError::NoSuchEntity(format!(
                            "Policy {arn} version {v} does not exist or is not attachable."
                        )));
                    }
                    w.start("PolicyVersion")
                        .policy_document("Document", &policy.document)
                        .text("VersionId", v)
                        .bool("IsDefaultVersion", true)
                        .timestamp("CreateDate", policy.created_ms)
                        .end();
                }
                Ok(w.finish(rid))
            }
            "ListPolicies" => {
                self.iam_allow(caller, action, &format!("arn:aws:iam::{account}:policy/"))
                    .await?;
                let scope = req.get("Scope").unwrap_or("All");
                let only_attached = req
                    .get_bool("OnlyAttached")
                    .map_err(wire_error)?
                    .unwrap_or(false);
                let mut all: Vec<ManagedPolicy> = Vec::new();
                if scope == "All" || scope == "AWS" {
                    all.extend(aws_managed_policies().iter().map(|p| p.to_policy()));
                }
                if scope == "All" || scope == "Local" {
                    all.extend(self.iam_all::<ManagedPolicy>(account, POLICY).await?);
                }
                all.retain(|p| !only_attached || p.attachment_count > 0);
                all.sort_by(|a, b| a.arn.cmp(&b.arn));
                let (all, next) = xml::page(all, req, |p| p.arn.clone())?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.list("Policies", &all, xml::policy);
                xml::truncation(&mut w, next.as_deref());
                Ok(w.finish(rid))
            }
            _ => {
                // DeletePolicy
                let arn = req.required("PolicyArn").map_err(wire_error)?.to_owned();
                self.iam_allow(caller, action, &arn).await?;
                with_retry!({
                    let rev = self.iam_rev(account).await?;
                    let policy = match self.managed(account, &arn).await? {
                        Some(p) if !p.is_aws_managed => p,
                        Some(_) => {
                            return Err(IamError::InvalidInput(
                                "AWS-managed policies cannot be deleted.".into(),
                            ));
                        }
                        None => {
                            return Err(IamError::NoSuchEntity(format!(
                                "Policy {arn} was not found."
                            )));
                        }
                    };
                    if policy.attachment_count > 0 {
                        return Err(IamError::DeleteConflict(
                            "Cannot delete a policy attached to entities.".into(),
                        ));
                    }
                    let users: Vec<User> = self.iam_all(account, USER).await?;
                    let roles: Vec<Role> = self.iam_all(account, ROLE).await?;
                    let as_boundary = users.iter().any(|u| u.boundary.as_ref() == Some(&arn))
                        || roles.iter().any(|r| r.boundary.as_ref() == Some(&arn));
                    if as_boundary {
                        return Err(IamError::DeleteConflict(
                            "Cannot delete a policy used as a permissions boundary.".into(),
                        ));
                    }
                    self.iam_commit(caller, account, rev, vec![delete_doc(POLICY, &policy.name)])
                        .await?
                        .then_some(())
                })?;
                Ok(XmlWriter::without_result(Wire::Iam, action).finish(rid))
            }
        }
    }
}
