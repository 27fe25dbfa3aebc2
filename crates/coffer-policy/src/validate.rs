//! Access-Analyzer-like checks for secret resource policies, and BlockPublicPolicy's notion
//! of a public policy.

use crate::condition::{Family, SetQualifier};
use crate::parse::{Effect, Policy, Statement, Version};
use crate::principal::PrincipalType;

/// Severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// The policy is invalid or cannot work.
    Error,
    /// Likely a mistake or a security risk.
    Warning,
    /// Could be improved.
    Suggestion,
}

/// One validation finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub kind: FindingKind,
    /// Stable identifier of the check, e.g. `MISSING_PRINCIPAL`.
    pub check: &'static str,
    /// Human-readable message.
    pub message: String,
}

/// Actions of AWS Secrets Manager.
pub const SECRETSMANAGER_ACTIONS: &[&str] = &[
    "BatchGetSecretValue",
    "CancelRotateSecret",
    "CreateSecret",
    "DeleteResourcePolicy",
    "DeleteSecret",
    "DescribeSecret",
    "GetRandomPassword",
    "GetResourcePolicy",
    "GetSecretValue",
    "ListSecretVersionIds",
    "ListSecrets",
    "PutResourcePolicy",
    "PutSecretValue",
    "RemoveRegionsFromReplication",
    "ReplicateSecretToRegions",
    "RestoreSecret",
    "RotateSecret",
    "StopReplicationToReplica",
    "TagResource",
    "UntagResource",
    "UpdateSecret",
    "UpdateSecretVersionStage",
    "ValidateResourcePolicy",
];

/// Keys that, compared to concrete values, restrict who can use a policy (so a `*`
/// principal is not public), after S3 Block Public Access / IAM Access Analyzer.
const PINNING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
];

fn clause_pins(c: &crate::condition::ConditionClause) -> bool {
    let op = c.op;
    if op.negated || op.if_exists || op.set == SetQualifier::ForAllValues || c.value_count() == 0 {
        return false;
    }
    let key = c.key_lower();
    if !PINNING_KEYS.contains(&key) {
        return false;
    }
    if key == "aws:sourceip" {
        return op.family == Family::Ip
            && c.cidrs()
                .all(|x| x.is_some_and(|c| c.prefix >= if c.v6 { 32 } else { 8 }));
    }
    matches!(
        op.family,
        Family::Str | Family::StrCi | Family::Like | Family::Arn
    ) && !c.any_wildcard_or_var()
}

fn statement_public(st: &Statement) -> bool {
    st.effect() == Effect::Allow
        && st.principal().is_some_and(|p| p.negated || p.is_any())
        && !st.conditions().iter().any(clause_pins)
}

/// Whether the policy grants access to everyone (BlockPublicPolicy): an `Allow` statement
/// with principal `*` / `{"AWS":"*"}` or with `NotPrincipal`, unless one of its conditions
/// pins the caller to concrete values of `aws:PrincipalAccount`, `aws:PrincipalArn`,
/// `aws:SourceAccount`, `aws:SourceArn`, `aws:PrincipalOrgID`, `aws:userid`,
/// `aws:SourceVpc(e)` or `aws:SourceIp` (a CIDR no wider than /8, or /32 for IPv6).
pub fn is_public(policy: &Policy) -> bool {
    policy.statements().iter().any(statement_public)
}

fn push(out: &mut Vec<Finding>, kind: FindingKind, check: &'static str, message: String) {
    out.push(Finding {
        kind,
        check,
        message,
    });
}

fn label(i: usize, st: &Statement) -> String {
    match st.sid() {
        Some(s) => format!("Statement {i} ({s})"),
        None => format!("Statement {i}"),
    }
}

/// Validate a secret's resource policy document.
pub fn validate_resource_policy(json: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let policy = match Policy::parse_with_limit(json, 20_480) {
        Ok(p) => p,
        Err(e) => {
            push(&mut out, FindingKind::Error, "SYNTAX", e.detail());
            return out;
        }
    };
    match policy.version() {
        None => push(
            &mut out,
            FindingKind::Suggestion,
            "MISSING_VERSION",
            "Add \"Version\": \"2012-10-17\"; without it policy variables are literal text.".into(),
        ),
        Some(Version::V2008_10_17) if json.contains("${") => push(
            &mut out,
            FindingKind::Warning,
            "VARIABLES_NOT_SUPPORTED",
            "Policy variables are not substituted with Version 2008-10-17; use 2012-10-17.".into(),
        ),
        _ => {}
    }
    for (i, st) in policy.statements().iter().enumerate() {
        check_statement(&mut out, i, st);
    }
    if is_public(&policy) {
        push(
            &mut out,
            FindingKind::Warning,
            "PUBLIC_ACCESS",
            "The policy grants access to any principal (BlockPublicPolicy would reject it).".into(),
        );
    }
    out
}

