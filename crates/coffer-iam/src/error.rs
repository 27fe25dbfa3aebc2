//! `IamError`: the IAM and STS error codes Coffer returns, with their HTTP status.
//!
//! Codes and statuses come from `iam.service-2.json` / `sts.service-2.json`
//! (`"error": {"code", "httpStatusCode"}`); the common Query-protocol errors
//! (`AccessDenied`, `ValidationError`, `InvalidAction`, `MissingParameter`, …) are not in
//! the models and follow AWS's "common errors" page.

use crate::wire::{Service, error_xml};

/// An IAM or STS error; the payload is the human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// `NoSuchEntity` (404): the named user, role, group or policy does not exist.
    #[error("{0}")]
    NoSuchEntity(String),
    /// `EntityAlreadyExists` (409).
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// `LimitExceeded` (409): a quota (count or aggregate size) would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// `MalformedPolicyDocument` (400).
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `InvalidInput` (400).
    #[error("{0}")]
    InvalidInput(String),
    /// `ValidationError` (400): a parameter failed its modeled constraint.
    #[error("{0}")]
    ValidationError(String),
    /// `DeleteConflict` (409): the entity still has attachments or members.
    #[error("{0}")]
    DeleteConflict(String),
    /// `ConcurrentModification` (409).
    #[error("{0}")]
    ConcurrentModification(String),
    /// `UnmodifiableEntity` (400), e.g. changing an AWS-managed policy.
    #[error("{0}")]
    UnmodifiableEntity(String),
    /// `PolicyNotAttachable` (400).
    #[error("{0}")]
    PolicyNotAttachable(String),
    /// `AccessDenied` (403).
    #[error("{0}")]
    AccessDenied(String),
    /// STS `ExpiredTokenException` (400): an expired web identity or session token.
    #[error("{0}")]
    ExpiredToken(String),
    /// STS `InvalidIdentityToken` (400).
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// STS `IDPRejectedClaim` (403).
    #[error("{0}")]
    IdpRejectedClaim(String),
    /// STS `PackedPolicyTooLarge` (400).
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// STS `RegionDisabledException` (403).
    #[error("{0}")]
    RegionDisabled(String),
    /// `InvalidAction` (400): unknown `Action`.
    #[error("{0}")]
    InvalidAction(String),
    /// `MissingAction` (400): no `Action` parameter.
    #[error("{0}")]
    MissingAction(String),
    /// `MissingParameter` (400).
    #[error("{0}")]
    MissingParameter(String),
    /// `InvalidParameterValue` (400).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `MalformedQueryString` (404 in AWS's common errors list).
    #[error("{0}")]
    MalformedQueryString(String),
    /// `ServiceFailure` (500).
    #[error("{0}")]
    ServiceFailure(String),
    /// 403: the access key is unknown or inactive.
    #[error("{0}")]
    InvalidClientTokenId(String),
    /// 403: the signature does not verify.
    #[error("{0}")]
    SignatureDoesNotMatch(String),
    /// 403: the request is not signed.
    #[error("{0}")]
    MissingAuthenticationToken(String),
}

impl IamError {
    /// The wire error code (`<Code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchEntity(_) => "NoSuchEntity",
            Self::EntityAlreadyExists(_) => "EntityAlreadyExists",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            Self::InvalidInput(_) => "InvalidInput",
            Self::ValidationError(_) => "ValidationError",
            Self::DeleteConflict(_) => "DeleteConflict",
            Self::ConcurrentModification(_) => "ConcurrentModification",
            Self::UnmodifiableEntity(_) => "UnmodifiableEntity",
            Self::PolicyNotAttachable(_) => "PolicyNotAttachable",
            Self::AccessDenied(_) => "AccessDenied",
            Self::ExpiredToken(_) => "ExpiredTokenException",
            Self::InvalidIdentityToken(_) => "InvalidIdentityToken",
            Self::IdpRejectedClaim(_) => "IDPRejectedClaim",
            Self::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
            Self::RegionDisabled(_) => "RegionDisabledException",
            Self::InvalidAction(_) => "InvalidAction",
            Self::MissingAction(_) => "MissingAction",
            Self::MissingParameter(_) => "MissingParameter",
            Self::InvalidParameterValue(_) => "InvalidParameterValue",
            Self::MalformedQueryString(_) => "MalformedQueryString",
            Self::ServiceFailure(_) => "ServiceFailure",
            Self::InvalidClientTokenId(_) => "InvalidClientTokenId",
            Self::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            Self::MissingAuthenticationToken(_) => "MissingAuthenticationToken",
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::NoSuchEntity(_) | Self::MalformedQueryString(_) => 404,
            Self::EntityAlreadyExists(_)
            | Self::LimitExceeded(_)
            | Self::DeleteConflict(_)
            | Self::ConcurrentModification(_) => 409,
            Self::AccessDenied(_)
            | Self::IdpRejectedClaim(_)
            | Self::RegionDisabled(_)
            | Self::InvalidClientTokenId(_)
            | Self::SignatureDoesNotMatch(_)
            | Self::MissingAuthenticationToken(_) => 403,
            Self::ServiceFailure(_) => 500,
            _ => 400,
        }
    }

    /// `true` for client faults (`<Type>Sender</Type>`), `false` for `Receiver`.
    pub fn is_sender_fault(&self) -> bool {
        !matches!(self, Self::ServiceFailure(_))
    }

    /// The message (`<Message>`).
    pub fn message(&self) -> &str {
        match self {
            Self::NoSuchEntity(m)
            | Self::EntityAlreadyExists(m)
            | Self::LimitExceeded(m)
            | Self::MalformedPolicyDocument(m)
            | Self::InvalidClientTokenId(m)
            | Self::SignatureDoesNotMatch(m)
            | Self::MissingAuthenticationToken(m)
            | Self::InvalidInput(m)
            | Self::ValidationError(m)
            | Self::DeleteConflict(m)
            | Self::ConcurrentModification(m)
            | Self::UnmodifiableEntity(m)
            | Self::PolicyNotAttachable(m)
            | Self::AccessDenied(m)
            | Self::ExpiredToken(m)
            | Self::InvalidIdentityToken(m)
            | Self::IdpRejectedClaim(m)
            | Self::PackedPolicyTooLarge(m)
            | Self::RegionDisabled(m)
            | Self::InvalidAction(m)
            | Self::MissingAction(m)
            | Self::MissingParameter(m)
            | Self::InvalidParameterValue(m)
            | Self::MalformedQueryString(m)
            | Self::ServiceFailure(m) => m,
        }
    }

    /// The `<ErrorResponse>` body for this error.
    pub fn to_xml(&self, service: Service, request_id: &str) -> String {
        error_xml(
            service,
            self.code(),
            self.message(),
            self.is_sender_fault(),
            request_id,
        )
    }

    /// A `ValidationError` in AWS's wording for one failed constraint, e.g.
    /// `1 validation error detected: Value 'a b' at 'userName' failed to satisfy
    /// constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`.
    pub fn constraint(field: &str, value: Option<&str>, constraint: &str) -> Self {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_owned(),
        };
        Self::ValidationError(format!(
            "1 validation error detected: Value {value} at '{}' failed to satisfy \
             constraint: Member must {constraint}",
            lower_camel(field)
        ))
    }
}

/// `UserName` → `userName` (how AWS names members in validation messages).
pub fn lower_camel(field: &str) -> String {
    let mut chars = field.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
