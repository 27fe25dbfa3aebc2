//! Parsing and compiling policy documents.

use crate::condition::{self, ConditionClause};
use crate::error::PolicyError;
use crate::json::{self, J};
use crate::principal::{self, PrincipalElement};
use crate::variables;
use crate::wildcard::Pattern;
use std::collections::HashMap;

/// Maximum document size accepted by [`Policy::parse`], in bytes.
pub const MAX_POLICY_BYTES: usize = 10240;

/// `Version` of a policy document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17`, or no `Version` at all: `${...}` is literal text.
    V2008_10_17,
}

/// `Effect` of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// A compiled `Action`/`NotAction` or `Resource`/`NotResource` element.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternList {
    /// `true` for the `Not…` form.
    pub negated: bool,
    raw: Vec<String>,
    pub(crate) patterns: Vec<Pattern>,
}

impl PatternList {
    /// Entries as written.
    pub fn raw(&self) -> &[String] {
        &self.raw
    }
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    pub(crate) action: PatternList,
    pub(crate) resource: Option<PatternList>,
    pub(crate) principal: Option<PrincipalElement>,
    pub(crate) conditions: Vec<ConditionClause>,
}

impl Statement {
    /// `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }
    /// `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }
    /// `Action` or `NotAction` (see [`PatternList::negated`]).
    pub fn actions(&self) -> &PatternList {
        &self.action
    }
    /// `Resource` or `NotResource`, if present.
    pub fn resources(&self) -> Option<&PatternList> {
        self.resource.as_ref()
    }
    /// `Principal` or `NotPrincipal`, if present.
    pub fn principal(&self) -> Option<&PrincipalElement> {
        self.principal.as_ref()
    }
    /// Condition clauses (all must hold).
    pub fn conditions(&self) -> &[ConditionClause] {
        &self.conditions
    }
}

/// Statement indices by action: statements whose `Action` lists only exact names are
/// indexed by those names (lowercase); all others are `generic`. Both lists are sorted.
/// `memo` remembers, per action seen, which statements' `Action`/`NotAction` element
/// covers it (actions carry no variables, so the answer never depends on the request):
/// a compiled policy cached across requests then tests wildcards once per action.
#[derive(Debug, Default)]
pub(crate) struct ActionIndex {
    exact: HashMap<Box<str>, Vec<u32>>,
    generic: Vec<u32>,
    memo: std::sync::RwLock<HashMap<Box<str>, std::sync::Arc<[u32]>>>,
}

/// Most distinct actions remembered per policy (action names may come from callers, e.g.
/// SimulatePrincipalPolicy; beyond this, candidates are computed without memoizing).
const MAX_MEMO_ACTIONS: usize = 256;

impl Clone for ActionIndex {
    fn clone(&self) -> Self {
        ActionIndex {
            exact: self.exact.clone(),
            generic: self.generic.clone(),
            memo: Default::default(),
        }
    }
}

impl PartialEq for ActionIndex {
    fn eq(&self, other: &Self) -> bool {
        self.exact == other.exact && self.generic == other.generic
    }
}

impl ActionIndex {
    fn build(statements: &[Statement]) -> ActionIndex {
        let mut ix = ActionIndex::default();
        for (i, st) in statements.iter().enumerate() {
            let i = i as u32;
            let exact: Option<Vec<&str>> = if st.action.negated {
                None
            } else {
                st.action.patterns.iter().map(Pattern::exact).collect()
            };
            match exact {
                Some(names) => {
                    for n in names {
                        let v = ix.exact.entry(n.into()).or_default();
                        if v.last() != Some(&i) {
                            v.push(i);
                        }
                    }
                }
                None => ix.generic.push(i),
            }
        }
        ix
    }

