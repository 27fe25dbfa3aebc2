//! Known-answer tests: the AEAD primitive against published AES-256-GCM vectors, and
//! Coffer's sealed-blob and envelope formats against fixed blobs made by an earlier build
//! (so a change of format, label, field order or AAD layout cannot go unnoticed, and data
//! written by older builds stays readable). Plus: tampering with any byte of a stored blob,
//! or any byte of its associated data, is detected.

use coffer_crypto::{SymmetricKey, ValueContext, open_value};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// (key, iv, plaintext, aad, ciphertext, tag) from "The Galois/Counter Mode of Operation
/// (GCM)", McGrew & Viega, test cases 13, 14 and 16 (256-bit keys).
const GCM_VECTORS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "",
        "",
        "",
        "530f8afbc74536b9a963b4f1c4cb738b",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
];

#[test]
fn aes_256_gcm_matches_the_published_vectors() {
    for (k, iv, p, a, c, t) in GCM_VECTORS {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &h(k)).unwrap());
        let nonce = || Nonce::try_assume_unique_for_key(&h(iv)).unwrap();
        let mut buf = h(p);
        let tag = key
            .seal_in_place_separate_tag(nonce(), Aad::from(h(a)), &mut buf)
            .unwrap();
        assert_eq!(hex::encode(&buf), *c);
        assert_eq!(hex::encode(tag.as_ref()), *t);
        let mut sealed = h(c);
        sealed.extend_from_slice(&h(t));
        let opened = key
            .open_in_place(nonce(), Aad::from(h(a)), &mut sealed)
            .unwrap();
        assert_eq!(hex::encode(opened), *p);
    }
}

/// `SymmetricKey::seal` output of an earlier build: key 0x42×32, AAD "coffer known answer".
const SEALED: &str =
    "0131cdbed1ae9cba99a9c4df28772f3cafbba6cdf6cb90f1c566040efdd0cef0e8d25853dd6886d15a6aa2";
const SEALED_AAD: &[u8] = b"coffer known answer";

#[test]
fn sealed_blob_known_answer() {
    let key = SymmetricKey::from_bytes(&[0x42; 32]).unwrap();
    let blob = h(SEALED);
    assert_eq!(&*key.open(SEALED_AAD, &blob).unwrap(), b"attack at dawn");
    // Every byte of the blob and of the associated data is protected.
    for i in 0..blob.len() {
        let mut t = blob.clone();
        t[i] ^= 0x01;
        assert!(key.open(SEALED_AAD, &t).is_err(), "blob byte {i}");
    }
    for i in 0..SEALED_AAD.len() {
        let mut a = SEALED_AAD.to_vec();
        a[i] ^= 0x01;
        assert!(key.open(&a, &blob).is_err(), "aad byte {i}");
    }
    assert!(key.open(SEALED_AAD, &blob[..blob.len() - 1]).is_err());
    let other = SymmetricKey::from_bytes(&[0x43; 32]).unwrap();
    assert!(other.open(SEALED_AAD, &blob).is_err());
}

/// A secret value sealed by an earlier build: KEK 0x17×32, generation 2.
const WRAPPED_DEK: &str = "01456dadf344a6999f8733eaf4ca5414c541d717e66676a34008386afbc611445fb6756426926f0ba07bdcfd9964e79eacb8c0d877d06fefc10deb67e9";
const CIPHERTEXT: &str = "016096ed6fa27e1449df6a3f9bfa1c90a976cbbf10a40144a684a609d5a4fe1054fc0a776a5e1a8cb018ca0b237d328753424c";
const ACCOUNT: &str = "111111111111";
const ARN: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:kat-AbCdEf";
const VERSION: &str = "11111111-2222-3333-4444-555555555555";
const KMS: &str = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001";

fn ctx_of(f: &[String; 5], generation: u32) -> ValueContext<'_> {
    ValueContext {
        account_id: &f[0],
        secret_arn: &f[1],
        version_id: &f[2],
        kind: &f[3],
        kms_key_arn: &f[4],
        key_generation: generation,
    }
}

#[test]
fn envelope_known_answer_and_every_byte_is_bound() {
    let kek = SymmetricKey::from_bytes(&[0x17; 32]).unwrap();
    let (dek, ct) = (h(WRAPPED_DEK), h(CIPHERTEXT));
    let fields = [ACCOUNT, ARN, VERSION, "string", KMS];
    let base: [String; 5] = fields.map(str::to_owned);
    let value = open_value(&kek, &ctx_of(&base, 2), &dek, &ct).unwrap();
    assert_eq!(&*value, br#"{"password":"hunter2"}"#);

    for i in 0..dek.len() {
        let mut t = dek.clone();
        t[i] ^= 0x80;
        assert!(
            open_value(&kek, &ctx_of(&base, 2), &t, &ct).is_err(),
            "wrapped key byte {i}"
        );
    }
    for i in 0..ct.len() {
        let mut t = ct.clone();
        t[i] ^= 0x80;
        assert!(
            open_value(&kek, &ctx_of(&base, 2), &dek, &t).is_err(),
            "ciphertext byte {i}"
        );
    }
    // Every byte of every context field (the associated data of both layers).
    for field in 0..fields.len() {
        for i in 0..base[field].len() {
            let mut f = base.clone();
            let mut bytes = f[field].clone().into_bytes();
            bytes[i] ^= 0x01;
            f[field] = String::from_utf8(bytes).unwrap();
            assert!(
                open_value(&kek, &ctx_of(&f, 2), &dek, &ct).is_err(),
                "context field {field} byte {i}"
            );
        }
    }
    assert!(
        open_value(&kek, &ctx_of(&base, 1), &dek, &ct).is_err(),
        "generation"
    );
    assert!(
        open_value(&kek, &ctx_of(&base, 3), &dek, &ct).is_err(),
        "generation"
    );
}
