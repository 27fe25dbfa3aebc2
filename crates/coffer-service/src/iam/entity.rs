//! Inline and managed policies and permissions boundaries, the same for users, roles and
//! groups (`PutUserPolicy`, `AttachRolePolicy`, `PutUserPermissionsBoundary`, …).

use std::collections::BTreeMap;

use coffer_iam::IamError;
use coffer_iam::model::{
    EntityKind, Group, ManagedPolicy, Role, User, check_inline_aggregate, parse_iam_arn,
    validate_policy_document, validate_policy_name,
};
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{IamResult, no_such, put_doc, wire_error, xml};
use crate::authz::load::{GROUP, POLICY, ROLE, USER};
use crate::{Caller, Service};

/// Most managed policies attached to one entity (AWS's default quota).
const MAX_ATTACHED: usize = 10;

/// An entity that holds policies.
pub(crate) trait Holder: Serialize + DeserializeOwned + Send + Sync {
    /// Store kind.
    const KIND: &'static str;
    /// Word for messages and parameter names (`User`, `Role`, `Group`).
    const WORD: &'static str;
    /// Quota class.
    const QUOTA: EntityKind;
    fn name(&self) -> &str;
    fn arn(&self) -> &str;
    fn inline(&mut self) -> &mut BTreeMap<String, String>;
    fn attached(&mut self) -> &mut Vec<String>;
    /// `None` for groups (no boundaries).
    fn boundary(&mut self) -> Option<&mut Option<String>>;
}

macro_rules! holder {
    ($t:ty, $kind:expr, $word:literal, $quota:expr, boundary: $b:tt) => {
        impl Holder for $t {
            const KIND: &'static str = $kind;
            const WORD: &'static str = $word;
            const QUOTA: EntityKind = $quota;
            fn name(&self) -> &str {
                &self.name
            }
            fn arn(&self) -> &str {
                &self.arn
            }
            fn inline(&mut self) -> &mut BTreeMap<String, String> {
                &mut self.inline_policies
            }
            fn attached(&mut self) -> &mut Vec<String> {
                &mut self.attached
            }
            fn boundary(&mut self) -> Option<&mut Option<String>> {
                holder!(@b self $b)
            }
        }
    };
    (@b $s:ident yes) => { Some(&mut $s.boundary) };
    (@b $s:ident no) => { None };
}
holder!(User, USER, "User", EntityKind::User, boundary: yes);
holder!(Role, ROLE, "Role", EntityKind::Role, boundary: yes);
holder!(Group, GROUP, "Group", EntityKind::Group, boundary: no);

/// Checks an identity-based policy document: size, syntax, no `Principal`.
pub(crate) fn check_identity_policy(field: &str, doc: &str) -> IamResult<()> {
    validate_policy_document(field, doc)?;
    let policy = coffer_policy::Policy::parse(doc)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    if policy.statements().iter().any(|s| s.principal().is_some()) {
        return Err(IamError::MalformedPolicyDocument(
            "Policy document should not specify a principal.".into(),
        ));
    }
    if policy.statements().iter().any(|s| s.resources().is_none()) {
        return Err(IamError::MalformedPolicyDocument(
            "Policy statement must contain resources.".into(),
        ));
    }
    Ok(())
}

impl Service {
    /// Dispatches `<Verb><Kind>Policy…` actions to the generic handler.
    pub(crate) async fn entity_policy_call(
        &self,
        caller: &Caller,
        action: &str,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        if action.contains("User") {
            self.holder_op::<User>(caller, action, req, rid).await
        } else if action.contains("Role") {
            self.holder_op::<Role>(caller, action, req, rid).await
        } else {
            self.holder_op::<Group>(caller, action, req, rid).await
        }
    }

