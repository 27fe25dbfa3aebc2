//! The AWS IAM policy language for Coffer: parse and compile policy documents, evaluate
//! them against a request with the AWS evaluation logic, explain decisions, validate
//! resource policies and detect public ones. Pure: no I/O, no async, no global state.
//!
//! ```
//! use coffer_policy::*;
//! let policy = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
//!     "Action":"secretsmanager:Get*","Resource":"*"}}"#).unwrap();
//! let principal = Principal { arn: "arn:aws:iam::111122223333:user/alice".into(),
//!     account: "111122223333".into(), kind: PrincipalKind::User, role_arn: None };
//! let ctx = RequestContext::new("secretsmanager:GetSecretValue",
//!     "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf", principal);
//! let identity = [PolicyRef { id: "inline", policy: &policy }];
//! let out = authorize(&AuthzRequest { ctx: &ctx, identity: &identity, boundary: None,
//!     session: None, resource_policy: None, resource_account: "111122223333" });
//! assert_eq!(out.decision, Decision::Allow);
//! ```

mod authorize;
mod condition;
mod context;
mod error;
mod evaluate;
mod explain;
mod json;
mod parse;
mod principal;
mod validate;
mod variables;
mod wildcard;

pub use authorize::{
    AuthzRequest, Decision, Outcome, PolicyKind, PolicyRef, Reason, StatementRef, authorize,
    resource_policy_hit,
};
pub use condition::{ConditionClause, SetQualifier};
pub use context::{Principal, PrincipalKind, RequestContext};
pub use error::PolicyError;
pub use evaluate::Miss;
pub use explain::{Explanation, StatementResult, StatementTrace, explain};
pub use parse::{Effect, MAX_POLICY_BYTES, PatternList, Policy, Statement, Version};
pub use principal::{PrincipalElement, PrincipalHit, PrincipalType, PrincipalValue};
pub use validate::{
    Finding, FindingKind, SECRETSMANAGER_ACTIONS, is_public, validate_resource_policy,
};
