//! SimulatePrincipalPolicy: the decision for a user or role on given actions and
//! resources, with the statements that decided, and (a Coffer addition, ignored by AWS
//! clients) a readable explanation per result, which `coffer iam explain` prints.

use std::sync::Arc;

use coffer_iam::IamError;
use coffer_iam::model::{Role, User, parse_iam_arn};
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};
use coffer_policy::{
    AuthzRequest, Decision, Policy, PolicyKind, PolicyRef, Principal, PrincipalKind, explain,
};

use super::{IamResult, api_error, wire_error};
use crate::authz::Access;
use crate::authz::identity::{Entity, Identity};
use crate::authz::load::{ROLE, USER};
use crate::{Caller, Service};

/// Most actions × resources one simulation evaluates.
const MAX_EVALUATIONS: usize = 1000;

impl Service {
    pub(crate) async fn simulate_principal_policy(
        &self,
        caller: &Caller,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let account = caller.account_id.as_str();
        let source = req.required("PolicySourceArn").map_err(wire_error)?;
        self.iam_allow(caller, "SimulatePrincipalPolicy", source)
            .await?;
        let parsed = parse_iam_arn(source)
            .filter(|a| a.account == account)
            .ok_or_else(|| IamError::InvalidInput(format!("Invalid PolicySourceArn: {source}")))?;
        let identity = if source.contains(":user/") {
            let user: User = self
                .iam_read(account, USER, parsed.name)
                .await?
                .ok_or_else(|| super::no_such("user", parsed.name))?;
            Identity::user(account, &user.arn, &user.name, &user.user_id)
        } else if source.contains(":role/") {
            let role: Role = self
                .iam_read(account, ROLE, parsed.name)
                .await?
                .ok_or_else(|| super::no_such("role", parsed.name))?;
            Identity {
                principal: Principal {
                    arn: role.arn.clone(),
                    account: account.to_owned(),
                    kind: PrincipalKind::AssumedRole,
                    role_arn: Some(role.arn.clone()),
                },
                user_id: role.role_id.clone(),
                username: None,
                entity: Entity::Role(role.name.clone()),
                session: None,
            }
        } else {
            return Err(IamError::InvalidInput(format!(
                "Invalid PolicySourceArn: {source}"
            )));
        };
        let sim = Caller {
            identity: Arc::new(identity),
            ..caller.clone()
        };
        let actions = req.list("ActionNames").map_err(wire_error)?;
        if actions.is_empty() {
            return Err(IamError::MissingParameter(
                "The request must contain the parameter ActionNames".into(),
            ));
        }
        let mut resources = req.list("ResourceArns").map_err(wire_error)?;
        if resources.is_empty() {
            resources.push("*");
        }
        if actions.len() * resources.len() > MAX_EVALUATIONS {
            return Err(IamError::LimitExceeded(
                "Too many action and resource combinations.".into(),
            ));
        }
        let mut extra = Vec::new();
        for (i, doc) in req
            .list("PolicyInputList")
            .map_err(wire_error)?
            .iter()
            .enumerate()
        {
            let p =
                Policy::parse(doc).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
            extra.push((format!("PolicyInputList.{}", i + 1), Arc::new(p)));
        }
        let resource_policy = match req.get("ResourcePolicy") {
            Some(doc) => Some(
                Policy::parse(doc).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?,
            ),
            None => None,
        };
        let mut entries = Vec::new();
        for e in req.structs("ContextEntries").map_err(wire_error)? {
            let key = e.required("ContextKeyName").map_err(wire_error)?.to_owned();
            let values: Vec<String> = e
                .list("ContextKeyValues")
                .map_err(wire_error)?
                .into_iter()
                .map(str::to_owned)
                .collect();
            entries.push((key, values));
        }
        let policies = self.principal_policies(&sim).await.map_err(api_error)?;
        let mut identity_refs: Vec<(String, Arc<Policy>)> = policies.identity.clone();
        identity_refs.extend(extra);
        let mut w = XmlWriter::new(Wire::Iam, "SimulatePrincipalPolicy");
        w.start("EvaluationResults");
        for action in &actions {
            for resource in &resources {
                let mut access = Access::new(*action);
                for (k, v) in &entries {
                    access = access.multi(k, v.clone());
                }
                let ctx = self.request_context(&sim, &access, resource, None, &policies);
                let ids: Vec<PolicyRef<'_>> = identity_refs
                    .iter()
                    .map(|(id, p)| PolicyRef { id, policy: p })
                    .collect();
                let boundary: Option<Vec<PolicyRef<'_>>> = policies.boundary.as_ref().map(|b| {
                    b.iter()
                        .map(|(id, p)| PolicyRef { id, policy: p })
                        .collect()
                });
                let ex = explain(&AuthzRequest {
                    ctx: &ctx,
                    identity: &ids,
                    boundary: boundary.as_deref(),
                    session: None,
                    resource_policy: resource_policy.as_ref().map(|p| PolicyRef {
                        id: "ResourcePolicy",
                        policy: p,
                    }),
                    resource_account: account,
                });
                let decision = match ex.outcome.decision {
                    Decision::Allow => "allowed",
                    Decision::ExplicitDeny => "explicitDeny",
                    Decision::ImplicitDeny => "implicitDeny",
                };
                w.start("member")
                    .text("EvalActionName", action)
                    .text("EvalResourceName", resource)
                    .text("EvalDecision", decision);
                w.list("MatchedStatements", &ex.matched, |w, s| {
                    let kind = match s.kind {
                        PolicyKind::Identity => "IAM Policy",
                        PolicyKind::Boundary => "IAM Policy",
                        PolicyKind::Session => "IAM Policy",
                        PolicyKind::Resource => "Resource Policy",
                    };
                    // AWS names inline policies by name and managed ones by ARN.
                    let id = if s.policy_id.starts_with("arn:") {
                        s.policy_id.as_str()
                    } else {
                        s.policy_id.rsplit('/').next().unwrap_or_default()
                    };
                    w.text("SourcePolicyId", id).text("SourcePolicyType", kind);
                });
                w.string_list("MissingContextValues", &ex.missing_context_values);
                w.text("CofferExplanation", &ex.to_string());
                w.end();
            }
        }
        w.end();
        w.bool("IsTruncated", false);
        Ok(w.finish(rid))
    }
}
