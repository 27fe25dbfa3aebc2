//! Mapping lower-layer errors to AWS errors. Details of internal failures go to the log,
//! never to the client.

use coffer_core::CoreError;
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::StoreError;

pub(crate) fn core(e: CoreError) -> ApiError {
    match e {
        CoreError::InvalidParameter(m) => ApiError::new(ErrorCode::InvalidParameterException, m),
        CoreError::InvalidRequest(m) => ApiError::new(ErrorCode::InvalidRequestException, m),
        CoreError::LimitExceeded(m) => ApiError::new(ErrorCode::LimitExceededException, m),
        CoreError::NotFound(m) => ApiError::new(ErrorCode::ResourceNotFoundException, m),
        CoreError::Exists(m) => ApiError::new(ErrorCode::ResourceExistsException, m),
        other => ApiError::param(other.to_string()),
    }
}

pub(crate) fn store(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store failure");
    ApiError::internal()
}

pub(crate) fn decrypt(e: coffer_crypto::CryptoError) -> ApiError {
    tracing::error!(error = %e, "decryption failure");
    ApiError::new(
        ErrorCode::DecryptionFailure,
        "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
    )
}

pub(crate) fn encrypt(e: coffer_crypto::CryptoError) -> ApiError {
    tracing::error!(error = %e, "encryption failure");
    ApiError::new(
        ErrorCode::EncryptionFailure,
        "Secrets Manager can't encrypt the protected secret text using the provided KMS key.",
    )
}
