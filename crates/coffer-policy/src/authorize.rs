//! The AWS policy evaluation logic for one request.
//!
//! 1. A matching `Deny` in any applicable policy → explicit deny.
//! 2. The root user of the resource's account → allow.
//! 3. Same account: allow if identity policies allow (within the permissions boundary and
//!    session policies, when present), or the resource policy allows the caller directly
//!    (user ARN / session ARN), or via its role, `*` or `NotPrincipal` — such grants are still
//!    limited by boundary and session policies. A resource policy naming only the caller's
//!    *account* delegates to the account and grants nothing by itself.
//! 4. Cross-account: identity side (∩ boundary ∩ session) and resource policy must both allow.
//! 5. Anonymous callers: only a resource policy statement for `*` can allow.

use crate::context::{PrincipalKind, RequestContext};
use crate::evaluate;
use crate::parse::{Effect, Policy};
use crate::principal::PrincipalHit;

/// A policy with a name for reporting.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRef<'a> {
    /// Policy identifier, e.g. a managed policy ARN or `user/alice inline policy db`.
    pub id: &'a str,
    /// The policy.
    pub policy: &'a Policy,
}

/// Everything needed to decide one request.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// The request.
    pub ctx: &'a RequestContext,
    /// Identity-based policies of the principal.
    pub identity: &'a [PolicyRef<'a>],
    /// Permissions boundary; `None` when none is set.
    pub boundary: Option<&'a [PolicyRef<'a>]>,
    /// Session policies; `None` when none were passed.
    pub session: Option<&'a [PolicyRef<'a>]>,
    /// The resource's resource-based policy.
    pub resource_policy: Option<PolicyRef<'a>>,
    /// Account that owns the resource.
    pub resource_account: &'a str,
}

/// The final decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied by a matching `Deny` statement.
    ExplicitDeny,
    /// Denied because nothing allowed it.
    ImplicitDeny,
}

/// The role a policy plays in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Identity-based policy.
    Identity,
    /// Permissions boundary.
    Boundary,
    /// Session policy.
    Session,
    /// Resource-based policy.
    Resource,
}

impl PolicyKind {
    /// Phrase used in AWS messages, e.g. `an identity-based policy`.
    pub fn with_article(self) -> &'static str {
        match self {
            PolicyKind::Identity => "an identity-based policy",
            PolicyKind::Boundary => "a permissions boundary",
            PolicyKind::Session => "a session policy",
            PolicyKind::Resource => "a resource-based policy",
        }
    }
    /// Phrase used after "no", e.g. `identity-based policy`.
    pub fn bare(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity-based policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::Resource => "resource-based policy",
        }
    }
}

/// Why the decision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Identity-based policies allowed (within boundary and session policies).
    IdentityAllow,
    /// The resource-based policy allowed (same account or anonymous).
    ResourceAllow,
    /// Cross-account: both identity-based and resource-based policies allowed.
    IdentityAndResourceAllow,
    /// The caller is the root user of the resource's account.
    RootUser,
    /// A `Deny` statement in a policy of this kind matched.
    ExplicitDeny(PolicyKind),
    /// No policy of this kind allowed the action.
    NoAllow(PolicyKind),
}

impl Reason {
    /// AWS's phrase for denials, e.g. `because no identity-based policy allows the X action`.
    pub fn phrase(&self, action: &str) -> String {
        match self {
            Reason::ExplicitDeny(k) => format!("with an explicit deny in {}", k.with_article()),
            Reason::NoAllow(k) => format!("because no {} allows the {action} action", k.bare()),
            Reason::IdentityAllow => "because an identity-based policy allows it".into(),
            Reason::ResourceAllow => "because a resource-based policy allows it".into(),
            Reason::IdentityAndResourceAllow => {
                "because an identity-based policy and a resource-based policy allow it".into()
            }
            Reason::RootUser => "because it is the account's root user".into(),
        }
    }
}

