//! Typed parse errors whose `Display` is an AWS-like `MalformedPolicyDocument` message.

/// Why a policy document was rejected. `Display` gives the message AWS would put in a
/// `MalformedPolicyDocument(Exception)`; [`PolicyError::detail`] gives more context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is larger than the allowed size.
    #[error("Policy document length {size} exceeds the maximum allowed length of {limit} bytes.")]
    TooLarge {
        /// Size of the document in bytes.
        size: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// Invalid JSON, wrong element types, unknown or duplicate elements.
    #[error("Syntax errors in policy.")]
    Syntax {
        /// What exactly was wrong (not part of the AWS message).
        detail: String,
    },
    /// `Version` is present but is not a supported version string.
    #[error("The policy must contain a valid version string")]
    InvalidVersion(String),
    /// No `Statement` element, or an empty statement list.
    #[error("Policy document must contain at least one statement.")]
    MissingStatement,
    /// A statement has no `Effect`.
    #[error("Policy statement must contain an effect.")]
    MissingEffect,
    /// `Effect` is not exactly `Allow` or `Deny`.
    #[error("Invalid effect: {0}")]
    InvalidEffect(String),
    /// A statement has neither `Action` nor `NotAction`.
    #[error("Policy statement must contain actions.")]
    MissingAction,
    /// Two mutually exclusive elements are both present.
    #[error("Policy statement cannot contain both {0} and {1}.")]
    Conflict(&'static str, &'static str),
    /// An action is not `*` and not `vendor:Pattern`.
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    InvalidAction(String),
    /// A resource is not `*` and not an ARN.
    #[error("Resource {0} must be in ARN format or \"*\".")]
    InvalidResource(String),
    /// A principal value is not acceptable.
    #[error("Invalid principal in policy: {0}")]
    InvalidPrincipal(String),
    /// A condition operator is unknown.
    #[error("Invalid Condition type : {0}.")]
    UnknownConditionOperator(String),
    /// A condition key is malformed (not `vendor:key`).
    #[error(
        "Condition key {0} is invalid: it must be prefaced by a vendor, e.g., aws, secretsmanager."
    )]
    InvalidConditionKey(String),
    /// Two statements share a `Sid`.
    #[error("Statement IDs (SID) in a single policy must be unique.")]
    DuplicateSid(String),
}

impl PolicyError {
    /// More detail than the AWS message, for logs and `validate` findings.
    pub fn detail(&self) -> String {
        match self {
            PolicyError::Syntax { detail } => format!("Syntax errors in policy: {detail}"),
            PolicyError::InvalidVersion(v) => format!("invalid Version {v:?}"),
            PolicyError::InvalidAction(a) => format!("invalid action {a:?}"),
            PolicyError::DuplicateSid(s) => format!("duplicate Sid {s:?}"),
            other => other.to_string(),
        }
    }

    pub(crate) fn syntax(detail: impl Into<String>) -> Self {
        PolicyError::Syntax {
            detail: detail.into(),
        }
    }
}
