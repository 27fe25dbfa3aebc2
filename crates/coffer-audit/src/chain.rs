//! The hash chain and its signed digests.
//!
//! Record `n` stores `hash_n = SHA-256("coffer-audit-v1" ‖ hash_{n-1} ‖ json_n)` and the
//! `hash_{n-1}` it was linked to; the first record links to [`GENESIS`]. Changing a record's
//! JSON breaks its own hash; removing or moving a record breaks the link of the record after
//! it. A digest signs (sequence number, chain head hash, time) with Ed25519 at a fixed
//! interval, so a log rewritten with recomputed hashes, or cut short, no longer matches a
//! signature the rewriter cannot make.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The link of the first record.
pub const GENESIS: [u8; 32] = [0; 32];

const CHAIN_LABEL: &[u8] = b"coffer-audit-v1";
const DIGEST_LABEL: &[u8] = b"coffer-audit-digest-v1";

/// A record to append: its JSON and the fields lookups filter on (copied out of the JSON so
/// the store can index them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// `recipientAccountId` ("" when the caller could not be identified).
    pub account_id: String,
    /// `eventTime` in epoch milliseconds.
    pub time_ms: i64,
    /// `eventID`.
    pub event_id: String,
    /// `eventName`.
    pub event_name: String,
    /// LookupEvents' `Username`.
    pub username: String,
    /// `userIdentity.accessKeyId`.
    pub access_key_id: String,
    /// `readOnly`.
    pub read_only: bool,
    /// Resource names and ARNs LookupEvents' `ResourceName` matches.
    pub resources: Vec<String>,
    /// The record, serialized once.
    pub json: String,
}

/// A stored record: its place in the chain and its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// Hash of the record before it (as linked at append time).
    pub prev_hash: [u8; 32],
    /// This record's chain hash.
    pub hash: [u8; 32],
    /// The record.
    pub entry: AuditEntry,
}

/// The chain hash of a record with JSON `json` appended after a record with hash `prev`.
pub fn link(prev: &[u8; 32], json: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(CHAIN_LABEL);
    ctx.update(prev);
    ctx.update(json.as_bytes());
    let d = ctx.finish();
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// A signed statement "the log had `seq` records and its head hash was `head` at `time_ms`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// Number of the last record covered.
    pub seq: u64,
    /// Chain hash of that record (hex).
    pub head_hash: String,
    /// When the digest was made.
    pub time_ms: i64,
    /// Hex SHA-256 fingerprint of the signing public key.
    pub key_id: String,
    /// Ed25519 signature (hex) over [`Digest::message`].
    pub signature: String,
}

impl Digest {
    /// The signed bytes.
    pub fn message(seq: u64, head: &[u8; 32], time_ms: i64) -> Vec<u8> {
        let mut m = Vec::with_capacity(DIGEST_LABEL.len() + 48);
        m.extend_from_slice(DIGEST_LABEL);
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(head);
        m.extend_from_slice(&time_ms.to_be_bytes());
        m
    }

    /// Checks the signature with `public_key` (raw 32-byte Ed25519 key).
    pub fn signature_valid(&self, public_key: &[u8]) -> bool {
        let (Ok(head), Ok(sig)) = (hex::decode(&self.head_hash), hex::decode(&self.signature))
        else {
            return false;
        };
        let Ok(head) = <[u8; 32]>::try_from(head.as_slice()) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, public_key)
            .verify(&Digest::message(self.seq, &head, self.time_ms), &sig)
            .is_ok()
    }
}

/// Hex SHA-256 of a public key: how digests name the key that signed them.
pub fn key_fingerprint(public_key: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, public_key))
}

/// The Ed25519 key that signs digests. Built from a 32-byte seed the caller derives from
/// the root key; the seed copy is zeroized and `Debug` shows only the fingerprint.
pub struct DigestSigner {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for DigestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestSigner")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl DigestSigner {
    /// The signer for `seed`.
    pub fn from_seed(seed: Zeroizing<[u8; 32]>) -> DigestSigner {
        // Ed25519KeyPair::from_seed_unchecked only fails on a wrong length, impossible here.
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
            .unwrap_or_else(|_| unreachable!("a 32-byte seed is always accepted"));
        DigestSigner { pair }
    }

    /// The raw public key.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// Fingerprint of the public key.
    pub fn key_id(&self) -> String {
        key_fingerprint(self.public_key())
    }

    /// A digest of a chain whose record `seq` has hash `head`.
    pub fn sign(&self, seq: u64, head: &[u8; 32], time_ms: i64) -> Digest {
        let sig = self.pair.sign(&Digest::message(seq, head, time_ms));
        Digest {
            seq,
            head_hash: hex::encode(head),
            time_ms,
            key_id: self.key_id(),
            signature: hex::encode(sig.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(b: u8) -> DigestSigner {
        DigestSigner::from_seed(Zeroizing::new([b; 32]))
    }

    #[test]
    fn links_depend_on_previous_hash_and_content() {
        let a = link(&GENESIS, "{}");
        assert_ne!(a, link(&GENESIS, "{ }"));
        assert_ne!(link(&a, "{}"), a);
        assert_eq!(link(&GENESIS, "{}"), a);
    }

    #[test]
    fn digests_verify_only_with_their_key_and_content() {
        let s = signer(7);
        let head = link(&GENESIS, "x");
        let d = s.sign(3, &head, 1000);
        assert!(d.signature_valid(s.public_key()));
        assert!(!d.signature_valid(signer(8).public_key()));
        for tampered in [
            Digest {
                seq: 4,
                ..d.clone()
            },
            Digest {
                time_ms: 1001,
                ..d.clone()
            },
            Digest {
                head_hash: hex::encode(GENESIS),
                ..d.clone()
            },
            Digest {
                signature: "00".into(),
                ..d.clone()
            },
        ] {
            assert!(!tampered.signature_valid(s.public_key()));
        }
        assert!(!format!("{s:?}").contains("seed"));
    }
}
