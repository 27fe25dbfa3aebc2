//! Randomness and small constant-time / hashing helpers.

use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

/// Fills `buf` from the OS CSPRNG (ring `SystemRandom`).
///
/// # Panics
/// Panics if the operating system's random source fails. Continuing without
/// randomness would be unsafe, so this fails closed.
pub(crate) fn fill(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("operating system random source failed");
}

/// Returns `n` bytes from the OS CSPRNG (ring `SystemRandom`).
///
/// # Panics
/// Panics if the operating system's random source fails.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    fill(&mut out);
    out
}

/// Returns a string of `len` characters drawn uniformly from `alphabet`
/// (rejection sampling, so there is no modulo bias).
///
/// # Panics
/// Panics if `alphabet` is empty, longer than 256 bytes or not all ASCII
/// (a programming error), or if the OS random source fails.
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    assert!(
        !alphabet.is_empty() && alphabet.len() <= 256 && alphabet.is_ascii(),
        "random_string: alphabet must be 1..=256 ASCII bytes"
    );
    let n = alphabet.len();
    // Largest multiple of n that fits in 0..256; bytes at or above it are rejected.
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill(&mut buf);
        for &b in &buf {
            if out.len() == len {
                break;
            }
            if usize::from(b) < limit {
                out.push(char::from(alphabet[usize::from(b) % n]));
            }
        }
    }
    out
}

/// Compares two byte strings in time independent of their contents
/// (the length is not secret: different lengths compare unequal).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Lowercase hex SHA-256 of `b`.
pub fn sha256_hex(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = ring::digest::digest(&ring::digest::SHA256, b);
    let mut out = String::with_capacity(64);
    for &byte in digest.as_ref() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// Adapter exposing ring's `SystemRandom` as a `rand_core` 0.10 CSPRNG, for vsss-rs.
pub(crate) struct SystemRng;

impl rand_core::TryRng for SystemRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SystemRng {}
