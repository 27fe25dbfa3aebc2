//! Envelope encryption tests.

use coffer_crypto::{CryptoError, SymmetricKey, ValueContext, open_value, seal_value};

const ARN: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf";

fn ctx() -> ValueContext<'static> {
    ValueContext {
        account_id: "111122223333",
        secret_arn: ARN,
        version_id: "v-1",
        kind: "string",
        kms_key_arn: "arn:aws:kms:us-east-1:111122223333:key/k1",
        key_generation: 3,
    }
}

#[test]
fn round_trip() {
    let kek = SymmetricKey::generate();
    let c = ctx();
    for v in [
        &b""[..],
        b"x",
        b"{\"password\":\"hunter2\"}",
        &[0u8; 5000][..],
    ] {
        let env = seal_value(&kek, &c, v).unwrap();
        assert_eq!(
            &open_value(&kek, &c, &env.wrapped_dek, &env.ciphertext).unwrap()[..],
            v
        );
    }
}

#[test]
fn fresh_dek_per_call() {
    let kek = SymmetricKey::generate();
    let a = seal_value(&kek, &ctx(), b"same").unwrap();
    let b = seal_value(&kek, &ctx(), b"same").unwrap();
    assert_ne!(a.wrapped_dek, b.wrapped_dek);
    assert_ne!(a.ciphertext, b.ciphertext);
}

#[test]
fn any_context_change_fails() {
    let kek = SymmetricKey::generate();
    let c = ctx();
    let env = seal_value(&kek, &c, b"secret").unwrap();
    let variants = [
        ValueContext {
            account_id: "444455556666",
            ..c
        },
        ValueContext {
            secret_arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:other-XyZ123",
            ..c
        },
        ValueContext {
            version_id: "v-2",
            ..c
        },
        ValueContext {
            kind: "binary",
            ..c
        },
        ValueContext {
            kms_key_arn: "arn:aws:kms:us-east-1:111122223333:key/k2",
            ..c
        },
        ValueContext {
            key_generation: 4,
            ..c
        },
    ];
    for v in &variants {
        assert_eq!(
            open_value(&kek, v, &env.wrapped_dek, &env.ciphertext),
            Err(CryptoError::Decrypt),
            "{v:?}"
        );
    }
    // Wrong KEK fails too.
    assert_eq!(
        open_value(
            &SymmetricKey::generate(),
            &c,
            &env.wrapped_dek,
            &env.ciphertext
        ),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn ciphertext_moved_to_other_version_fails() {
    let kek = SymmetricKey::generate();
    let c1 = ctx();
    let c2 = ValueContext {
        version_id: "v-2",
        ..c1
    };
    let e1 = seal_value(&kek, &c1, b"one").unwrap();
    let e2 = seal_value(&kek, &c2, b"two").unwrap();
    // Whole envelope copied to another version.
    assert!(open_value(&kek, &c2, &e1.wrapped_dek, &e1.ciphertext).is_err());
    // Only the value ciphertext moved, next to the other version's DEK.
    assert!(open_value(&kek, &c2, &e2.wrapped_dek, &e1.ciphertext).is_err());
}

#[test]
fn swapping_wrapped_deks_fails() {
    let kek = SymmetricKey::generate();
    let c = ctx();
    let a = seal_value(&kek, &c, b"value a").unwrap();
    let b = seal_value(&kek, &c, b"value b").unwrap();
    assert_eq!(
        open_value(&kek, &c, &b.wrapped_dek, &a.ciphertext),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        open_value(&kek, &c, &a.wrapped_dek, &b.ciphertext),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn tampering_either_part_fails() {
    let kek = SymmetricKey::generate();
    let c = ctx();
    let env = seal_value(&kek, &c, b"value").unwrap();
    for i in 0..env.wrapped_dek.len() * 8 {
        let mut w = env.wrapped_dek.clone();
        w[i / 8] ^= 1 << (i % 8);
        assert!(open_value(&kek, &c, &w, &env.ciphertext).is_err());
    }
    for i in 0..env.ciphertext.len() * 8 {
        let mut ct = env.ciphertext.clone();
        ct[i / 8] ^= 1 << (i % 8);
        assert!(open_value(&kek, &c, &env.wrapped_dek, &ct).is_err());
    }
}
