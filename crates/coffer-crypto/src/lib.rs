//! Coffer key hierarchy: root key, KMS key material, envelope encryption of secret values, Shamir shares.
//!
//! Everything here fails closed: any authentication failure is
//! [`CryptoError::Decrypt`], key types zeroize on drop and redact their `Debug`,
//! and no error message carries key material or plaintext.

mod aad;
mod envelope;
mod error;
mod key;
mod random;
pub mod shamir;

pub use aad::aad;
pub use envelope::{Envelope, ValueContext, open_value, seal_value};
pub use error::CryptoError;
pub use key::{
    KEY_LEN, SEALED_OVERHEAD, SEALED_VERSION, SymmetricKey, root_check_blob, verify_root_check,
};
pub use random::{constant_time_eq, random_bytes, random_string, sha256_hex};
pub use zeroize::Zeroizing;
