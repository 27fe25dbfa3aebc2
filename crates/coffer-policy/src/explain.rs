//! Per-statement explanation of a decision (`coffer iam explain`, SimulatePrincipalPolicy).

use crate::authorize::{AuthzRequest, Outcome, PolicyKind, PolicyRef, StatementRef, authorize};
use crate::context::RequestContext;
use crate::evaluate::{self, Miss};
use crate::parse::Statement;
use std::fmt;

/// Result of checking one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementResult {
    /// The statement applies to the request.
    Matched,
    /// The action is not covered.
    ActionNotMatched,
    /// The resource is not covered.
    ResourceNotMatched,
    /// A variable in the resource element could not be resolved.
    ResourceVariableMissing,
    /// No `Resource` element (identity-type policy).
    NoResource,
    /// The principal does not match (or the resource-based statement names none).
    PrincipalNotMatched,
    /// A condition clause failed.
    ConditionFailed {
        /// Operator as written.
        operator: String,
        /// Key as written.
        key: String,
        /// Request values (`None`: key absent).
        request_values: Option<Vec<String>>,
        /// Policy values after variable substitution (`<unresolved>` when impossible).
        policy_values: Vec<String>,
    },
}

/// Trace of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTrace {
    /// Which statement.
    pub statement: StatementRef,
    /// What happened.
    pub result: StatementResult,
}

/// A full explanation of a request's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The decision, as [`authorize`] computes it.
    pub outcome: Outcome,
    /// Every statement of every policy, in order (identity, boundary, session, resource).
    pub statements: Vec<StatementTrace>,
    /// Statements that applied (SimulatePrincipalPolicy `MatchedStatements`).
    pub matched: Vec<StatementRef>,
    /// Condition keys referenced by statements whose action matched but absent from the
    /// context (SimulatePrincipalPolicy `MissingContextValues`).
    pub missing_context_values: Vec<String>,
    /// The AWS-style message of the decision.
    pub message: String,
}

fn result_of(st: &Statement, ctx: &RequestContext, rp: bool) -> StatementResult {
    match evaluate::check(st, ctx, rp) {
        Ok(_) => StatementResult::Matched,
        Err(Miss::Action) => StatementResult::ActionNotMatched,
        Err(Miss::Resource) => StatementResult::ResourceNotMatched,
        Err(Miss::ResourceVariable) => StatementResult::ResourceVariableMissing,
        Err(Miss::NoResource) => StatementResult::NoResource,
        Err(Miss::Principal) => StatementResult::PrincipalNotMatched,
        Err(Miss::Condition(i)) => {
            let c = &st.conditions()[i];
            StatementResult::ConditionFailed {
                operator: c.operator().to_owned(),
                key: c.key().to_owned(),
                request_values: ctx.get_lower(c.key_lower()).map(<[String]>::to_vec),
                policy_values: c
                    .resolved_values(ctx)
                    .into_iter()
                    .map(|v| v.unwrap_or_else(|| "<unresolved>".into()))
                    .collect(),
            }
        }
    }
}

/// Explain how [`authorize`] decides `req`.
pub fn explain(req: &AuthzRequest) -> Explanation {
    let ctx = req.ctx;
    let outcome = authorize(req);
    let res: Vec<PolicyRef> = req.resource_policy.into_iter().collect();
    let sets: [(PolicyKind, &[PolicyRef]); 4] = [
        (PolicyKind::Identity, req.identity),
        (PolicyKind::Boundary, req.boundary.unwrap_or(&[])),
        (PolicyKind::Session, req.session.unwrap_or(&[])),
        (PolicyKind::Resource, &res),
    ];
    let mut statements = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for (kind, set) in sets {
        for p in set {
            for (index, st) in p.policy.statements().iter().enumerate() {
                let result = result_of(st, ctx, kind == PolicyKind::Resource);
                if evaluate::action_matches(st, ctx) {
                    for c in st.conditions() {
                        for k in c.missing_keys(ctx) {
                            if !missing.iter().any(|m| m.eq_ignore_ascii_case(&k)) {
                                missing.push(k);
                            }
                        }
                    }
                }
                let statement = StatementRef {
                    kind,
                    policy_id: p.id.to_owned(),
                    index,
                    sid: st.sid().map(str::to_owned),
                    effect: st.effect(),
                };
                statements.push(StatementTrace { statement, result });
            }
        }
    }
    let matched = statements
        .iter()
        .filter(|t| t.result == StatementResult::Matched)
        .map(|t| t.statement.clone())
        .collect();
    let message = outcome.message(ctx);
    Explanation {
        outcome,
        statements,
        matched,
        missing_context_values: missing,
        message,
    }
}

fn kind_name(k: PolicyKind) -> &'static str {
    match k {
        PolicyKind::Identity => "identity",
        PolicyKind::Boundary => "boundary",
        PolicyKind::Session => "session",
        PolicyKind::Resource => "resource",
    }
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} #{}",
            kind_name(self.kind),
            self.policy_id,
            self.index
        )?;
        if let Some(s) = &self.sid {
            write!(f, " ({s})")?;
        }
        write!(f, " {}", self.effect)
    }
}

impl fmt::Display for StatementResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatementResult::Matched => f.write_str("MATCHED"),
            StatementResult::ActionNotMatched => f.write_str("action not matched"),
            StatementResult::ResourceNotMatched => f.write_str("resource not matched"),
            StatementResult::ResourceVariableMissing => {
                f.write_str("resource variable has no value")
            }
            StatementResult::NoResource => f.write_str("statement has no Resource"),
            StatementResult::PrincipalNotMatched => f.write_str("principal not matched"),
            StatementResult::ConditionFailed {
                operator,
                key,
                request_values,
                policy_values,
            } => {
                write!(f, "condition {operator} {key} failed: request ")?;
                match request_values {
                    Some(v) => write!(f, "{v:?}")?,
                    None => f.write_str("<absent>")?,
                }
                write!(f, " vs policy {policy_values:?}")
            }
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "decision: {:?}", self.outcome.decision)?;
        writeln!(f, "{}", self.message)?;
        for t in &self.statements {
            writeln!(f, "  {}: {}", t.statement, t.result)?;
        }
        if !self.outcome.deciding.is_empty() {
            writeln!(f, "deciding:")?;
            for d in &self.outcome.deciding {
                writeln!(f, "  {d}")?;
            }
        }
        if !self.missing_context_values.is_empty() {
            writeln!(
                f,
                "missing context values: {}",
                self.missing_context_values.join(", ")
            )?;
        }
        Ok(())
    }
}
