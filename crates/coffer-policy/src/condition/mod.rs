//! Condition operators and their evaluation (IAM "Condition operators" semantics).
//!
//! Choices, following the AWS documentation:
//! - operators in a block, and keys within an operator, are ANDed; values of one key ORed;
//! - a key absent from the request: `...IfExists` → true; `ForAllValues:` → true;
//!   `ForAnyValue:` → false; otherwise positive operators → false and negated operators
//!   (`StringNotEquals`, `NotIpAddress`, …) → true;
//! - negated operators without a qualifier: true when no request value matches any policy value;
//! - a condition value whose policy variable cannot be resolved makes the whole clause false
//!   (AWS: "If AWS cannot resolve a variable this might cause the entire statement to be invalid");
//! - malformed values (bad number/date/CIDR/base64) never match.

mod compiled;
mod values;

use compiled::{CondValue, Typed, compile_value};

pub(crate) use values::Cidr;

use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::json::J;
use crate::variables;
use crate::wildcard::Pattern;
use std::borrow::Cow;

/// Operator family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Str,
    StrCi,
    Like,
    Num(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// Ordering comparisons for numeric and date operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn test<T: PartialOrd>(self, req: T, pol: T) -> bool {
        match self {
            Cmp::Eq => req == pol,
            Cmp::Lt => req < pol,
            Cmp::Le => req <= pol,
            Cmp::Gt => req > pol,
            Cmp::Ge => req >= pol,
        }
    }
}

/// `ForAllValues:` / `ForAnyValue:` qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// No qualifier.
    None,
    /// `ForAllValues:`.
    ForAllValues,
    /// `ForAnyValue:`.
    ForAnyValue,
}

/// A parsed operator name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Op {
    pub(crate) family: Family,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub(crate) set: SetQualifier,
}