    async fn holder_op<H: Holder>(
        &self,
        caller: &Caller,
        action: &str,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let account = caller.account_id.as_str();
        let param = format!("{}Name", H::WORD);
        let name = req.required(&param).map_err(wire_error)?.to_owned();
        let verb = action
            .strip_suffix("PermissionsBoundary")
            .map(|v| format!("{}Boundary", v.trim_end_matches(H::WORD)))
            .unwrap_or_else(|| action.replacen(H::WORD, "", 1));
        // Reads.
        if verb.starts_with("Get") || verb.starts_with("List") {
            let mut h: H = self.holder::<H>(caller, action, &name).await?;
            let mut w = XmlWriter::new(Wire::Iam, action);
            match verb.as_str() {
                "GetPolicy" => {
                    let pname = req.required("PolicyName").map_err(wire_error)?;
                    let doc = h.inline().get(pname).cloned().ok_or_else(|| {
                        IamError::NoSuchEntity(format!(
                            "The {} policy with name {pname} cannot be found.",
                            H::WORD.to_lowercase()
                        ))
                    })?;
                    w.text(&param, h.name().to_owned().as_str())
                        .text("PolicyName", pname)
                        .policy_document("PolicyDocument", &doc);
                }
                "ListPolicies" => {
                    let names: Vec<String> = h.inline().keys().cloned().collect();
                    w.string_list("PolicyNames", names);
                    xml::not_truncated(&mut w);
                }
                _ => {
                    // ListAttached<Kind>Policies
                    let arns = h.attached().clone();
                    let mut items = Vec::new();
                    for arn in arns {
                        let pname = parse_iam_arn(&arn).map_or(arn.clone(), |a| a.name.to_owned());
                        items.push((pname, arn));
                    }
                    w.list("AttachedPolicies", items, |w, (n, a)| {
                        w.text("PolicyName", &n).text("PolicyArn", &a);
                    });
                    xml::not_truncated(&mut w);
                }
            }
            return Ok(w.finish(rid));
        }
        // Writes.
        let input = WriteInput::parse(&verb, req)?;
        if let Some(arn) = input.policy_arn() {
            // The policy must exist before anything is attached.
            if self.managed(account, arn).await?.is_none() {
                return Err(IamError::NoSuchEntity(format!(
                    "Policy {arn} does not exist or is not attachable."
                )));
            }
        }
        with_retry!({
            let rev = self.iam_rev(account).await?;
            let mut h: H = self.holder::<H>(caller, action, &name).await?;
            let mut writes = Vec::new();
            let changed = match &input {
                WriteInput::PutInline { name: pname, doc } => {
                    h.inline().insert(pname.clone(), doc.clone());
                    let docs: Vec<String> = h.inline().values().cloned().collect();
                    check_inline_aggregate(H::QUOTA, &name, docs.iter().map(String::as_str))?;
                    true
                }
                WriteInput::DeleteInline { name: pname } => {
                    if h.inline().remove(pname).is_none() {
                        return Err(IamError::NoSuchEntity(format!(
                            "The {} policy with name {pname} cannot be found.",
                            H::WORD.to_lowercase()
                        )));
                    }
                    true
                }
                WriteInput::Attach { arn } => {
                    if h.attached().contains(arn) {
                        false
                    } else {
                        if h.attached().len() >= MAX_ATTACHED {
                            return Err(IamError::LimitExceeded(format!(
                                "Cannot exceed quota for PoliciesPer{}: {MAX_ATTACHED}",
                                H::WORD
                            )));
                        }
                        h.attached().push(arn.clone());
                        writes.extend(self.count_attachment(account, arn, 1).await?);
                        true
                    }
                }
                WriteInput::Detach { arn } => {
                    let before = h.attached().len();
                    h.attached().retain(|a| a != arn);
                    if h.attached().len() == before {
                        return Err(IamError::NoSuchEntity(format!(
                            "Policy {arn} was not found."
                        )));
                    }
                    writes.extend(self.count_attachment(account, arn, -1).await?);
                    true
                }
                WriteInput::PutBoundary { arn } => {
                    let slot = h.boundary().ok_or_else(bad_action)?;
                    *slot = Some(arn.clone());
                    true
                }
                WriteInput::DeleteBoundary => {
                    let slot = h.boundary().ok_or_else(bad_action)?;
                    slot.take().is_some()
                }
            };
            if !changed {
                Some(())
            } else {
                writes.push(put_doc(H::KIND, &name, &h));
                self.iam_commit(caller, account, rev, writes)
                    .await?
                    .then_some(())
            }
        })?;
        Ok(XmlWriter::without_result(Wire::Iam, action).finish(rid))
    }

