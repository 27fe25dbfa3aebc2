//! Envelope encryption of secret values.

use zeroize::Zeroizing;

use crate::{CryptoError, SymmetricKey, aad::aad};

const VALUE_LABEL: &str = "coffer/value/v1";
const DEK_LABEL: &str = "coffer/dek/v1";

/// Which secret/version a value belongs to; bound into both AADs so a stored
/// ciphertext cannot be moved to another secret, version, kind or key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueContext<'a> {
    /// Owning account id.
    pub account_id: &'a str,
    /// Full ARN of the secret.
    pub secret_arn: &'a str,
    /// Version id of the value.
    pub version_id: &'a str,
    /// Value kind: `"string"` or `"binary"`.
    pub kind: &'a str,
    /// ARN of the KMS key whose material is the KEK.
    pub kms_key_arn: &'a str,
    /// Generation (rotation counter) of that KMS key's material.
    pub key_generation: u32,
}

impl ValueContext<'_> {
    fn value_aad(&self) -> Vec<u8> {
        aad(
            VALUE_LABEL,
            &[
                self.account_id.as_bytes(),
                self.secret_arn.as_bytes(),
                self.version_id.as_bytes(),
                self.kind.as_bytes(),
            ],
        )
    }

    fn dek_aad(&self) -> Vec<u8> {
        let generation = self.key_generation.to_string();
        aad(
            DEK_LABEL,
            &[
                self.kms_key_arn.as_bytes(),
                generation.as_bytes(),
                self.account_id.as_bytes(),
                self.secret_arn.as_bytes(),
                self.version_id.as_bytes(),
            ],
        )
    }
}

/// An encrypted value: the data key sealed under the KEK, and the value sealed
/// under the data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The per-value data key, sealed under the KEK.
    pub wrapped_dek: Vec<u8>,
    /// The value, sealed under the data key.
    pub ciphertext: Vec<u8>,
}

/// Encrypts `plaintext` with a fresh data key, and seals that data key with `kek`.
///
/// Value AAD = `aad("coffer/value/v1", [account, arn, version, kind])`;
/// DEK AAD = `aad("coffer/dek/v1", [kms_key_arn, generation (decimal), account, arn, version])`.
pub fn seal_value(
    kek: &SymmetricKey,
    ctx: &ValueContext,
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    let dek = SymmetricKey::generate();
    let ciphertext = dek.seal(&ctx.value_aad(), plaintext)?;
    let wrapped_dek = kek.seal(&ctx.dek_aad(), dek.expose_bytes())?;
    Ok(Envelope {
        wrapped_dek,
        ciphertext,
    })
}

/// Reverses [`seal_value`]. Any mismatch of key, context field, or pairing of
/// `wrapped_dek` with `ciphertext` gives [`CryptoError::Decrypt`].
pub fn open_value(
    kek: &SymmetricKey,
    ctx: &ValueContext,
    wrapped_dek: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let dek_bytes = kek.open(&ctx.dek_aad(), wrapped_dek)?;
    let dek = SymmetricKey::from_bytes(&dek_bytes).map_err(|_| CryptoError::Decrypt)?;
    dek.open(&ctx.value_aad(), ciphertext)
}