fn base_operator(name: &str) -> Option<(Family, bool)> {
    use Cmp::*;
    use Family::*;
    Some(match name {
        "StringEquals" => (Str, false),
        "StringNotEquals" => (Str, true),
        "StringEqualsIgnoreCase" => (StrCi, false),
        "StringNotEqualsIgnoreCase" => (StrCi, true),
        "StringLike" => (Like, false),
        "StringNotLike" => (Like, true),
        "NumericEquals" => (Num(Eq), false),
        "NumericNotEquals" => (Num(Eq), true),
        "NumericLessThan" => (Num(Lt), false),
        "NumericLessThanEquals" => (Num(Le), false),
        "NumericGreaterThan" => (Num(Gt), false),
        "NumericGreaterThanEquals" => (Num(Ge), false),
        "DateEquals" => (Date(Eq), false),
        "DateNotEquals" => (Date(Eq), true),
        "DateLessThan" => (Date(Lt), false),
        "DateLessThanEquals" => (Date(Le), false),
        "DateGreaterThan" => (Date(Gt), false),
        "DateGreaterThanEquals" => (Date(Ge), false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (Binary, false),
        "IpAddress" => (Ip, false),
        "NotIpAddress" => (Ip, true),
        "ArnEquals" | "ArnLike" => (Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Arn, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

/// Parse an operator such as `ForAnyValue:StringLikeIfExists`.
pub(crate) fn parse_operator(name: &str) -> Option<Op> {
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
        (SetQualifier::ForAllValues, r)
    } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (SetQualifier::ForAnyValue, r)
    } else {
        (SetQualifier::None, name)
    };
    let (if_exists, base) = match rest.strip_suffix("IfExists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let (family, negated) = base_operator(base)?;
    if family == Family::Null && (if_exists || set != SetQualifier::None) {
        return None;
    }
    Some(Op {
        family,
        negated,
        if_exists,
        set,
    })
}

/// One `operator: { key: values }` clause of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionClause {
    operator: String,
    pub(crate) op: Op,
    key: String,
    key_lower: String,
    values: Vec<CondValue>,
    has_vars: bool,
}

impl ConditionClause {
    /// Operator as written, e.g. `ForAnyValue:StringLike`.
    pub fn operator(&self) -> &str {
        &self.operator
    }
    /// Condition key as written, e.g. `aws:PrincipalTag/team`.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// Condition key, lowercase.
    pub fn key_lower(&self) -> &str {
        &self.key_lower
    }
    /// Policy values as written.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|v| v.raw.as_str())
    }
    /// The operator's set qualifier.
    pub fn set_qualifier(&self) -> SetQualifier {
        self.op.set
    }
    /// Values that are malformed for the operator type (bad number, date, CIDR, …).
    pub fn malformed_values(&self) -> Vec<&str> {
        self.values
            .iter()
            .filter(|v| v.typed == Typed::Bad)
            .map(|v| v.raw.as_str())
            .collect()
    }
    /// Policy values with variables substituted (`None` entries could not be resolved).
    pub fn resolved_values(&self, ctx: &RequestContext) -> Vec<Option<String>> {
        self.values
            .iter()
            .map(|v| v.text(ctx).map(Cow::into_owned))
            .collect()
    }
    /// Keys this clause needs that the context lacks (the key itself unless it is a `Null`
    /// or `...IfExists` check, and unresolved variables without defaults).
    pub fn missing_keys(&self, ctx: &RequestContext) -> Vec<String> {
        let mut out = Vec::new();
        if ctx.get_lower(&self.key_lower).is_none()
            && self.op.family != Family::Null
            && !self.op.if_exists
        {
            out.push(self.key.clone());
        }
        for v in &self.values {
            if let Some(p) = &v.parts {
                out.extend(variables::missing(p, ctx).map(|v| v.display.to_string()));
            }
        }
        out
    }

    /// Evaluate this clause against the request.
    pub fn evaluate(&self, ctx: &RequestContext) -> bool {
        let present = ctx.get_lower(&self.key_lower).filter(|v| !v.is_empty());
        if self.op.family == Family::Null {
            return self
                .values
                .iter()
                .any(|v| v.text(ctx).and_then(|t| values::boolean(&t)) == Some(present.is_none()));
        }
        if self.has_vars && !self.values.iter().all(|v| v.resolvable(ctx)) {
            return false;
        }
        let Some(req) = present else {
            if self.op.if_exists {
                return true;
            }
            return match self.op.set {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::None => self.op.negated,
            };
        };
        let fam = self.op.family;
        let m = |r: &String| {
            self.values
                .iter()
                .any(|v| v.matches(fam, r, ctx).unwrap_or(false))
        };
        match (self.op.set, self.op.negated) {
            (SetQualifier::None | SetQualifier::ForAnyValue, false) => req.iter().any(m),
            (SetQualifier::None, true) => !req.iter().any(m),
            (SetQualifier::ForAnyValue, true) => req.iter().any(|r| !m(r)),
            (SetQualifier::ForAllValues, false) => req.iter().all(m),
            (SetQualifier::ForAllValues, true) => req.iter().all(|r| !m(r)),
        }
    }

    /// Whether some value contains `*`/`?` wildcards (only meaningful for Like/Arn).
    pub(crate) fn any_wildcard_or_var(&self) -> bool {
        self.values
            .iter()
            .any(|v| v.parts.is_some() || v.raw.contains(['*', '?']))
    }
    /// Precomputed CIDRs of an IP clause.
    pub(crate) fn cidrs(&self) -> impl Iterator<Item = Option<&Cidr>> {
        self.values.iter().map(|v| match &v.typed {
            Typed::Ip(c) => Some(c),
            _ => None,
        })
    }
    /// Number of policy values.
    pub(crate) fn value_count(&self) -> usize {
        self.values.len()
    }
}

fn scalar(j: &J) -> Result<String, PolicyError> {
    match j {
        J::Str(s) | J::Num(s) => Ok(s.clone()),
        J::Bool(b) => Ok(b.to_string()),
        other => Err(PolicyError::syntax(format!(
            "condition value must be a string, number or boolean, not {}",
            other.kind()
        ))),
    }
}

/// Parse a `Condition` element. `vars`: policy variables enabled (Version 2012-10-17).
pub(crate) fn parse_block(j: &J, vars: bool) -> Result<Vec<ConditionClause>, PolicyError> {
    let J::Obj(ops) = j else {
        return Err(PolicyError::syntax("Condition must be an object"));
    };
    let mut out = Vec::new();
    for (name, body) in ops {
        let op = parse_operator(name)
            .ok_or_else(|| PolicyError::UnknownConditionOperator(name.clone()))?;
        let J::Obj(keys) = body else {
            return Err(PolicyError::syntax(format!(
                "Condition operator {name} must map to an object"
            )));
        };
        for (key, vals) in keys {
            let valid = key.split_once(':').is_some_and(|(ns, rest)| {
                !ns.is_empty()
                    && !rest.is_empty()
                    // Service prefixes (`aws`, `secretsmanager`) and OIDC provider keys
                    // (`token.actions.githubusercontent.com`, `oidc.eks…/id/X`).
                    && ns
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | '_'))
            });
            if !valid {
                return Err(PolicyError::InvalidConditionKey(key.clone()));
            }
            let raw: Vec<String> = match vals {
                J::Arr(a) => a.iter().map(scalar).collect::<Result<_, _>>()?,
                other => vec![scalar(other)?],
            };
            let values: Vec<CondValue> = raw
                .into_iter()
                .map(|r| compile_value(r, op.family, vars))
                .collect();
            let has_vars = values.iter().any(|v| {
                v.parts.is_some()
                    || matches!(&v.typed, Typed::Arn(p) if p.iter().any(Pattern::has_vars))
            });
            out.push(ConditionClause {
                operator: name.clone(),
                op,
                key: key.clone(),
                key_lower: key.to_lowercase(),
                values,
                has_vars,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
