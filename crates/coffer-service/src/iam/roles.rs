//! Roles: CreateRole (with its trust policy), GetRole, ListRoles, DeleteRole, TagRole,
//! UntagRole, ListRoleTags, UpdateAssumeRolePolicy.

use coffer_iam::IamError;
use coffer_iam::model::name_key;
use coffer_iam::model::{
    Role, check_trust_policy_size, merge_tags, new_unique_id, remove_tags, role_arn,
    validate_description, validate_max_session_duration, validate_policy_document,
    validate_role_name,
};
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};

use super::users::{req_path, req_tags};
use super::{IamResult, delete_doc, put_doc, wire_error, xml};
use crate::authz::load::ROLE;
use crate::{Caller, Service};

/// Checks a trust policy: size, syntax, a principal in every statement, STS actions.
pub(crate) fn check_trust_policy(doc: &str) -> IamResult<()> {
    validate_policy_document("AssumeRolePolicyDocument", doc)?;
    check_trust_policy_size(doc)?;
    let policy = coffer_policy::Policy::parse(doc)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    for s in policy.statements() {
        if s.principal().is_none() {
            return Err(IamError::MalformedPolicyDocument(
                "AssumeRolepolicy contained an invalid principal element.".into(),
            ));
        }
        if s.resources().is_some() {
            return Err(IamError::MalformedPolicyDocument(
                "Has prohibited field Resource".into(),
            ));
        }
    }
    Ok(())
}

impl Service {
    pub(crate) async fn role_call(
        &self,
        caller: &Caller,
        action: &str,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let account = caller.account_id.as_str();
        let one = |w: &mut XmlWriter, r: &Role| {
            w.start("Role");
            xml::role(w, r);
            w.end();
        };
        match action {
            "CreateRole" => {
                let name = req.required("RoleName").map_err(wire_error)?.to_owned();
                validate_role_name(&name)?;
                let path = req_path(req)?;
                let trust = req
                    .required("AssumeRolePolicyDocument")
                    .map_err(wire_error)?
                    .to_owned();
                check_trust_policy(&trust)?;
                let description = req.get("Description").map(str::to_owned);
                if let Some(d) = &description {
                    validate_description(d)?;
                }
                let max = match req.get_i64("MaxSessionDuration").map_err(wire_error)? {
                    Some(s) => validate_max_session_duration(s)?,
                    None => 3600,
                };
                let boundary = req.get("PermissionsBoundary").map(str::to_owned);
                if let Some(b) = &boundary
                    && self.managed(account, b).await?.is_none()
                {
                    return Err(IamError::NoSuchEntity(format!(
                        "Scope ARN: {b} does not exist or is not attachable."
                    )));
                }
                let arn = role_arn(account, &path, &name);
                self.iam_allow(caller, action, &arn).await?;
                let role = Role {
                    name: name.clone(),
                    path,
                    role_id: new_unique_id("AROA"),
                    arn,
                    created_ms: self.now_ms(),
                    trust_policy: trust,
                    description,
                    max_session_duration_s: max,
                    tags: req_tags(req)?,
                    inline_policies: Default::default(),
                    attached: Vec::new(),
                    boundary,
                };
                self.iam_create(caller, account, ROLE, &name, &role, || {
                    IamError::EntityAlreadyExists(format!("Role with name {name} already exists."))
                })
                .await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                one(&mut w, &role);
                Ok(w.finish(rid))
            }
            "GetRole" => {
                let name = req.required("RoleName").map_err(wire_error)?;
                let role: Role = self.holder(caller, action, name).await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                one(&mut w, &role);
                Ok(w.finish(rid))
            }
            "ListRoles" => {
                self.iam_allow(caller, action, &format!("arn:aws:iam::{account}:role/"))
                    .await?;
                let prefix = req.get("PathPrefix").unwrap_or("/");
                let mut roles: Vec<Role> = self.iam_all(account, ROLE).await?;
                roles.retain(|r| r.path.starts_with(prefix));
                let (roles, next) = xml::page(roles, req, |r| name_key(&r.name))?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.list("Roles", &roles, xml::role);
                xml::truncation(&mut w, next.as_deref());
                Ok(w.finish(rid))
            }
            "ListRoleTags" => {
                let name = req.required("RoleName").map_err(wire_error)?;
                let role: Role = self.holder(caller, action, name).await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.tags("Tags", role.tags.iter().map(|t| (&t.key, &t.value)));
                xml::not_truncated(&mut w);
                Ok(w.finish(rid))
            }
            _ => {
                // DeleteRole, TagRole, UntagRole, UpdateAssumeRolePolicy
                let name = req.required("RoleName").map_err(wire_error)?.to_owned();
                let add = if action == "TagRole" {
                    req_tags(req)?
                } else {
                    Vec::new()
                };
                let keys: Vec<String> = if action == "UntagRole" {
                    req.list("TagKeys")
                        .map_err(wire_error)?
                        .into_iter()
                        .map(str::to_owned)
                        .collect()
                } else {
                    Vec::new()
                };
                let trust = if action == "UpdateAssumeRolePolicy" {
                    let doc = req.required("PolicyDocument").map_err(wire_error)?;
                    check_trust_policy(doc)?;
                    Some(doc.to_owned())
                } else {
                    None
                };
                with_retry!({
                    let rev = self.iam_rev(account).await?;
                    let mut role: Role = self.holder(caller, action, &name).await?;
                    let write = match action {
                        "DeleteRole" => {
                            if !role.inline_policies.is_empty() || !role.attached.is_empty() {
                                return Err(IamError::DeleteConflict(
                                    "Cannot delete entity, must detach all policies first.".into(),
                                ));
                            }
                            delete_doc(ROLE, &name)
                        }
                        "TagRole" => {
                            role.tags = merge_tags(&role.tags, &add)?;
                            put_doc(ROLE, &name, &role)
                        }
                        "UntagRole" => {
                            let k: Vec<&str> = keys.iter().map(String::as_str).collect();
                            role.tags = remove_tags(&role.tags, &k);
                            put_doc(ROLE, &name, &role)
                        }
                        _ => {
                            role.trust_policy = trust.clone().unwrap_or_default();
                            put_doc(ROLE, &name, &role)
                        }
                    };
                    self.iam_commit(caller, account, rev, vec![write])
                        .await?
                        .then_some(())
                })?;
                Ok(XmlWriter::without_result(Wire::Iam, action).finish(rid))
            }
        }
    }
}
