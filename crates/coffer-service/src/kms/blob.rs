//! The ciphertext blob of KMS `Encrypt`/`GenerateDataKey`: Coffer's own versioned format.
//!
//! ```text
//! "CKMS" ‖ version (1 B, = 1) ‖ ARN length (2 B BE) ‖ key ARN ‖ generation (4 B BE) ‖ sealed
//! ```
//! `sealed` is the key material's AES-256-GCM seal (`version ‖ nonce ‖ ciphertext ‖ tag`)
//! of the plaintext, with an AAD binding the whole header and the encryption context
//! (sorted by key, length-prefixed). Changing any byte of the blob or the context makes
//! decryption fail.

use coffer_crypto::{SymmetricKey, aad};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"CKMS";
const VERSION: u8 = 1;
const AAD_LABEL: &str = "coffer/kms-ciphertext/v1";

/// Why a blob cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// Not a Coffer KMS ciphertext (bad magic, version or length).
    #[error("malformed ciphertext blob")]
    Malformed,
    /// Authentication failed: tampered blob, wrong key or wrong encryption context.
    #[error("ciphertext does not authenticate")]
    Forged,
    /// Sealing failed.
    #[error("encryption failed")]
    Seal,
}

/// The parsed header of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHeader<'a> {
    /// ARN of the key that sealed it.
    pub key_arn: &'a str,
    /// Key generation used.
    pub generation: u32,
    header_len: usize,
}

fn header(key_arn: &str, generation: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(11 + key_arn.len());
    h.extend_from_slice(MAGIC);
    h.push(VERSION);
    h.extend_from_slice(&(key_arn.len() as u16).to_be_bytes());
    h.extend_from_slice(key_arn.as_bytes());
    h.extend_from_slice(&generation.to_be_bytes());
    h
}

fn blob_aad(header: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let count = (context.len() as u32).to_be_bytes();
    let mut fields: Vec<&[u8]> = vec![header, &count];
    for (k, v) in context {
        fields.push(k.as_bytes());
        fields.push(v.as_bytes());
    }
    aad(AAD_LABEL, &fields)
}

/// Seals `plaintext` under `material` (generation `generation` of `key_arn`).
pub fn seal(
    material: &SymmetricKey,
    key_arn: &str,
    generation: u32,
    context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<Vec<u8>, BlobError> {
    if key_arn.len() > usize::from(u16::MAX) {
        return Err(BlobError::Seal);
    }
    let mut out = header(key_arn, generation);
    let sealed = material
        .seal(&blob_aad(&out, context), plaintext)
        .map_err(|_| BlobError::Seal)?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Reads a blob's header (which key and generation sealed it) without opening it.
pub fn parse(blob: &[u8]) -> Result<BlobHeader<'_>, BlobError> {
    if blob.len() < 11 || &blob[..4] != MAGIC || blob[4] != VERSION {
        return Err(BlobError::Malformed);
    }
    let n = usize::from(u16::from_be_bytes([blob[5], blob[6]]));
    let end = 7 + n;
    if blob.len() < end + 4 {
        return Err(BlobError::Malformed);
    }
    let key_arn = std::str::from_utf8(&blob[7..end]).map_err(|_| BlobError::Malformed)?;
    let generation = u32::from_be_bytes([blob[end], blob[end + 1], blob[end + 2], blob[end + 3]]);
    Ok(BlobHeader {
        key_arn,
        generation,
        header_len: end + 4,
    })
}

/// Opens a blob whose header is `h` with the key material of its generation.
pub fn open(
    material: &SymmetricKey,
    blob: &[u8],
    h: &BlobHeader<'_>,
    context: &BTreeMap<String, String>,
) -> Result<Zeroizing<Vec<u8>>, BlobError> {
    let (head, sealed) = blob.split_at(h.header_len);
    material
        .open(&blob_aad(head, context), sealed)
        .map_err(|_| BlobError::Forged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn round_trip_and_header() {
        let k = SymmetricKey::generate();
        let c = ctx(&[("purpose", "test"), ("a", "b")]);
        let blob = seal(&k, ARN, 3, &c, b"hello").unwrap();
        let h = parse(&blob).unwrap();
        assert_eq!((h.key_arn, h.generation), (ARN, 3));
        assert_eq!(&open(&k, &blob, &h, &c).unwrap()[..], b"hello");
    }

    #[test]
    fn any_tampered_byte_is_detected() {
        let k = SymmetricKey::generate();
        let c = ctx(&[("purpose", "test")]);
        let blob = seal(&k, ARN, 1, &c, b"secret data").unwrap();
        for i in 0..blob.len() {
            for bit in [0x01u8, 0x80] {
                let mut t = blob.clone();
                t[i] ^= bit;
                let ok = parse(&t).and_then(|h| open(&k, &t, &h, &c));
                assert!(ok.is_err(), "byte {i} bit {bit:#x} not detected");
            }
        }
        // Truncation and extension.
        for n in 0..blob.len() {
            assert!(
                parse(&blob[..n])
                    .and_then(|h| open(&k, &blob[..n], &h, &c))
                    .is_err()
            );
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert!(open(&k, &longer, &parse(&longer).unwrap(), &c).is_err());
    }

    #[test]
    fn context_is_bound() {
        let k = SymmetricKey::generate();
        let c = ctx(&[("purpose", "test")]);
        let blob = seal(&k, ARN, 1, &c, b"x").unwrap();
        let h = parse(&blob).unwrap();
        for other in [
            ctx(&[]),
            ctx(&[("purpose", "tesT")]),
            ctx(&[("Purpose", "test")]),
            ctx(&[("purpose", "test"), ("extra", "1")]),
            ctx(&[("purposet", "est")]),
        ] {
            assert_eq!(open(&k, &blob, &h, &other), Err(BlobError::Forged));
        }
        // Another key fails too.
        assert!(open(&SymmetricKey::generate(), &blob, &h, &c).is_err());
    }
}
