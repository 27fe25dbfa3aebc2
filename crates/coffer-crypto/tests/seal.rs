//! SymmetricKey seal/open, aad() and helper tests.

use coffer_crypto::{
    CryptoError, SEALED_OVERHEAD, SymmetricKey, aad, constant_time_eq, random_bytes, random_string,
    root_check_blob, sha256_hex, verify_root_check,
};

#[test]
fn round_trip() {
    let k = SymmetricKey::generate();
    for len in [0usize, 1, 15, 16, 17, 1024, 70_000] {
        let pt = random_bytes(len);
        let sealed = k.seal(b"ctx", &pt).unwrap();
        assert_eq!(sealed.len(), SEALED_OVERHEAD + len);
        assert_eq!(sealed[0], 1);
        assert_eq!(&k.open(b"ctx", &sealed).unwrap()[..], &pt[..]);
    }
}

#[test]
fn every_single_bit_flip_fails() {
    let k = SymmetricKey::generate();
    let sealed = k.seal(b"aad", b"some secret value").unwrap();
    for i in 0..sealed.len() * 8 {
        let mut t = sealed.clone();
        t[i / 8] ^= 1 << (i % 8);
        assert_eq!(k.open(b"aad", &t), Err(CryptoError::Decrypt), "bit {i}");
    }
}

#[test]
fn truncation_and_extension_fail() {
    let k = SymmetricKey::generate();
    let sealed = k.seal(b"", b"v").unwrap();
    for n in 0..sealed.len() {
        assert_eq!(k.open(b"", &sealed[..n]), Err(CryptoError::Decrypt));
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(k.open(b"", &longer), Err(CryptoError::Decrypt));
}

#[test]
fn wrong_aad_or_key_fails() {
    let k = SymmetricKey::generate();
    let sealed = k.seal(b"aad-1", b"value").unwrap();
    assert_eq!(k.open(b"aad-2", &sealed), Err(CryptoError::Decrypt));
    assert_eq!(k.open(b"", &sealed), Err(CryptoError::Decrypt));
    let other = SymmetricKey::generate();
    assert_eq!(other.open(b"aad-1", &sealed), Err(CryptoError::Decrypt));
}

#[test]
fn seals_are_randomized() {
    let k = SymmetricKey::generate();
    let a = k.seal(b"x", b"same plaintext").unwrap();
    let b = k.seal(b"x", b"same plaintext").unwrap();
    assert_ne!(a, b);
    assert_ne!(a[1..13], b[1..13], "nonces must differ");
}

#[test]
fn from_bytes_length_and_equality() {
    assert_eq!(
        SymmetricKey::from_bytes(&[0u8; 31]),
        Err(CryptoError::InvalidKeyLength)
    );
    assert_eq!(
        SymmetricKey::from_bytes(&[0u8; 33]),
        Err(CryptoError::InvalidKeyLength)
    );
    assert_eq!(
        SymmetricKey::from_bytes(&[]),
        Err(CryptoError::InvalidKeyLength)
    );
    let k = SymmetricKey::generate();
    let k2 = SymmetricKey::from_bytes(k.expose_bytes()).unwrap();
    assert_eq!(k, k2);
    assert_eq!(k.clone(), k);
    assert_ne!(k, SymmetricKey::generate());
    // A key rebuilt from bytes opens what the original sealed.
    let sealed = k.seal(b"a", b"b").unwrap();
    assert_eq!(&k2.open(b"a", &sealed).unwrap()[..], b"b");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn debug_is_redacted() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let k = SymmetricKey::generate();
    let dbg = format!("{k:?} {k:#?}");
    assert!(dbg.contains("SymmetricKey(<redacted>)"));
    let b = k.expose_bytes();
    for form in [
        hex(b),
        hex(b).to_uppercase(),
        STANDARD.encode(b),
        STANDARD_NO_PAD.encode(b),
        URL_SAFE_NO_PAD.encode(b),
        format!("{:?}", &b[..]),
    ] {
        assert!(!dbg.contains(&form[..8]), "Debug leaks key bytes");
    }
}

#[test]
fn aad_is_unambiguous() {
    let cases: Vec<(&str, Vec<&[u8]>)> = vec![
        ("ab", vec![b"c"]),
        ("a", vec![b"bc"]),
        ("a", vec![b"b", b"c"]),
        ("a", vec![b"bc", b""]),
        ("a", vec![b"", b"bc"]),
        ("abc", vec![]),
        ("abc", vec![b""]),
        ("abc", vec![b"", b""]),
        ("", vec![b"abc"]),
        ("a\0", vec![b"bc"]),
    ];
    let encoded: Vec<Vec<u8>> = cases.iter().map(|(l, f)| aad(l, f)).collect();
    for i in 0..encoded.len() {
        for j in 0..i {
            assert_ne!(encoded[i], encoded[j], "{:?} vs {:?}", cases[i], cases[j]);
        }
    }
    // Deterministic.
    assert_eq!(aad("x", &[b"1", b"2"]), aad("x", &[b"1", b"2"]));
}

#[test]
fn root_check() {
    let root = SymmetricKey::generate();
    let blob = root_check_blob(&root).unwrap();
    assert!(verify_root_check(&root, &blob));
    assert!(!verify_root_check(&SymmetricKey::generate(), &blob));
    let mut t = blob.clone();
    *t.last_mut().unwrap() ^= 1;
    assert!(!verify_root_check(&root, &t));
    assert!(!verify_root_check(&root, b""));
    // A blob sealed under a different AAD is not a check blob.
    let other = root.seal(b"other", b"coffer root key check").unwrap();
    assert!(!verify_root_check(&root, &other));
}

#[test]
fn helpers() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(constant_time_eq(b"", b""));
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(random_bytes(0).len(), 0);
    assert_eq!(random_bytes(33).len(), 33);
    assert_ne!(random_bytes(32), random_bytes(32));
}

