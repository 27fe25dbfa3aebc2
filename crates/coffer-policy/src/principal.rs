//! `Principal` / `NotPrincipal` elements of resource-based policies.

use crate::context::{Principal, PrincipalKind};
use crate::error::PolicyError;
use crate::json::J;

/// Key of a principal map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// `"AWS"`: accounts, users, roles, sessions.
    Aws,
    /// `"Service"`: service principals.
    Service,
    /// `"Federated"`: identity providers.
    Federated,
    /// `"CanonicalUser"`.
    CanonicalUser,
}

impl PrincipalType {
    /// The JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// How a principal value matches callers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Class {
    /// `*`: everyone, including anonymous callers.
    Any,
    /// Every principal of an account (`123456789012` or `arn:…:iam::123456789012:root`).
    Account(String),
    /// An IAM role: the role itself and its sessions.
    Role(String),
    /// Exactly this ARN (user, assumed-role session, federated user, service, …).
    Exact(String),
}

/// How strongly a statement's principal matched the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalHit {
    /// Not matched.
    None,
    /// Matched through the caller's account (delegation to the account).
    Account,
    /// Matched through `*`, `NotPrincipal`, or the role of an assumed-role session:
    /// permissions boundaries and session policies still limit the grant.
    Limited,
    /// Matched the caller's exact ARN (user, session, service, federated user).
    Direct,
}

/// One value of a principal element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalValue {
    /// Type key.
    pub kind: PrincipalType,
    /// Value as written.
    pub value: String,
    class: Class,
}

/// A `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalElement {
    /// `true` for `NotPrincipal`.
    pub negated: bool,
    /// `true` when written as the bare string `"*"`.
    pub wildcard: bool,
    /// Values of the map form.
    pub values: Vec<PrincipalValue>,
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn classify(kind: PrincipalType, v: &str) -> Result<Class, PolicyError> {
    if kind != PrincipalType::Aws {
        if v.is_empty() {
            return Err(PolicyError::InvalidPrincipal(format!(
                "\"{}\":\"\"",
                kind.as_str()
            )));
        }
        return Ok(Class::Exact(v.to_owned()));
    }
    let bad = || PolicyError::InvalidPrincipal(format!("\"AWS\":\"{v}\""));
    if v == "*" {
        return Ok(Class::Any);
    }
    if v.contains(['*', '?']) {
        return Err(bad());
    }
    if is_account(v) {
        return Ok(Class::Account(v.to_owned()));
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[1].is_empty() || parts[5].is_empty() {
        return Err(bad());
    }
    match (parts[2], parts[5]) {
        ("iam", "root") if is_account(parts[4]) => Ok(Class::Account(parts[4].to_owned())),
        ("iam", r) if r.starts_with("role/") => Ok(Class::Role(v.to_owned())),
        _ => Ok(Class::Exact(v.to_owned())),
    }
}

/// Parse a `Principal`/`NotPrincipal` value.
pub(crate) fn parse(j: &J, negated: bool) -> Result<PrincipalElement, PolicyError> {
    let mut el = PrincipalElement {
        negated,
        wildcard: false,
        values: Vec::new(),
    };
    match j {
        J::Str(s) if s == "*" => {
            el.wildcard = true;
            return Ok(el);
        }
        J::Str(s) => return Err(PolicyError::InvalidPrincipal(s.clone())),
        J::Obj(map) if !map.is_empty() => {
            for (k, v) in map {
                let kind = match k.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Service" => PrincipalType::Service,
                    "Federated" => PrincipalType::Federated,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    other => {
                        return Err(PolicyError::InvalidPrincipal(format!(
                            "unknown principal type {other:?}"
                        )));
                    }
                };
                let vals: Vec<&String> = match v {
                    J::Str(s) => vec![s],
                    J::Arr(a) if !a.is_empty() => a
                        .iter()
                        .map(|x| match x {
                            J::Str(s) => Ok(s),
                            _ => Err(PolicyError::syntax("principal values must be strings")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(PolicyError::syntax(
                            "principal values must be a string or non-empty array",
                        ));
                    }
                };
                for s in vals {
                    el.values.push(PrincipalValue {
                        kind,
                        value: s.clone(),
                        class: classify(kind, s)?,
                    });
                }
            }
        }
        _ => {
            return Err(PolicyError::syntax(
                "Principal must be \"*\" or a non-empty object",
            ));
        }
    }
    Ok(el)
}

impl PrincipalValue {
    fn hit(&self, p: &Principal) -> PrincipalHit {
        let authenticated = p.kind != PrincipalKind::Anonymous;
        match &self.class {
            Class::Any => PrincipalHit::Limited,
            Class::Account(a) if authenticated && *a == p.account => PrincipalHit::Account,
            Class::Role(r) if authenticated && *r == p.arn => PrincipalHit::Direct,
            Class::Role(r) if authenticated && p.role_arn.as_deref() == Some(r) => {
                PrincipalHit::Limited
            }
            Class::Exact(a) if authenticated && *a == p.arn => PrincipalHit::Direct,
            _ => PrincipalHit::None,
        }
    }

    /// Whether this value is `*` (everyone).
    pub fn is_any(&self) -> bool {
        self.class == Class::Any
    }

    /// The AWS account this value names: the account itself (`123456789012`,
    /// `arn:aws:iam::123456789012:root`) or the account in a user, role or session ARN.
    /// `None` for `*`, non-`AWS` principal types and ARNs without a 12-digit account.
    pub fn account(&self) -> Option<&str> {
        if self.kind != PrincipalType::Aws {
            return None;
        }
        match &self.class {
            Class::Any => None,
            Class::Account(a) => Some(a),
            Class::Role(arn) | Class::Exact(arn) => arn.split(':').nth(4).filter(|a| is_account(a)),
        }
    }
}

impl PrincipalElement {
    /// How the caller matches this element (`NotPrincipal`: matched when no value matches).
    pub fn hit(&self, p: &Principal) -> PrincipalHit {
        let best = if self.wildcard {
            PrincipalHit::Limited
        } else {
            self.values
                .iter()
                .map(|v| v.hit(p))
                .max()
                .unwrap_or(PrincipalHit::None)
        };
        match (self.negated, best) {
            (false, b) => b,
            (true, PrincipalHit::None) => PrincipalHit::Limited,
            (true, _) => PrincipalHit::None,
        }
    }

    /// Whether the element names everyone (`*` or `{"AWS":"*"}`).
    pub fn is_any(&self) -> bool {
        self.wildcard || self.values.iter().any(PrincipalValue::is_any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(json: &str) -> Vec<PrincipalValue> {
        let j = crate::json::parse(json).unwrap();
        parse(&j, false).unwrap().values
    }

    #[test]
    fn account_of_each_principal_form() {
        let v = values(
            r#"{"AWS":["111111111111","arn:aws:iam::222222222222:root","arn:aws:iam::333333333333:role/r",
                "arn:aws:sts::444444444444:assumed-role/r/s","*"],"Service":"lambda.amazonaws.com"}"#,
        );
        let accounts: Vec<Option<&str>> = v.iter().map(PrincipalValue::account).collect();
        assert_eq!(
            accounts,
            [
                Some("111111111111"),
                Some("222222222222"),
                Some("333333333333"),
                Some("444444444444"),
                None,
                None
            ]
        );
    }
}