    /// Loads a holder and checks `iam:<action>` on it.
    pub(crate) async fn holder<H: Holder>(
        &self,
        caller: &Caller,
        action: &str,
        name: &str,
    ) -> IamResult<H> {
        let found: Option<H> = self.iam_read(&caller.account_id, H::KIND, name).await?;
        match found {
            Some(h) => {
                self.iam_allow(caller, action, h.arn()).await?;
                Ok(h)
            }
            None => {
                let arn = format!(
                    "arn:aws:iam::{}:{}/{name}",
                    caller.account_id,
                    H::WORD.to_lowercase()
                );
                self.iam_allow(caller, action, &arn).await?;
                Err(no_such(&H::WORD.to_lowercase(), name))
            }
        }
    }

    /// A managed policy (AWS or this account's) by ARN.
    pub(crate) async fn managed(
        &self,
        account: &str,
        arn: &str,
    ) -> IamResult<Option<ManagedPolicy>> {
        self.managed_policy(account, arn)
            .await
            .map_err(super::api_error)
    }

    /// The write that adjusts a customer policy's attachment count (none for AWS's).
    async fn count_attachment(
        &self,
        account: &str,
        arn: &str,
        delta: i64,
    ) -> IamResult<Option<coffer_store::IamWrite>> {
        if coffer_iam::managed::find_aws_managed_policy(arn).is_some() {
            return Ok(None);
        }
        let Some(mut p) = self.managed(account, arn).await? else {
            return Ok(None);
        };
        p.attachment_count = (i64::from(p.attachment_count) + delta).max(0) as u32;
        Ok(Some(put_doc(POLICY, &p.name, &p)))
    }
}

fn bad_action() -> IamError {
    IamError::InvalidAction("Groups have no permissions boundary.".into())
}

/// A parsed write request.
enum WriteInput {
    PutInline { name: String, doc: String },
    DeleteInline { name: String },
    Attach { arn: String },
    Detach { arn: String },
    PutBoundary { arn: String },
    DeleteBoundary,
}

impl WriteInput {
    fn parse(verb: &str, req: &QueryRequest) -> IamResult<WriteInput> {
        let get = |p: &str| req.required(p).map(str::to_owned).map_err(wire_error);
        Ok(match verb {
            "PutPolicy" => {
                let name = get("PolicyName")?;
                validate_policy_name(&name)?;
                let doc = get("PolicyDocument")?;
                check_identity_policy("PolicyDocument", &doc)?;
                WriteInput::PutInline { name, doc }
            }
            "DeletePolicy" => WriteInput::DeleteInline {
                name: get("PolicyName")?,
            },
            "AttachPolicy" => WriteInput::Attach {
                arn: get("PolicyArn")?,
            },
            "DetachPolicy" => WriteInput::Detach {
                arn: get("PolicyArn")?,
            },
            "PutBoundary" => WriteInput::PutBoundary {
                arn: get("PermissionsBoundary")?,
            },
            "DeleteBoundary" => WriteInput::DeleteBoundary,
            other => {
                return Err(IamError::InvalidAction(format!(
                    "Could not find operation {other}"
                )));
            }
        })
    }

    fn policy_arn(&self) -> Option<&str> {
        match self {
            WriteInput::Attach { arn } | WriteInput::PutBoundary { arn } => Some(arn),
            _ => None,
        }
    }
}
