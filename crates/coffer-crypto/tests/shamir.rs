//! Shamir split/parse/combine tests.

use coffer_crypto::shamir::{self, SHARE_PREFIX, Share};
use coffer_crypto::{CryptoError, SymmetricKey, root_check_blob, verify_root_check};

fn parse_all(texts: &[String]) -> Vec<Share> {
    texts
        .iter()
        .map(|t| shamir::parse_share(t).unwrap())
        .collect()
}

fn subset(all: &[Share], mask: u32) -> Vec<Share> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, s)| s.clone())
        .collect()
}

#[test]
fn three_of_five_every_subset() {
    let key = SymmetricKey::generate();
    let texts = shamir::split(&key, 3, 5).unwrap();
    assert_eq!(texts.len(), 5);
    let shares = parse_all(&texts);
    let mut indexes: Vec<u8> = shares.iter().map(Share::index).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, [1, 2, 3, 4, 5]);
    assert!(shares.iter().all(|s| s.threshold() == 3));
    for mask in 0u32..32 {
        let sub = subset(&shares, mask);
        let n = sub.len();
        let res = shamir::combine(&sub);
        if n >= 3 {
            assert_eq!(res.unwrap(), key, "mask {mask:05b}");
        } else {
            assert_eq!(
                res.unwrap_err(),
                CryptoError::NotEnoughShares {
                    have: n,
                    need: if n == 0 { 1 } else { 3 }
                }
            );
        }
    }
    // Order does not matter.
    let rev: Vec<Share> = shares.iter().rev().take(3).cloned().collect();
    assert_eq!(shamir::combine(&rev).unwrap(), key);
}

#[test]
fn various_parameters() {
    let key = SymmetricKey::generate();
    for (t, n) in [
        (1u8, 1u8),
        (2, 2),
        (2, 3),
        (5, 5),
        (3, 10),
        (255, 255),
        (2, 255),
    ] {
        let texts = shamir::split(&key, t, n).unwrap();
        assert_eq!(texts.len(), usize::from(n));
        let shares = parse_all(&texts);
        assert_eq!(
            shamir::combine(&shares[..usize::from(t)]).unwrap(),
            key,
            "{t}-of-{n}"
        );
        assert_eq!(
            shamir::combine(&shares[usize::from(n - t)..]).unwrap(),
            key,
            "{t}-of-{n}"
        );
    }
}

#[test]
fn bad_parameters_rejected() {
    let key = SymmetricKey::generate();
    for (t, n) in [(0u8, 0u8), (0, 3), (1, 0), (4, 3), (1, 2), (1, 255)] {
        assert!(
            matches!(
                shamir::split(&key, t, n),
                Err(CryptoError::InvalidParameters(_))
            ),
            "{t}-of-{n}"
        );
    }
}

#[test]
fn duplicate_index_rejected() {
    let key = SymmetricKey::generate();
    let shares = parse_all(&shamir::split(&key, 2, 3).unwrap());
    let dup = vec![shares[0].clone(), shares[0].clone()];
    assert!(matches!(
        shamir::combine(&dup),
        Err(CryptoError::InvalidShare(_))
    ));
    let dup3 = vec![shares[0].clone(), shares[1].clone(), shares[0].clone()];
    assert!(matches!(
        shamir::combine(&dup3),
        Err(CryptoError::InvalidShare(_))
    ));
}

#[test]
fn every_single_char_typo_fails_parse() {
    let key = SymmetricKey::generate();
    let text = shamir::split(&key, 2, 3).unwrap().remove(0);
    let body = &text[SHARE_PREFIX.len()..];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for pos in 0..body.len() {
        for &c in alphabet {
            if body.as_bytes()[pos] == c {
                continue;
            }
            let mut b = body.as_bytes().to_vec();
            b[pos] = c;
            let typo = format!("{SHARE_PREFIX}{}", String::from_utf8(b).unwrap());
            assert!(
                matches!(
                    shamir::parse_share(&typo),
                    Err(CryptoError::InvalidShare(_))
                ),
                "typo at {pos} accepted"
            );
        }
    }
    // Transposition of two adjacent different characters.
    let mut b = body.as_bytes().to_vec();
    let i = (0..b.len() - 1).find(|&i| b[i] != b[i + 1]).unwrap();
    b.swap(i, i + 1);
    let swapped = format!("{SHARE_PREFIX}{}", String::from_utf8(b).unwrap());
    assert!(shamir::parse_share(&swapped).is_err());
    // Missing or extra characters, wrong prefix, garbage.
    assert!(shamir::parse_share(&text[..text.len() - 1]).is_err());
    assert!(shamir::parse_share(&format!("{text}A")).is_err());
    assert!(shamir::parse_share(&text.replace("v1", "v2")).is_err());
    assert!(shamir::parse_share(body).is_err());
    assert!(shamir::parse_share("").is_err());
    assert!(shamir::parse_share("coffer-share-v1:!!!").is_err());
    // Surrounding whitespace is tolerated.
    assert!(shamir::parse_share(&format!("  {text}\n")).is_ok());
}

