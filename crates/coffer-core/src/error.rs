//! Errors of pure domain logic. Each maps to one AWS error code in the protocol layer.

/// A domain rule was broken. Messages never contain secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A parameter is malformed or out of range (`InvalidParameterException`).
    #[error("{0}")]
    InvalidParameter(String),
    /// The request is valid but not allowed in the resource's current state (`InvalidRequestException`).
    #[error("{0}")]
    InvalidRequest(String),
    /// A quota was exceeded (`LimitExceededException`).
    #[error("{0}")]
    LimitExceeded(String),
    /// The named thing does not exist (`ResourceNotFoundException`).
    #[error("{0}")]
    NotFound(String),
    /// The thing already exists (`ResourceExistsException`).
    #[error("{0}")]
    Exists(String),
}

impl CoreError {
    /// Shorthand for [`CoreError::InvalidParameter`].
    pub fn param(msg: impl Into<String>) -> Self {
        Self::InvalidParameter(msg.into())
    }
}