#[test]
fn random_string_uses_alphabet_uniformly() {
    let alphabet = b"abc"; // 256 % 3 != 0, so a biased sampler would show.
    let s = random_string(alphabet, 30_000);
    assert_eq!(s.len(), 30_000);
    let mut counts = [0usize; 3];
    for c in s.bytes() {
        counts[alphabet.iter().position(|&a| a == c).expect("in alphabet")] += 1;
    }
    // Expected 10_000 each; modulo bias would give ~10_040/10_040/9_920 on average,
    // so this only checks coverage and rough balance, not the bias itself.
    for c in counts {
        assert!((9_000..11_000).contains(&c), "{counts:?}");
    }
    assert_eq!(random_string(b"x", 5), "xxxxx");
    assert_eq!(random_string(b"ab", 0), "");
    let full: Vec<u8> = (0u8..128).collect();
    assert_eq!(random_string(&full, 100).len(), 100);
}

#[test]
#[should_panic]
fn random_string_rejects_empty_alphabet() {
    random_string(b"", 1);
}

#[test]
fn errors_do_not_echo_inputs() {
    let msgs = [
        CryptoError::InvalidKeyLength,
        CryptoError::Decrypt,
        CryptoError::Encrypt,
        CryptoError::NotEnoughShares { have: 1, need: 3 },
    ]
    .map(|e| e.to_string());
    assert!(msgs.iter().all(|m| !m.is_empty()));
}

#[test]
fn aad_known_answer() {
    // Pinned: stored data depends on this encoding never changing.
    let mut want = Vec::new();
    want.extend_from_slice(&2u64.to_be_bytes());
    want.extend_from_slice(b"ab");
    want.extend_from_slice(&2u64.to_be_bytes());
    want.extend_from_slice(&1u64.to_be_bytes());
    want.extend_from_slice(b"c");
    want.extend_from_slice(&0u64.to_be_bytes());
    assert_eq!(aad("ab", &[b"c", b""]), want);
}
