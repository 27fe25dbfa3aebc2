//! Shamir secret sharing of a 32-byte root key over GF(256).
//!
//! The field arithmetic, polynomial sampling and Lagrange interpolation are
//! vsss-rs's `Gf256` (constant-time multiply and invert); this module adds the
//! parameter rules, a typo-catching text encoding and zeroization of buffers.
//!
//! Text form: `"coffer-share-v1:"` + base64url (no padding) of
//! `threshold (1) ‖ index (1) ‖ share bytes (32) ‖ checksum (4)`, where the
//! checksum is the first 4 bytes of SHA-256 over the preceding bytes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::{Zeroize, Zeroizing};

use crate::key::KEY_LEN;
use crate::random::{SystemRng, constant_time_eq};
use crate::{CryptoError, SymmetricKey};

/// Prefix of every share's text form.
pub const SHARE_PREFIX: &str = "coffer-share-v1:";
const CHECKSUM_LEN: usize = 4;
const BODY_LEN: usize = 2 + KEY_LEN;
const ENCODED_LEN: usize = BODY_LEN + CHECKSUM_LEN;

/// One parsed Shamir share. The share bytes are zeroized on drop and `Debug`
/// shows only the index and threshold.
#[derive(Clone)]
pub struct Share {
    threshold: u8,
    index: u8,
    value: Box<[u8; KEY_LEN]>,
}

impl Share {
    /// The share's x-coordinate (1..=255), unique within a split.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// How many shares of this split are needed to rebuild the key.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// Renders the share in its checksummed text form.
    pub fn to_text(&self) -> String {
        let mut raw = Zeroizing::new(Vec::with_capacity(ENCODED_LEN));
        raw.push(self.threshold);
        raw.push(self.index);
        raw.extend_from_slice(&self.value[..]);
        let sum = checksum(&raw);
        raw.extend_from_slice(&sum);
        let mut out = String::with_capacity(SHARE_PREFIX.len() + 52);
        out.push_str(SHARE_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&raw[..], &mut out);
        out
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for Share {}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("index", &self.index)
            .field("threshold", &self.threshold)
            .field("value", &format_args!("<redacted>"))
            .finish()
    }
}

fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let d = ring::digest::digest(&ring::digest::SHA256, body);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&d.as_ref()[..CHECKSUM_LEN]);
    out
}

fn invalid(msg: &str) -> CryptoError {
    CryptoError::InvalidShare(msg.to_owned())
}

/// Splits `key` into `shares` text shares, any `threshold` of which rebuild it.
///
/// Requires `1 <= threshold <= shares`; threshold 1 is allowed only with a single
/// share (which then is the key itself). Shares get indexes `1..=shares`.
pub fn split(key: &SymmetricKey, threshold: u8, shares: u8) -> Result<Vec<String>, CryptoError> {
    if threshold == 0 || shares == 0 {
        return Err(CryptoError::InvalidParameters(
            "threshold and share count must be at least 1".into(),
        ));
    }
    if threshold > shares {
        return Err(CryptoError::InvalidParameters(
            "threshold must not exceed the share count".into(),
        ));
    }
    if threshold == 1 && shares != 1 {
        return Err(CryptoError::InvalidParameters(
            "threshold 1 is only allowed with a single share".into(),
        ));
    }
    if threshold == 1 {
        let mut value = Box::new([0u8; KEY_LEN]);
        value.copy_from_slice(key.expose_bytes());
        let share = Share {
            threshold: 1,
            index: 1,
            value,
        };
        return Ok(vec![share.to_text()]);
    }
    let raw = vsss_rs::Gf256::split_bytes(
        usize::from(threshold),
        usize::from(shares),
        &key.expose_bytes()[..],
        SystemRng,
    )
    .map_err(|_| CryptoError::InvalidParameters("secret sharing failed".into()));
    let mut raw = Zeroizing::new(raw?);
    let mut out = Vec::with_capacity(raw.len());
    for r in raw.iter() {
        // vsss-rs layout: [x-coordinate, y-bytes...].
        if r.len() != 1 + KEY_LEN || r[0] == 0 {
            return Err(CryptoError::InvalidParameters(
                "secret sharing produced a malformed share".into(),
            ));
        }
        let mut value = Box::new([0u8; KEY_LEN]);
        value.copy_from_slice(&r[1..]);
        out.push(
            Share {
                threshold,
                index: r[0],
                value,
            }
            .to_text(),
        );
    }
    raw.iter_mut().for_each(|r| r.zeroize());
    Ok(out)
}

/// Parses a share's text form, checking prefix, length, checksum and ranges.
/// Surrounding whitespace is ignored.
pub fn parse_share(s: &str) -> Result<Share, CryptoError> {
    let body = s
        .trim()
        .strip_prefix(SHARE_PREFIX)
        .ok_or_else(|| invalid("missing \"coffer-share-v1:\" prefix"))?;
    let raw = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| invalid("not valid base64url"))?,
    );
    if raw.len() != ENCODED_LEN {
        return Err(invalid("wrong length"));
    }
    let (data, sum) = raw.split_at(BODY_LEN);
    if !constant_time_eq(&checksum(data), sum) {
        return Err(invalid("checksum mismatch (typo?)"));
    }
    let (threshold, index) = (data[0], data[1]);
    if threshold == 0 || index == 0 {
        return Err(invalid("threshold and index must be at least 1"));
    }
    let mut value = Box::new([0u8; KEY_LEN]);
    value.copy_from_slice(&data[2..]);
    Ok(Share {
        threshold,
        index,
        value,
    })
}

/// Rebuilds the key from at least `threshold` distinct shares of one split.
///
/// All shares must agree on the threshold; a repeated index is rejected. Shares
/// from different splits cannot be detected here and yield a wrong key, so
/// callers must check the result (see [`crate::verify_root_check`]). An empty
/// slice is `NotEnoughShares { have: 0, need: 1 }` (the threshold is unknown).
pub fn combine(shares: &[Share]) -> Result<SymmetricKey, CryptoError> {
    let Some(first) = shares.first() else {
        return Err(CryptoError::NotEnoughShares { have: 0, need: 1 });
    };
    let need = first.threshold;
    if shares.iter().any(|s| s.threshold != need) {
        return Err(invalid("shares disagree on the threshold"));
    }
    for (i, a) in shares.iter().enumerate() {
        if shares[..i].iter().any(|b| b.index == a.index) {
            return Err(CryptoError::InvalidShare(format!(
                "duplicate share index {}",
                a.index
            )));
        }
    }
    if shares.len() < usize::from(need) {
        return Err(CryptoError::NotEnoughShares {
            have: shares.len(),
            need: usize::from(need),
        });
    }
    if need == 1 {
        return SymmetricKey::from_bytes(&first.value[..]);
    }
    let mut raw: Zeroizing<Vec<Vec<u8>>> = Zeroizing::new(
        shares
            .iter()
            .map(|s| {
                let mut v = Vec::with_capacity(1 + KEY_LEN);
                v.push(s.index);
                v.extend_from_slice(&s.value[..]);
                v
            })
            .collect(),
    );
    let secret = vsss_rs::Gf256::combine_bytes(&raw[..])
        .map_err(|_| invalid("shares could not be combined"));
    raw.iter_mut().for_each(|r| r.zeroize());
    let secret = Zeroizing::new(secret?);
    SymmetricKey::from_bytes(&secret).map_err(|_| invalid("combined secret has the wrong length"))
}