/// A statement that contributed to the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// Role of the policy.
    pub kind: PolicyKind,
    /// Policy id from [`PolicyRef::id`].
    pub policy_id: String,
    /// Index of the statement in the policy.
    pub index: usize,
    /// `Sid` of the statement.
    pub sid: Option<String>,
    /// Effect of the statement.
    pub effect: Effect,
}

/// Result of [`authorize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub reason: Reason,
    /// Deciding statements: the matching `Deny`s, or the `Allow`s that granted.
    pub deciding: Vec<StatementRef>,
}

impl Outcome {
    /// Whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// AWS's `AccessDeniedException` message, e.g. `User: arn:… is not authorized to perform:
    /// secretsmanager:GetSecretValue on resource: arn:… because no identity-based policy allows
    /// the secretsmanager:GetSecretValue action`.
    pub fn message(&self, ctx: &RequestContext) -> String {
        let who = if ctx.principal.kind == PrincipalKind::Anonymous {
            "anonymous"
        } else {
            &ctx.principal.arn
        };
        let verb = if self.allowed() {
            "is authorized"
        } else {
            "is not authorized"
        };
        format!(
            "User: {who} {verb} to perform: {} on resource: {} {}",
            ctx.action,
            ctx.resource,
            self.reason.phrase(&ctx.action)
        )
    }
}

/// Location of a statement: (policy index in its set, statement index).
type Loc = (usize, usize);

#[derive(Default)]
struct SetEval {
    allow: Option<(Loc, PrincipalHit)>,
    denies: Vec<Loc>,
}

fn eval_set(
    policies: &[PolicyRef],
    ctx: &RequestContext,
    action_lower: &str,
    resource_policy: bool,
) -> SetEval {
    let mut out = SetEval::default();
    for (pi, p) in policies.iter().enumerate() {
        let stmts = p.policy.statements();
        let candidates = p.policy.index.candidates(stmts, action_lower);
        candidates.iter().for_each(|&si| {
            let si = si as usize;
            let st = &stmts[si];
            match st.effect() {
                Effect::Deny => {
                    if evaluate::check(st, ctx, resource_policy).is_ok() {
                        out.denies.push((pi, si));
                    }
                }
                Effect::Allow => {
                    let best = out.allow.map_or(PrincipalHit::None, |(_, h)| h);
                    if best != PrincipalHit::Direct
                        && let Ok(h) = evaluate::check(st, ctx, resource_policy)
                        && h > best
                    {
                        out.allow = Some(((pi, si), h));
                    }
                }
            }
        });
    }
    out
}

fn sref(kind: PolicyKind, set: &[PolicyRef], (pi, si): Loc) -> StatementRef {
    let st = &set[pi].policy.statements()[si];
    StatementRef {
        kind,
        policy_id: set[pi].id.to_owned(),
        index: si,
        sid: st.sid().map(str::to_owned),
        effect: st.effect(),
    }
}

