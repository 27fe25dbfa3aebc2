//! AWS-style errors: `{"__type": "<Code>", "message": "..."}` plus `x-amzn-ErrorType`.

/// The error codes Coffer emits, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the secret, version or label does not exist.
    ResourceNotFoundException,
    /// 400: the resource already exists / version exists with another value.
    ResourceExistsException,
    /// 400: a parameter is invalid.
    InvalidParameterException,
    /// 400: not allowed in the current state.
    InvalidRequestException,
    /// 400: a quota was exceeded.
    LimitExceededException,
    /// 400: a value could not be encrypted.
    EncryptionFailure,
    /// 400: a value could not be decrypted.
    DecryptionFailure,
    /// 400: bad paging token.
    InvalidNextTokenException,
    /// 500: unexpected server failure.
    InternalServiceError,
    /// 400: the body is not valid JSON for the operation.
    SerializationException,
    /// 400: `X-Amz-Target` names no operation.
    UnknownOperationException,
    /// 400: the request is not signed.
    MissingAuthenticationTokenException,
    /// 400: the signature header is malformed.
    IncompleteSignatureException,
    /// 400: the signature does not verify or is out of its time window.
    InvalidSignatureException,
    /// 403: presigned signature mismatch.
    SignatureDoesNotMatch,
    /// 400: unknown access key.
    UnrecognizedClientException,
    /// 400: the caller may not do this.
    AccessDeniedException,
    /// 503: the server is sealed or shutting down.
    ServiceUnavailableException,
    /// 413: the request body is too large.
    RequestEntityTooLargeException,
    /// 400: operation exists but this server does not implement it yet.
    NotImplemented,
    /// 400: a resource policy is not valid JSON or not a valid policy.
    MalformedPolicyDocumentException,
    /// 400: BlockPublicPolicy refused a policy that grants broad access.
    PublicPolicyException,
    /// 400: temporary credentials past their expiry.
    ExpiredTokenException,
    /// 400 (CloudTrail): LookupAttributes are not valid.
    InvalidLookupAttributesException,
    /// 400 (CloudTrail): StartTime is after EndTime or out of range.
    InvalidTimeRangeException,
    /// 400 (CloudTrail): MaxResults out of 1–50.
    InvalidMaxResultsException,
    /// 400 (KMS): the key or alias does not exist.
    NotFoundException,
    /// 400 (KMS): the key is disabled.
    DisabledException,
    /// 400 (KMS): the key's state does not allow the operation.
    KMSInvalidStateException,
    /// 400 (KMS): the ciphertext or its encryption context is not valid.
    InvalidCiphertextException,
    /// 400 (KMS): the alias already exists.
    AlreadyExistsException,
    /// 400 (KMS): an input does not satisfy its constraints.
    ValidationException,
    /// 400 (KMS): the alias name is not valid.
    InvalidAliasNameException,
    /// 400 (KMS): an ARN is not valid.
    InvalidArnException,
    /// 400 (KMS): a tag is not valid.
    TagException,
    /// 400 (KMS): the operation is not supported for this key.
    UnsupportedOperationException,
    /// 400 (KMS): the ciphertext was not made under the specified key.
    IncorrectKeyException,
    /// 400 (KMS): the paging marker is not valid.
    InvalidMarkerException,
}