fn check_statement(out: &mut Vec<Finding>, i: usize, st: &Statement) {
    let l = label(i, st);
    match st.principal() {
        None => push(
            out,
            FindingKind::Error,
            "MISSING_PRINCIPAL",
            format!("{l} has no Principal; a resource policy must name one."),
        ),
        Some(p) if p.negated && st.effect() == Effect::Allow => push(
            out,
            FindingKind::Warning,
            "ALLOW_WITH_NOT_PRINCIPAL",
            format!(
                "{l} uses NotPrincipal with Allow, which grants access to every other principal."
            ),
        ),
        Some(p) => {
            for v in p
                .values
                .iter()
                .filter(|v| v.kind != PrincipalType::Aws && v.kind != PrincipalType::Service)
            {
                push(
                    out,
                    FindingKind::Warning,
                    "UNSUPPORTED_PRINCIPAL",
                    format!(
                        "{l}: principal type {} is not supported for secrets.",
                        v.kind.as_str()
                    ),
                );
            }
        }
    }
    match st.resources() {
        None => push(
            out,
            FindingKind::Error,
            "MISSING_RESOURCE",
            format!("{l} has no Resource; use \"*\" for this secret."),
        ),
        Some(r) if r.negated && st.effect() == Effect::Allow => push(
            out,
            FindingKind::Warning,
            "ALLOW_WITH_NOT_RESOURCE",
            format!("{l} uses NotResource with Allow."),
        ),
        Some(r) => {
            for res in r
                .raw()
                .iter()
                .filter(|r| *r != "*" && !r.starts_with("arn:aws:secretsmanager:"))
            {
                push(
                    out,
                    FindingKind::Warning,
                    "RESOURCE_NOT_A_SECRET",
                    format!("{l}: resource {res} is not a secret ARN."),
                );
            }
        }
    }
    let actions = st.actions();
    if actions.negated && st.effect() == Effect::Allow {
        push(
            out,
            FindingKind::Warning,
            "ALLOW_WITH_NOT_ACTION",
            format!("{l} uses NotAction with Allow."),
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for a in actions.raw() {
        let lower = a.to_ascii_lowercase();
        if seen.contains(&lower) {
            push(
                out,
                FindingKind::Suggestion,
                "REDUNDANT_ACTION",
                format!("{l}: action {a} is listed twice."),
            );
        }
        seen.push(lower.clone());
        if a == "*" {
            continue;
        }
        match lower.split_once(':') {
            Some(("secretsmanager", name)) if !name.contains(['*', '?']) => {
                if !SECRETSMANAGER_ACTIONS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(name))
                {
                    push(
                        out,
                        FindingKind::Warning,
                        "UNKNOWN_ACTION",
                        format!("{l}: unknown action {a}."),
                    );
                }
            }
            Some(("secretsmanager", _)) => {}
            _ => push(
                out,
                FindingKind::Warning,
                "UNSUPPORTED_SERVICE",
                format!("{l}: action {a} does not apply to secrets."),
            ),
        }
    }
    if actions.raw().len() > 1
        && actions
            .raw()
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case("secretsmanager:*"))
    {
        push(
            out,
            FindingKind::Suggestion,
            "REDUNDANT_ACTION",
            format!("{l}: a wildcard action makes the other actions redundant."),
        );
    }
    for c in st.conditions() {
        for v in c.malformed_values() {
            push(
                out,
                FindingKind::Error,
                "INVALID_CONDITION_VALUE",
                format!(
                    "{l}: value {v:?} is not valid for {} on {}.",
                    c.operator(),
                    c.key()
                ),
            );
        }
        if c.set_qualifier() == SetQualifier::ForAllValues && st.effect() == Effect::Allow {
            push(
                out,
                FindingKind::Warning,
                "FOR_ALL_VALUES_WITH_ALLOW",
                format!(
                    "{l}: ForAllValues with Allow is also true when {} is absent.",
                    c.key()
                ),
            );
        }
        if c.value_count() == 0 {
            push(
                out,
                FindingKind::Warning,
                "EMPTY_CONDITION",
                format!("{l}: {} on {} has no values.", c.operator(), c.key()),
            );
        }
    }
}