/// Decide a request with the AWS policy evaluation logic.
pub fn authorize(req: &AuthzRequest) -> Outcome {
    let ctx = req.ctx;
    let al = ctx.action.to_ascii_lowercase();
    let al = al.as_str();
    let res_set: &[PolicyRef] = match &req.resource_policy {
        Some(r) => std::slice::from_ref(r),
        None => &[],
    };
    let sets: [(PolicyKind, &[PolicyRef], Option<SetEval>); 4] = [
        (
            PolicyKind::Identity,
            req.identity,
            Some(eval_set(req.identity, ctx, al, false)),
        ),
        (
            PolicyKind::Resource,
            res_set,
            req.resource_policy
                .map(|_| eval_set(res_set, ctx, al, true)),
        ),
        (
            PolicyKind::Boundary,
            req.boundary.unwrap_or(&[]),
            req.boundary.map(|b| eval_set(b, ctx, al, false)),
        ),
        (
            PolicyKind::Session,
            req.session.unwrap_or(&[]),
            req.session.map(|s| eval_set(s, ctx, al, false)),
        ),
    ];
    let mut deciding = Vec::new();
    let mut deny_kind = None;
    for (kind, set, ev) in &sets {
        if let Some(ev) = ev {
            for loc in &ev.denies {
                deny_kind.get_or_insert(*kind);
                deciding.push(sref(*kind, set, *loc));
            }
        }
    }
    if let Some(k) = deny_kind {
        return Outcome {
            decision: Decision::ExplicitDeny,
            reason: Reason::ExplicitDeny(k),
            deciding,
        };
    }
    let allow_of = |i: usize| sets[i].2.as_ref().and_then(|e| e.allow);
    let refs = |idx: &[usize]| -> Vec<StatementRef> {
        idx.iter()
            .filter_map(|&i| allow_of(i).map(|(loc, _)| sref(sets[i].0, sets[i].1, loc)))
            .collect()
    };
    let allow = |reason, idx: &[usize]| Outcome {
        decision: Decision::Allow,
        reason,
        deciding: refs(idx),
    };
    let deny = |k| Outcome {
        decision: Decision::ImplicitDeny,
        reason: Reason::NoAllow(k),
        deciding: Vec::new(),
    };

    let p = &ctx.principal;
    let anonymous = p.kind == PrincipalKind::Anonymous;
    let same = !anonymous && p.account == req.resource_account;
    // The root user is implicitly allowed everything by its own account.
    let id_ok = allow_of(0).is_some() || p.kind == PrincipalKind::Root;
    let res_hit = allow_of(1).map_or(PrincipalHit::None, |(_, h)| h);
    let bnd_ok = req.boundary.is_none() || allow_of(2).is_some();
    let sess_ok = req.session.is_none() || allow_of(3).is_some();

    if anonymous {
        return if res_hit == PrincipalHit::Limited {
            allow(Reason::ResourceAllow, &[1])
        } else {
            deny(PolicyKind::Resource)
        };
    }
    if same && p.kind == PrincipalKind::Root {
        return Outcome {
            decision: Decision::Allow,
            reason: Reason::RootUser,
            deciding: Vec::new(),
        };
    }
    if same {
        if id_ok && bnd_ok && sess_ok {
            return allow(Reason::IdentityAllow, &[0, 2, 3]);
        }
        match res_hit {
            PrincipalHit::Direct => return allow(Reason::ResourceAllow, &[1]),
            PrincipalHit::Limited if bnd_ok && sess_ok => {
                return allow(Reason::ResourceAllow, &[1, 2, 3]);
            }
            PrincipalHit::Limited => {
                return deny(if bnd_ok {
                    PolicyKind::Session
                } else {
                    PolicyKind::Boundary
                });
            }
            _ => {}
        }
        return deny(if !id_ok {
            PolicyKind::Identity
        } else if !bnd_ok {
            PolicyKind::Boundary
        } else {
            PolicyKind::Session
        });
    }
    let kind = if !id_ok {
        PolicyKind::Identity
    } else if !bnd_ok {
        PolicyKind::Boundary
    } else if !sess_ok {
        PolicyKind::Session
    } else if res_hit == PrincipalHit::None {
        PolicyKind::Resource
    } else {
        return allow(Reason::IdentityAndResourceAllow, &[0, 1, 2, 3]);
    };
    deny(kind)
}

/// How the allowing statements of a resource-based policy match the caller for `ctx`
/// (the strongest hit), and whether one of its `Deny` statements matches. KMS uses it: a
/// key policy must itself allow a request, directly or by delegating to the account.
pub fn resource_policy_hit(policy: &Policy, ctx: &RequestContext) -> (PrincipalHit, bool) {
    let set = [PolicyRef {
        id: "resource-policy",
        policy,
    }];
    let al = ctx.action.to_ascii_lowercase();
    let ev = eval_set(&set, ctx, &al, true);
    (
        ev.allow.map_or(PrincipalHit::None, |(_, h)| h),
        !ev.denies.is_empty(),
    )
}