    /// Indices, in order, of the statements whose action element covers `action_lower`.
    pub(crate) fn candidates(
        &self,
        statements: &[Statement],
        action_lower: &str,
    ) -> std::sync::Arc<[u32]> {
        let memo = self.memo.read().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = memo.get(action_lower) {
            return std::sync::Arc::clone(c);
        }
        let full = memo.len() >= MAX_MEMO_ACTIONS;
        drop(memo);
        let mut out = Vec::new();
        self.for_each(action_lower, |i| {
            let st = &statements[i];
            let any = st
                .action
                .patterns
                .iter()
                .any(|p| p.matches_plain(action_lower));
            if any != st.action.negated {
                out.push(i as u32);
            }
        });
        let out: std::sync::Arc<[u32]> = out.into();
        if !full {
            self.memo
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(action_lower.into(), std::sync::Arc::clone(&out));
        }
        out
    }

    /// Call `f` with the index of every statement that may match `action_lower`, in order.
    pub(crate) fn for_each(&self, action_lower: &str, mut f: impl FnMut(usize)) {
        let exact = self.exact.get(action_lower).map_or(&[][..], Vec::as_slice);
        let (mut a, mut b) = (exact.iter().peekable(), self.generic.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x < y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => return,
            };
            if let Some(&i) = next {
                f(i as usize);
            }
        }
    }
}

/// A parsed, compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    version: Option<Version>,
    id: Option<String>,
    statements: Vec<Statement>,
    pub(crate) index: ActionIndex,
}

