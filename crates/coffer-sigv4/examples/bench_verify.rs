//! Micro benchmark: parse + verify of a typical Secrets Manager request with a cached key.
//!
//! `cargo run --release -p coffer-sigv4 --example bench_verify`

use std::hint::black_box;
use std::time::Instant;

use coffer_sigv4::{
    Policy, Request, SigningParams, derive_signing_key, parse, parse_amz_date, sign, verify,
};

const ITERS: u32 = 200_000;

fn main() {
    let amz_date = "20251106T132608Z";
    let body =
        br#"{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"}"#;
    let base: Vec<(&str, &[u8])> = vec![
        ("host", b"secretsmanager.us-east-1.amazonaws.com"),
        ("content-type", b"application/x-amz-json-1.1"),
        ("x-amz-target", b"secretsmanager.GetSecretValue"),
        ("user-agent", b"aws-cli/2.15.0 Python/3.11"),
        ("content-length", b"84"),
    ];
    let params = SigningParams {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
        service: "secretsmanager",
        amz_date,
        ..Default::default()
    };
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &base,
        body,
    };
    let signed = sign(&req, &params).expect("sign");
    let added = signed.headers();
    let mut headers = base.clone();
    for (k, v) in &added {
        headers.push((k, v.as_bytes()));
    }
    let req = Request {
        headers: &headers,
        ..req
    };
    let policy = Policy::new(parse_amz_date(amz_date).expect("date"), "secretsmanager");
    let key = derive_signing_key(
        params.secret_access_key,
        "20251106",
        params.region,
        params.service,
    );

    let run = |n: u32| {
        let start = Instant::now();
        for _ in 0..n {
            let req = black_box(&req);
            let parsed = parse(req).expect("parse");
            verify(req, &parsed, black_box(&key), &policy).expect("verify");
        }
        start.elapsed()
    };
    run(ITERS / 10);
    let elapsed = run(ITERS);
    println!(
        "parse+verify: {:.0} ns/iter over {ITERS} iterations",
        elapsed.as_nanos() as f64 / f64::from(ITERS)
    );

    let start = Instant::now();
    for _ in 0..ITERS / 10 {
        black_box(derive_signing_key(
            black_box(params.secret_access_key),
            "20251106",
            "us-east-1",
            "secretsmanager",
        ));
    }
    println!(
        "derive_signing_key: {:.0} ns/iter",
        start.elapsed().as_nanos() as f64 / f64::from(ITERS / 10)
    );
}
