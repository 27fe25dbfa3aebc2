//! Property tests for seal/open and envelopes.

use coffer_crypto::{CryptoError, SymmetricKey, ValueContext, open_value, seal_value};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        proptest::collection::vec(any::<u8>(), 0..64 * 1024),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn envelope_round_trip(
        v in value(),
        account in "[0-9]{12}",
        arn in "[a-zA-Z0-9:/_-]{0,80}",
        version in "[a-f0-9-]{0,36}",
        binary in any::<bool>(),
        key_arn in "[a-zA-Z0-9:/_-]{0,80}",
        generation in any::<u32>(),
    ) {
        let kek = SymmetricKey::generate();
        let ctx = ValueContext {
            account_id: &account,
            secret_arn: &arn,
            version_id: &version,
            kind: if binary { "binary" } else { "string" },
            kms_key_arn: &key_arn,
            key_generation: generation,
        };
        let env = seal_value(&kek, &ctx, &v).unwrap();
        let out = open_value(&kek, &ctx, &env.wrapped_dek, &env.ciphertext).unwrap();
        prop_assert_eq!(&out[..], &v[..]);
        let other = ValueContext { key_generation: generation.wrapping_add(1), ..ctx };
        prop_assert!(open_value(&kek, &other, &env.wrapped_dek, &env.ciphertext).is_err());
    }

    #[test]
    fn seal_round_trip(v in value(), aad in proptest::collection::vec(any::<u8>(), 0..128)) {
        let k = SymmetricKey::generate();
        let sealed = k.seal(&aad, &v).unwrap();
        prop_assert_eq!(&k.open(&aad, &sealed).unwrap()[..], &v[..]);
    }

    #[test]
    fn bit_flip_rejected(v in value(), bit in any::<prop::sample::Index>()) {
        let k = SymmetricKey::generate();
        let mut sealed = k.seal(b"aad", &v).unwrap();
        let i = bit.index(sealed.len() * 8);
        sealed[i / 8] ^= 1 << (i % 8);
        prop_assert_eq!(k.open(b"aad", &sealed), Err(CryptoError::Decrypt));
    }

    #[test]
    fn envelope_bit_flip_rejected(v in value(), bit in any::<prop::sample::Index>(), in_dek in any::<bool>()) {
        let kek = SymmetricKey::generate();
        let ctx = ValueContext {
            account_id: "1", secret_arn: "a", version_id: "v", kind: "string",
            kms_key_arn: "k", key_generation: 0,
        };
        let mut env = seal_value(&kek, &ctx, &v).unwrap();
        let target = if in_dek { &mut env.wrapped_dek } else { &mut env.ciphertext };
        let i = bit.index(target.len() * 8);
        target[i / 8] ^= 1 << (i % 8);
        prop_assert_eq!(
            open_value(&kek, &ctx, &env.wrapped_dek, &env.ciphertext),
            Err(CryptoError::Decrypt)
        );
    }
}