impl ErrorCode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::ResourceExistsException => "ResourceExistsException",
            Self::InvalidParameterException => "InvalidParameterException",
            Self::InvalidRequestException => "InvalidRequestException",
            Self::LimitExceededException => "LimitExceededException",
            Self::EncryptionFailure => "EncryptionFailure",
            Self::DecryptionFailure => "DecryptionFailure",
            Self::InvalidNextTokenException => "InvalidNextTokenException",
            Self::InternalServiceError => "InternalServiceError",
            Self::SerializationException => "SerializationException",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            Self::IncompleteSignatureException => "IncompleteSignatureException",
            Self::InvalidSignatureException => "InvalidSignatureException",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Self::UnrecognizedClientException => "UnrecognizedClientException",
            Self::AccessDeniedException => "AccessDeniedException",
            Self::ServiceUnavailableException => "ServiceUnavailableException",
            Self::RequestEntityTooLargeException => "RequestEntityTooLargeException",
            Self::NotImplemented => "NotImplemented",
            Self::MalformedPolicyDocumentException => "MalformedPolicyDocumentException",
            Self::PublicPolicyException => "PublicPolicyException",
            Self::ExpiredTokenException => "ExpiredTokenException",
            Self::InvalidLookupAttributesException => "InvalidLookupAttributesException",
            Self::InvalidTimeRangeException => "InvalidTimeRangeException",
            Self::InvalidMaxResultsException => "InvalidMaxResultsException",
            Self::NotFoundException => "NotFoundException",
            Self::DisabledException => "DisabledException",
            Self::KMSInvalidStateException => "KMSInvalidStateException",
            Self::InvalidCiphertextException => "InvalidCiphertextException",
            Self::AlreadyExistsException => "AlreadyExistsException",
            Self::ValidationException => "ValidationException",
            Self::InvalidAliasNameException => "InvalidAliasNameException",
            Self::InvalidArnException => "InvalidArnException",
            Self::TagException => "TagException",
            Self::UnsupportedOperationException => "UnsupportedOperationException",
            Self::IncorrectKeyException => "IncorrectKeyException",
            Self::InvalidMarkerException => "InvalidMarkerException",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    const ALL: &'static [ErrorCode] = &[
        Self::ResourceNotFoundException,
        Self::ResourceExistsException,
        Self::InvalidParameterException,
        Self::InvalidRequestException,
        Self::LimitExceededException,
        Self::EncryptionFailure,
        Self::DecryptionFailure,
        Self::InvalidNextTokenException,
        Self::InternalServiceError,
        Self::SerializationException,
        Self::UnknownOperationException,
        Self::MissingAuthenticationTokenException,
        Self::IncompleteSignatureException,
        Self::InvalidSignatureException,
        Self::SignatureDoesNotMatch,
        Self::UnrecognizedClientException,
        Self::AccessDeniedException,
        Self::ServiceUnavailableException,
        Self::RequestEntityTooLargeException,
        Self::NotImplemented,
        Self::MalformedPolicyDocumentException,
        Self::PublicPolicyException,
        Self::ExpiredTokenException,
        Self::InvalidLookupAttributesException,
        Self::InvalidTimeRangeException,
        Self::InvalidMaxResultsException,
        Self::NotFoundException,
        Self::DisabledException,
        Self::KMSInvalidStateException,
        Self::InvalidCiphertextException,
        Self::AlreadyExistsException,
        Self::ValidationException,
        Self::InvalidAliasNameException,
        Self::InvalidArnException,
        Self::TagException,
        Self::UnsupportedOperationException,
        Self::IncorrectKeyException,
        Self::InvalidMarkerException,
    ];

    /// The HTTP status AWS uses for this code.
    pub fn status(self) -> u16 {
        match self {
            Self::InternalServiceError => 500,
            Self::ServiceUnavailableException => 503,
            Self::SignatureDoesNotMatch => 403,
            Self::RequestEntityTooLargeException => 413,
            _ => 400,
        }
    }
}

/// An error as sent to the client. The message must never contain secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    /// The AWS error code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    /// `ResourceNotFoundException` with AWS's standard message.
    pub fn secret_not_found() -> Self {
        Self::new(
            ErrorCode::ResourceNotFoundException,
            "Secrets Manager can't find the specified secret.",
        )
    }
    /// `InvalidParameterException`.
    pub fn param(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterException, message)
    }
    /// `InvalidRequestException`.
    pub fn request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequestException, message)
    }
    /// `InternalServiceError` with a generic message (details go to the server log only).
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::InternalServiceError,
            "An error occurred on the server side.",
        )
    }
    /// The JSON body: `{"__type": code, "message": message}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "__type": self.code.as_str(),
            "message": self.message,
        }))
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let e = ApiError::secret_not_found();
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["__type"], "ResourceNotFoundException");
        assert_eq!(
            v["message"],
            "Secrets Manager can't find the specified secret."
        );
        assert_eq!(e.code.status(), 400);
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
        }
    }
}
