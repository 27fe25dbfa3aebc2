//! EventBridge-style events and rules for Coffer. Pure: no I/O, no async, no global state.
//!
//! - [`pattern`]: the Amazon EventBridge event-pattern language ([`Pattern`]).
//! - [`Event`]: events in EventBridge's envelope, with sources `coffer.secretsmanager`,
//!   `coffer.kms` and `coffer.iam`.
//! - [`events_from_record`]: audit records (CloudTrail format) → events.
//! - [`RuleSet`]: rules (pattern + targets) loaded from JSON, matched against events.
//! - [`sign`]/[`verify`]: the `X-Coffer-Signature` webhook signature.
//!
//! ```
//! use coffer_events::Pattern;
//! use serde_json::json;
//! let p = Pattern::parse(r#"{"source":["coffer.secretsmanager"],
//!     "detail":{"eventName":[{"prefix":"Delete"}]}}"#).unwrap();
//! assert!(p.matches(&json!({"source":"coffer.secretsmanager",
//!     "detail":{"eventName":"DeleteSecret"}})));
//! ```

mod event;
mod mapping;
pub mod pattern;
mod rules;
mod sign;

pub use event::{Event, SOURCE_IAM, SOURCE_KMS, SOURCE_SECRETS_MANAGER};
pub use mapping::{MappingConfig, detail_type, events_from_record};
pub use pattern::{Pattern, PatternError};
pub use rules::{
    DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_LIMIT, MAX_RULES, MAX_TARGETS_PER_RULE, Rule, RuleError,
    RuleSet, Target, WebhookSecret,
};
pub use sign::{SIGNATURE_HEADER, SignError, sign, verify};
