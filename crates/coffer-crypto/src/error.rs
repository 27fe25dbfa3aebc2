//! The crate's error type.

/// Errors from key handling, encryption and secret sharing.
///
/// No variant ever carries key material, plaintext or share bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Key material was not exactly 32 bytes.
    #[error("invalid key length: expected 32 bytes")]
    InvalidKeyLength,
    /// Authentication failed: wrong key, wrong context, or tampered/malformed data.
    #[error("decryption failed: wrong key, wrong context or tampered data")]
    Decrypt,
    /// Encryption failed (should not happen in practice).
    #[error("encryption failed")]
    Encrypt,
    /// A Shamir share was malformed, mistyped or inconsistent with the others.
    #[error("invalid share: {0}")]
    InvalidShare(String),
    /// Fewer distinct shares than the split's threshold were supplied.
    #[error("not enough shares: have {have}, need {need}")]
    NotEnoughShares {
        /// Distinct shares supplied.
        have: usize,
        /// Shares required (the threshold).
        need: usize,
    },
    /// Caller-supplied parameters were out of range.
    #[error("invalid parameters: {0}")]
    InvalidParameters(String),
}
