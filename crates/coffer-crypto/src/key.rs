//! 256-bit AES-GCM keys and the sealed-blob format.

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::{CryptoError, aad::aad, random};

/// Length of a [`SymmetricKey`] in bytes.
pub const KEY_LEN: usize = 32;
/// Format version byte that starts every sealed blob.
pub const SEALED_VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// Smallest possible sealed blob: version, nonce and tag around an empty plaintext.
pub const SEALED_OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// A 256-bit AES-GCM key (root key, KMS key material or data key).
///
/// The bytes live on the heap (so moves do not leave copies behind) and are
/// zeroized on drop. `Debug` prints `SymmetricKey(<redacted>)`; equality is
/// constant-time.
#[derive(Clone)]
pub struct SymmetricKey {
    bytes: Box<[u8; KEY_LEN]>,
}

impl SymmetricKey {
    /// Generates a fresh random key from the OS CSPRNG (ring `SystemRandom`).
    ///
    /// # Panics
    /// Panics if the operating system's random source fails (fail closed).
    pub fn generate() -> SymmetricKey {
        let mut bytes = Box::new([0u8; KEY_LEN]);
        random::fill(&mut bytes[..]);
        SymmetricKey { bytes }
    }

    /// Builds a key from exactly 32 bytes; any other length is
    /// [`CryptoError::InvalidKeyLength`]. The caller remains responsible for
    /// zeroizing `b`.
    pub fn from_bytes(b: &[u8]) -> Result<SymmetricKey, CryptoError> {
        if b.len() != KEY_LEN {
            return Err(CryptoError::InvalidKeyLength);
        }
        let mut bytes = Box::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(b);
        Ok(SymmetricKey { bytes })
    }

    /// The raw key bytes. Only for wrapping under another key or Shamir splitting.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    fn aead_key(&self) -> Result<LessSafeKey, CryptoError> {
        UnboundKey::new(&AES_256_GCM, &self.bytes[..])
            .map(LessSafeKey::new)
            .map_err(|_| CryptoError::InvalidKeyLength)
    }

    /// AES-256-GCM with a fresh random 96-bit nonce.
    ///
    /// Output = version byte (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16). The
    /// version byte is authenticated together with `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.aead_key()?;
        let mut nonce = [0u8; NONCE_LEN];
        random::fill(&mut nonce);
        let mut out = Vec::with_capacity(SEALED_OVERHEAD + plaintext.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let full_aad = versioned_aad(SEALED_VERSION, aad);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&full_aad[..]),
                &mut out[HEADER_LEN..],
            )
            .map_err(|_| {
                out.zeroize();
                CryptoError::Encrypt
            })?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a blob made by [`SymmetricKey::seal`] with the same `aad`.
    ///
    /// Any wrong key, wrong AAD, unknown version, truncation or tampering gives
    /// [`CryptoError::Decrypt`]. The plaintext is returned in a zeroizing buffer.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < SEALED_OVERHEAD || sealed[0] != SEALED_VERSION {
            return Err(CryptoError::Decrypt);
        }
        let key = self.aead_key()?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..HEADER_LEN]);
        let full_aad = versioned_aad(SEALED_VERSION, aad);
        let mut buf = Zeroizing::new(sealed[HEADER_LEN..].to_vec());
        let plain_len = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&full_aad[..]),
                &mut buf[..],
            )
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

/// The AAD actually given to AES-GCM: the format version byte, then the caller's AAD.
fn versioned_aad(version: u8, aad: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + aad.len());
    v.push(version);
    v.extend_from_slice(aad);
    v
}

impl Drop for SymmetricKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for SymmetricKey {}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

impl PartialEq for SymmetricKey {
    /// Constant-time comparison of the key bytes.
    fn eq(&self, other: &Self) -> bool {
        self.bytes[..].ct_eq(&other.bytes[..]).into()
    }
}

impl Eq for SymmetricKey {}

const ROOT_CHECK_LABEL: &str = "coffer/root-check/v1";
const ROOT_CHECK_PLAINTEXT: &[u8] = b"coffer root key check";

/// A "key check" blob telling whether an unsealed root key is the right one:
/// `root.seal(aad("coffer/root-check/v1", []), b"coffer root key check")`.
pub fn root_check_blob(root: &SymmetricKey) -> Result<Vec<u8>, CryptoError> {
    root.seal(&aad(ROOT_CHECK_LABEL, &[]), ROOT_CHECK_PLAINTEXT)
}

/// True only if `blob` (from [`root_check_blob`]) opens under `root` and holds the
/// expected check text.
pub fn verify_root_check(root: &SymmetricKey, blob: &[u8]) -> bool {
    match root.open(&aad(ROOT_CHECK_LABEL, &[]), blob) {
        Ok(p) => random::constant_time_eq(&p, ROOT_CHECK_PLAINTEXT),
        Err(_) => false,
    }
}