#[test]
fn round_trip_text() {
    let key = SymmetricKey::generate();
    for t in shamir::split(&key, 3, 4).unwrap() {
        assert!(t.starts_with(SHARE_PREFIX));
        assert_eq!(shamir::parse_share(&t).unwrap().to_text(), t);
    }
}

#[test]
fn shares_from_different_splits_do_not_rebuild() {
    let key = SymmetricKey::generate();
    let check = root_check_blob(&key).unwrap();
    let a = parse_all(&shamir::split(&key, 3, 5).unwrap());
    let b = parse_all(&shamir::split(&key, 3, 5).unwrap());
    // Same key, two independent splits: mixing them with distinct indexes.
    let mixed = vec![a[0].clone(), a[1].clone(), b[2].clone()];
    if let Ok(k) = shamir::combine(&mixed) {
        assert!(!verify_root_check(&k, &check));
    }
    // A different key's split.
    let other = SymmetricKey::generate();
    let c = parse_all(&shamir::split(&other, 3, 5).unwrap());
    let mixed = vec![a[0].clone(), c[1].clone(), c[2].clone()];
    if let Ok(k) = shamir::combine(&mixed) {
        assert!(!verify_root_check(&k, &check));
    }
    // Mixed thresholds are rejected outright.
    let d = parse_all(&shamir::split(&key, 2, 5).unwrap());
    let mixed = vec![a[0].clone(), a[1].clone(), d[2].clone()];
    assert!(matches!(
        shamir::combine(&mixed),
        Err(CryptoError::InvalidShare(_))
    ));
    // The right shares do pass the check.
    assert!(verify_root_check(
        &shamir::combine(&a[2..]).unwrap(),
        &check
    ));
}

#[test]
fn share_debug_is_redacted() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let key = SymmetricKey::generate();
    let text = shamir::split(&key, 2, 2).unwrap().remove(0);
    let share = shamir::parse_share(&text).unwrap();
    let dbg = format!("{share:?} {share:#?}");
    assert!(dbg.contains("redacted"));
    assert!(dbg.contains(&format!("index: {}", share.index())));
    // Recover the share bytes from the text form and make sure no form of them shows.
    let raw = URL_SAFE_NO_PAD.decode(&text[SHARE_PREFIX.len()..]).unwrap();
    let value = &raw[2..34];
    let hex: String = value.iter().map(|x| format!("{x:02x}")).collect();
    for form in [
        hex.clone(),
        hex.to_uppercase(),
        STANDARD_NO_PAD.encode(value),
        URL_SAFE_NO_PAD.encode(value),
        text[SHARE_PREFIX.len()..].to_string(),
        format!("{:?}", value),
    ] {
        assert!(!dbg.contains(&form[..8]), "Debug leaks share bytes");
    }
    // Nor the key.
    let key_hex: String = key
        .expose_bytes()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    assert!(!dbg.contains(&key_hex[..8]));
}

#[test]
fn single_share_split_is_the_key() {
    let key = SymmetricKey::generate();
    let shares = parse_all(&shamir::split(&key, 1, 1).unwrap());
    assert_eq!(shares[0].threshold(), 1);
    assert_eq!(shamir::combine(&shares).unwrap(), key);
}

#[test]
fn wire_layout_matches_spec() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = SymmetricKey::generate();
    for (i, text) in shamir::split(&key, 2, 3).unwrap().iter().enumerate() {
        let raw = URL_SAFE_NO_PAD
            .decode(text.strip_prefix("coffer-share-v1:").unwrap())
            .unwrap();
        assert_eq!(raw.len(), 1 + 1 + 32 + 4);
        assert_eq!(raw[0], 2, "threshold");
        assert_eq!(usize::from(raw[1]), i + 1, "index");
        let sum = coffer_crypto::sha256_hex(&raw[..34]);
        let want: String = raw[34..].iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(&sum[..8], want);
        assert!(!text.contains('='));
    }
}
