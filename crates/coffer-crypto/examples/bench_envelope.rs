//! Rough timing of `open_value` for a 1 KiB value.
//!
//! Run with `cargo run --release -p coffer-crypto --example bench_envelope`.
//! Prints a figure only; nothing is asserted.

use std::hint::black_box;
use std::time::Instant;

use coffer_crypto::{SymmetricKey, ValueContext, open_value, random_bytes, seal_value};

const ITERATIONS: u32 = 200_000;

fn main() {
    let kek = SymmetricKey::generate();
    let ctx = ValueContext {
        account_id: "111122223333",
        secret_arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:bench-AbCdEf",
        version_id: "3f1c7a52-8d7e-4c55-9b0e-2a6d1e0f4b11",
        kind: "string",
        kms_key_arn: "arn:aws:kms:us-east-1:111122223333:key/0b8a6f6e-4a1e-4c1e-9d55-7c9f3a2b1c0d",
        key_generation: 1,
    };
    let value = random_bytes(1024);
    let env = seal_value(&kek, &ctx, &value).expect("seal");

    // Warm-up.
    for _ in 0..1_000 {
        black_box(open_value(&kek, &ctx, &env.wrapped_dek, &env.ciphertext).expect("open"));
    }

    let start = Instant::now();
    for _ in 0..ITERATIONS {
        let out = open_value(
            black_box(&kek),
            black_box(&ctx),
            black_box(&env.wrapped_dek),
            black_box(&env.ciphertext),
        )
        .expect("open");
        black_box(out);
    }
    let elapsed = start.elapsed();
    let ns = elapsed.as_nanos() as f64 / f64::from(ITERATIONS);
    println!(
        "open_value, 1 KiB value, {ITERATIONS} iterations: {ns:.0} ns/op ({elapsed:.2?} total)"
    );

    let start = Instant::now();
    for _ in 0..ITERATIONS / 4 {
        black_box(seal_value(&kek, &ctx, black_box(&value)).expect("seal"));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(ITERATIONS / 4);
    println!(
        "seal_value, 1 KiB value, {} iterations: {ns:.0} ns/op",
        ITERATIONS / 4
    );
}
