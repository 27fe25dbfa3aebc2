//! Signing-key derivation, HMAC, and the constant-time signature comparison.

use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The derived SigV4 signing key (`kSigning`); zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SigningKey([u8; 32]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

fn hmac32(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(tag.as_ref());
    out
}

/// Derives `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn derive_signing_key(
    secret_access_key: &str,
    date: &str,
    region: &str,
    service: &str,
) -> SigningKey {
    let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret_access_key.len()));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac32(&k_secret, date.as_bytes());
    let k_region = hmac32(&*k_date, region.as_bytes());
    let k_service = hmac32(&*k_region, service.as_bytes());
    let k_signing = hmac32(&*k_service, b"aws4_request");
    SigningKey(*k_signing)
}

impl SigningKey {
    /// HMAC-SHA256 of `data` under this key: the raw signature.
    pub(crate) fn sign(&self, data: &[u8]) -> Signature {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.0), data);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Signature(out)
    }
}

/// A raw 32-byte signature. Deliberately no `PartialEq`: compare with [`Signature::ct_eq`].
#[derive(Clone, Copy)]
pub(crate) struct Signature(pub(crate) [u8; 32]);

impl Signature {
    /// Parses 64 lowercase hex digits.
    pub(crate) fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }

    /// Lowercase hex.
    pub(crate) fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// Constant-time equality.
    pub(crate) fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_documented_example_key() {
        // The example from the AWS SigV4 documentation ("derive a signing key").
        let k = derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(k.0),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(format!("{k:?}"), "SigningKey(<redacted>)");
    }

    #[test]
    fn signature_hex() {
        let h = "00ff".repeat(16);
        let s = Signature::from_hex(&h).unwrap();
        assert_eq!(s.to_hex(), h);
        assert!(s.ct_eq(&Signature::from_hex(&h).unwrap()));
        assert!(Signature::from_hex(&h.to_uppercase()).is_none());
        assert!(Signature::from_hex(&h[1..]).is_none());
        assert!(Signature::from_hex(&"zz".repeat(32)).is_none());
    }
}
