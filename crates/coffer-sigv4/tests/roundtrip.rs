//! sign/presign then parse+verify accepts; mutating the body or a signed header rejects.

mod common;

use common::*;
use proptest::prelude::*;

const RESERVED: [&str; 5] = [
    "host",
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9-]{0,10}",
        "[xX]-[aA][mM][zZ]-[a-z0-9-]{1,8}",
        Just("Content-Type".to_owned()),
    ]
    .prop_filter("reserved", |n| {
        !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(n))
    })
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[ -~\t]{0,24}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..24),
    ]
}

fn path() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-zA-Z0-9._~%@:+ -]{0,8}|\\.|\\.\\.", 0..5)
        .prop_map(|segs| format!("/{}", segs.join("/")))
}

fn query() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        ("[A-Za-z0-9_.~%+-]{1,6}", "[A-Za-z0-9_.~%+=/ -]{0,8}"),
        0..4,
    )
    .prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

#[derive(Debug, Clone)]
struct Input {
    wire: Wire,
    extra: Vec<String>,
    token: Option<String>,
    presign: bool,
}

fn input() -> impl Strategy<Value = Input> {
    (
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("PUT"),
            Just("DELETE"),
            Just("PATCH")
        ],
        path(),
        query(),
        proptest::collection::vec((header_name(), header_value()), 0..6),
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(any::<bool>(), 6),
        proptest::option::of("[A-Za-z0-9+/=]{1,40}"),
        any::<bool>(),
    )
        .prop_map(
            |(method, path, query, headers, body, pick, token, presign)| {
                let mut wire = Wire {
                    method: method.into(),
                    path,
                    query,
                    headers: vec![("Host".into(), b"example.com".to_vec())],
                    body,
                };
                let extra = headers
                    .iter()
                    .zip(&pick)
                    .filter(|(_, p)| **p)
                    .map(|((n, _), _)| n.clone())
                    .collect();
                wire.headers.extend(headers);
                Input {
                    wire,
                    extra,
                    token,
                    presign,
                }
            },
        )
}

fn is_signed(name: &str, extra: &[String]) -> bool {
    let n = name.to_ascii_lowercase();
    n == "host"
        || n == "content-type"
        || n.starts_with("x-amz-")
        || extra.iter().any(|e| e.eq_ignore_ascii_case(&n))
}

fn signed_input(i: &Input) -> Wire {
    let extra: Vec<&str> = i.extra.iter().map(String::as_str).collect();
    let p = coffer_sigv4::SigningParams {
        extra_signed_headers: &extra,
        ..params(i.token.as_deref())
    };
    if i.presign {
        presigned(i.wire.clone(), &p, 900)
    } else {
        signed(i.wire.clone(), &p)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sign_then_verify(i in input()) {
        let w = signed_input(&i);
        let parsed = check(&w).map_err(|e| TestCaseError::fail(format!("{e}: {w:?}")))?;
        prop_assert_eq!(parsed.presigned, i.presign);
        prop_assert_eq!(parsed.session_token, i.token);
    }

    #[test]
    fn body_mutation_is_rejected(i in input(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut w = signed_input(&i);
        if w.body.is_empty() {
            w.body.push(bit);
        } else {
            let k = at.index(w.body.len());
            w.body[k] ^= 1 << bit;
        }
        prop_assert!(check(&w).is_err());
    }

    #[test]
    fn signed_header_mutation_is_rejected(i in input(), at in any::<prop::sample::Index>()) {
        let mut w = signed_input(&i);
        let signed: Vec<usize> = (0..w.headers.len())
            .filter(|&k| {
                let n = &w.headers[k].0;
                is_signed(n, &i.extra) && !n.eq_ignore_ascii_case("authorization")
            })
            .collect();
        let k = signed[at.index(signed.len())];
        w.headers[k].1.push(b'Z');
        prop_assert!(check(&w).is_err(), "mutated {}", w.headers[k].0);
    }

    #[test]
    fn unsigned_header_changes_are_ignored(i in input(), v in "[a-z]{1,8}") {
        let mut w = signed_input(&i);
        w.headers.push(("User-Agent".into(), v.into_bytes()));
        prop_assert!(check(&w).is_ok());
    }
}