fn strings(j: &J, what: &str) -> Result<Vec<String>, PolicyError> {
    let bad = || PolicyError::syntax(format!("{what} must be a string or an array of strings"));
    match j {
        J::Str(s) => Ok(vec![s.clone()]),
        J::Arr(a) if !a.is_empty() => a
            .iter()
            .map(|x| match x {
                J::Str(s) => Ok(s.clone()),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

fn valid_action(a: &str) -> bool {
    if a == "*" {
        return true;
    }
    match a.split_once(':') {
        Some((svc, name)) => {
            !svc.is_empty()
                && svc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !name.is_empty()
                && !name.contains(':')
        }
        None => false,
    }
}

fn get_one<'a>(
    map: &'a [(String, J)],
    a: &'static str,
    b: &'static str,
) -> Result<Option<(bool, &'a J)>, PolicyError> {
    let x = map.iter().find(|(k, _)| k == a).map(|(_, v)| v);
    let y = map.iter().find(|(k, _)| k == b).map(|(_, v)| v);
    match (x, y) {
        (Some(_), Some(_)) => Err(PolicyError::Conflict(a, b)),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

fn parse_statement(j: &J, vars: bool) -> Result<Statement, PolicyError> {
    let J::Obj(map) = j else {
        return Err(PolicyError::syntax(format!(
            "statement must be an object, not {}",
            j.kind()
        )));
    };
    if let Some((k, _)) = map
        .iter()
        .find(|(k, _)| !STATEMENT_FIELDS.contains(&k.as_str()))
    {
        return Err(PolicyError::syntax(format!(
            "unknown statement element {k:?}"
        )));
    }
    let field = |n: &str| map.iter().find(|(k, _)| k == n).map(|(_, v)| v);
    let sid = match field("Sid") {
        None => None,
        Some(J::Str(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError::syntax("Sid must be a string")),
    };
    let effect = match field("Effect") {
        None => return Err(PolicyError::MissingEffect),
        Some(J::Str(s)) if s == "Allow" => Effect::Allow,
        Some(J::Str(s)) if s == "Deny" => Effect::Deny,
        Some(J::Str(s)) => return Err(PolicyError::InvalidEffect(s.clone())),
        Some(_) => return Err(PolicyError::syntax("Effect must be a string")),
    };
    let Some((negated, aj)) = get_one(map, "Action", "NotAction")? else {
        return Err(PolicyError::MissingAction);
    };
    let raw = strings(aj, "Action")?;
    if let Some(bad) = raw.iter().find(|a| !valid_action(a)) {
        return Err(PolicyError::InvalidAction(bad.clone()));
    }
    let patterns = raw.iter().map(|a| Pattern::new(a, true)).collect();
    let action = PatternList {
        negated,
        raw,
        patterns,
    };

    let resource = match get_one(map, "Resource", "NotResource")? {
        None => None,
        Some((negated, rj)) => {
            let raw = strings(rj, "Resource")?;
            if let Some(bad) = raw.iter().find(|r| *r != "*" && !r.starts_with("arn:")) {
                return Err(PolicyError::InvalidResource(bad.clone()));
            }
            let patterns = raw
                .iter()
                .map(
                    |r| match vars.then(|| variables::parse_template(r)).flatten() {
                        Some(parts) => Pattern::from_parts(&parts, false),
                        None => Pattern::new(r, false),
                    },
                )
                .collect();
            Some(PatternList {
                negated,
                raw,
                patterns,
            })
        }
    };
    let principal = match get_one(map, "Principal", "NotPrincipal")? {
        None => None,
        Some((negated, pj)) => Some(principal::parse(pj, negated)?),
    };
    let conditions = match field("Condition") {
        None => Vec::new(),
        Some(c) => condition::parse_block(c, vars)?,
    };
    Ok(Statement {
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

impl Policy {
    /// Parse a policy document of at most [`MAX_POLICY_BYTES`].
    pub fn parse(json: &str) -> Result<Policy, PolicyError> {
        Policy::parse_with_limit(json, MAX_POLICY_BYTES)
    }

    /// Parse a policy document of at most `limit` bytes.
    pub fn parse_with_limit(json: &str, limit: usize) -> Result<Policy, PolicyError> {
        if json.len() > limit {
            return Err(PolicyError::TooLarge {
                size: json.len(),
                limit,
            });
        }
        let doc = json::parse(json).map_err(PolicyError::syntax)?;
        let J::Obj(top) = &doc else {
            return Err(PolicyError::syntax("policy must be a JSON object"));
        };
        if let Some((k, _)) = top
            .iter()
            .find(|(k, _)| !["Version", "Id", "Statement"].contains(&k.as_str()))
        {
            return Err(PolicyError::syntax(format!("unknown policy element {k:?}")));
        }
        let field = |n: &str| top.iter().find(|(k, _)| k == n).map(|(_, v)| v);
        let version = match field("Version") {
            None => None,
            Some(J::Str(v)) if v == "2012-10-17" => Some(Version::V2012_10_17),
            Some(J::Str(v)) if v == "2008-10-17" => Some(Version::V2008_10_17),
            Some(J::Str(v)) => return Err(PolicyError::InvalidVersion(v.clone())),
            Some(other) => return Err(PolicyError::InvalidVersion(other.kind().to_owned())),
        };
        let id = match field("Id") {
            None => None,
            Some(J::Str(s)) => Some(s.clone()),
            Some(_) => return Err(PolicyError::syntax("Id must be a string")),
        };
        let vars = version == Some(Version::V2012_10_17);
        let statements = match field("Statement") {
            None => return Err(PolicyError::MissingStatement),
            Some(J::Arr(a)) if a.is_empty() => return Err(PolicyError::MissingStatement),
            Some(J::Arr(a)) => a
                .iter()
                .map(|s| parse_statement(s, vars))
                .collect::<Result<Vec<_>, _>>()?,
            Some(s @ J::Obj(_)) => vec![parse_statement(s, vars)?],
            Some(_) => {
                return Err(PolicyError::syntax(
                    "Statement must be an object or an array",
                ));
            }
        };
        let mut sids: Vec<&str> = statements.iter().filter_map(Statement::sid).collect();
        sids.sort_unstable();
        if let Some(w) = sids.windows(2).find(|w| w[0] == w[1]) {
            return Err(PolicyError::DuplicateSid(w[0].to_owned()));
        }
        let index = ActionIndex::build(&statements);
        Ok(Policy {
            version,
            id,
            statements,
            index,
        })
    }

    /// The `Version` element (`None` when absent; treated like 2008-10-17).
    pub fn version(&self) -> Option<Version> {
        self.version
    }
    /// The `Id` element.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    /// Statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
    /// Whether policy variables are substituted (`Version` is 2012-10-17).
    pub fn variables_enabled(&self) -> bool {
        self.version == Some(Version::V2012_10_17)
    }
}

impl std::str::FromStr for Policy {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Policy, PolicyError> {
        Policy::parse(s)
    }
}
