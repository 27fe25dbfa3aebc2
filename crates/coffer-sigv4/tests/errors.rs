//! Every error: its AWS code and message.

mod common;

use coffer_sigv4::{Policy, SigV4Error, parse, parse_amz_date};
use common::*;

fn header_signed() -> Wire {
    signed(sm_request(), &params(None))
}

/// Replaces `from` with `to` in the Authorization header.
fn edit_auth(w: &mut Wire, from: &str, to: &str) {
    let a = w.get("authorization").unwrap();
    assert!(a.contains(from), "{a}");
    w.set("Authorization", &a.replacen(from, to, 1));
}

fn err(w: &Wire) -> SigV4Error {
    check(w).unwrap_err()
}

fn assert_err(e: &SigV4Error, code: &str, msg: &str) {
    assert_eq!(e.aws_code(), code, "{e:?}");
    assert_eq!(e.to_string(), msg);
}

fn assert_err_contains(e: &SigV4Error, code: &str, part: &str) {
    assert_eq!(e.aws_code(), code, "{e:?}");
    assert!(e.to_string().contains(part), "{e}");
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INCOMPLETE: &str = "IncompleteSignatureException";
const INVALID: &str = "InvalidSignatureException";

#[test]
fn valid_requests_pass() {
    let p = check(&header_signed()).unwrap();
    assert_eq!(p.access_key_id, AKID);
    assert_eq!(p.date, "20251106");
    assert_eq!(p.region, REGION);
    assert_eq!(p.service, SERVICE);
    assert_eq!(p.amz_date, DATE);
    assert_eq!(p.timestamp_ms, now());
    assert_eq!(
        p.signed_headers,
        ["content-type", "host", "x-amz-date", "x-amz-target"]
    );
    assert!(!p.presigned && p.expires_secs.is_none() && p.session_token.is_none());
    let p = check(&presigned(sm_request(), &params(None), 300)).unwrap();
    assert!(p.presigned);
    assert_eq!(p.expires_secs, Some(300));
}

#[test]
fn missing_authentication_token() {
    let e = err(&sm_request());
    assert_err(
        &e,
        "MissingAuthenticationTokenException",
        "Request is missing Authentication Token",
    );
}

#[test]
fn incomplete_authorization_header() {
    let mut w = header_signed();
    let a = w.get("authorization").unwrap();
    let (_, sig) = a.rsplit_once(", ").unwrap();
    w.set("Authorization", &format!("AWS4-HMAC-SHA256 {sig}"));
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Authorization header requires 'Credential' parameter. \
         Authorization header requires 'SignedHeaders' parameter.",
    );
    let mut w = header_signed();
    w.set("Authorization", "AWS4-HMAC-SHA256")
        .remove("x-amz-date");
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Authorization header requires 'Credential' parameter. \
         Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of a 'X-Amz-Date' header.",
    );
    let mut w = header_signed();
    w.remove("x-amz-date");
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Authorization header requires existence of a 'X-Amz-Date' header.",
    );
    let mut w = header_signed();
    edit_auth(&mut w, "Credential=", "Credential");
    assert_err_contains(&err(&w), INCOMPLETE, "not a valid key=value pair");
    let mut w = header_signed();
    edit_auth(&mut w, ", Signature=", ", Signature=00, Signature=");
    assert_err_contains(&err(&w), INCOMPLETE, "more than one 'Signature'");
}

#[test]
fn bad_credential_scope_format() {
    let mut w = header_signed();
    edit_auth(&mut w, "/secretsmanager/aws4_request", "/aws4_request");
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Credential should have 5 slash-separated parts (access key id, date, region, service, aws4_request), not 4.",
    );
    let mut w = header_signed();
    edit_auth(&mut w, "/us-east-1/", "//");
    assert_err_contains(&err(&w), INCOMPLETE, "empty slash-separated part");
}

#[test]
fn malformed_amz_date() {
    let mut w = header_signed();
    w.set("X-Amz-Date", "2025-11-06T13:26:08Z");
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Date must be in ISO-8601 'basic format'. Got '2025-11-06T13:26:08Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    );
    let mut w = header_signed();
    w.add("x-amz-date", DATE);
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Multiple 'x-amz-date' headers are not allowed.",
    );
}

#[test]
fn both_forms_and_duplicates() {
    let mut w = presigned(sm_request(), &params(None), 60);
    w.add("Authorization", "AWS4-HMAC-SHA256 Credential=x");
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    );
    let mut w = header_signed();
    let a = w.get("authorization").unwrap();
    w.add("authorization", &a);
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Multiple 'Authorization' headers are not allowed.",
    );
}

#[test]
fn unsupported_algorithm() {
    let mut w = header_signed();
    edit_auth(&mut w, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512");
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'.",
    );
    let mut w = header_signed();
    w.set("Authorization", "AWS AKID:c2lnbmF0dXJl");
    assert_err(&err(&w), INCOMPLETE, "Unsupported AWS 'algorithm': 'AWS'.");
    let mut w = presigned(sm_request(), &params(None), 60);
    w.query = w
        .query
        .replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'.",
    );
}

#[test]
fn limits() {
    let mut w = header_signed();
    edit_auth(
        &mut w,
        "Credential=",
        &format!("X={}, Credential=", "a".repeat(4096)),
    );
    assert_err_contains(&err(&w), INCOMPLETE, "too long");
    let mut w = header_signed();
    let many: Vec<String> = (0..65).map(|i| format!("h{i:02}")).collect();
    edit_auth(
        &mut w,
        "SignedHeaders=",
        &format!("SignedHeaders={};", many.join(";")),
    );
    assert_err(
        &err(&w),
        INCOMPLETE,
        "Too many signed headers: 69 (at most 64).",
    );
    let mut w = header_signed();
    w.add("X-Amz-Security-Token", &"t".repeat(16 * 1024 + 1));
    assert_err_contains(&err(&w), INCOMPLETE, "X-Amz-Security-Token is too long");
}

#[test]
fn signature_mismatch() {
    let mut w = header_signed();
    let a = w.get("authorization").unwrap();
    let flipped = format!(
        "{}{}",
        &a[..a.len() - 1],
        if a.ends_with('0') { '1' } else { '0' }
    );
    w.set("Authorization", &flipped);
    let e = err(&w);
    assert_err(&e, INVALID, MISMATCH);
    assert_eq!(e, SigV4Error::SignatureMismatch { presigned: false });
    // Not hex, uppercase hex, wrong length: all simply mismatch.
    for bad in ["zz", &a[a.len() - 64..].to_uppercase(), ""] {
        let mut w = header_signed();
        edit_auth(&mut w, &a[a.len() - 64..], bad);
        assert_err(&err(&w), INVALID, MISMATCH);
    }
    // Another secret.
    let w = signed(
        sm_request(),
        &coffer_sigv4::SigningParams {
            secret_access_key: "other",
            ..params(None)
        },
    );
    assert_err(&err(&w), INVALID, MISMATCH);
    // Presigned form.
    let mut w = presigned(sm_request(), &params(None), 60);
    w.body.push(b' ');
    assert_err(&err(&w), "SignatureDoesNotMatch", MISMATCH);
}

#[test]
fn time_window() {
    let w = header_signed();
    let at = |now: &str| Policy::new(parse_amz_date(now).unwrap(), SERVICE);
    check_with(&w, &at("20251106T134108Z")).unwrap();
    check_with(&w, &at("20251106T131108Z")).unwrap();
    let e = check_with(&w, &at("20251106T134109Z")).unwrap_err();
    assert_err(
        &e,
        INVALID,
        "Signature expired: 20251106T132608Z is now earlier than 20251106T132609Z (20251106T134109Z - 15 min.)",
    );
    assert!(e.is_time_error());
    let e = check_with(&w, &at("20251106T131107Z")).unwrap_err();
    assert_err(
        &e,
        INVALID,
        "Signature not yet current: 20251106T132608Z is still later than 20251106T132607Z (20251106T131107Z + 15 min.)",
    );
    // A 5-minute policy.
    let mut p = at("20251106T133200Z");
    p.max_skew_ms = 5 * 60 * 1000;
    assert_err(
        &check_with(&w, &p).unwrap_err(),
        INVALID,
        "Signature expired: 20251106T132608Z is now earlier than 20251106T132700Z (20251106T133200Z - 5 min.)",
    );
    // Extreme clocks do not overflow.
    for now in [i64::MIN, i64::MAX] {
        assert!(
            check_with(&w, &Policy::new(now, SERVICE))
                .unwrap_err()
                .is_time_error()
        );
    }
}

#[test]
fn presigned_time_window() {
    let w = presigned(sm_request(), &params(None), 3600);
    let at = |now: &str| Policy::new(parse_amz_date(now).unwrap(), SERVICE);
    check_with(&w, &at("20251106T142608Z")).unwrap();
    check_with(&w, &at("20251106T131108Z")).unwrap();
    assert_err(
        &check_with(&w, &at("20251106T142609Z")).unwrap_err(),
        INVALID,
        "Signature expired: 20251106T132608Z is now earlier than 20251106T132609Z (20251106T142609Z - 60 min.)",
    );
    assert_err_contains(
        &check_with(&w, &at("20251106T131107Z")).unwrap_err(),
        INVALID,
        "Signature not yet current: 20251106T132608Z is still later than",
    );
}

#[test]
fn presigned_parameters() {
    let w = presigned(sm_request(), &params(None), 60);
    let mut m = w.clone();
    m.query = m.query.replace("&X-Amz-Expires=60", "");
    assert_err(
        &err(&m),
        INCOMPLETE,
        "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters.",
    );
    let mut m = w.clone();
    m.query = m.query.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256&", "");
    m.query = m.query.replace("&X-Amz-Date=20251106T132608Z", "");
    assert_err(
        &err(&m),
        INCOMPLETE,
        "AWS query-string parameters must include 'X-Amz-Algorithm'. Re-examine the query-string parameters. \
         AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.",
    );
    for bad in ["0", "604801", "-1", "+5", "1e3", ""] {
        let mut m = w.clone();
        m.query = m
            .query
            .replace("X-Amz-Expires=60", &format!("X-Amz-Expires={bad}"));
        assert_err_contains(&err(&m), INCOMPLETE, "X-Amz-Expires must be");
    }
    let mut m = w.clone();
    m.query.push_str("&X-Amz-Date=20251106T132608Z");
    assert_err_contains(&err(&m), INCOMPLETE, "'X-Amz-Date' appears more than once");
    let mut p = policy();
    p.allow_presigned = false;
    assert_err_contains(&check_with(&w, &p).unwrap_err(), INCOMPLETE, "presigned");
}

#[test]
fn scope_errors() {
    let mut w = header_signed();
    edit_auth(&mut w, "/secretsmanager/", "/kms/");
    let e = err(&w);
    assert_err(
        &e,
        INVALID,
        "Credential should be scoped to correct service: 'secretsmanager'.",
    );
    assert!(e.is_scope_error());
    let mut w = header_signed();
    edit_auth(&mut w, "/20251106/", "/20251105/");
    assert_err(
        &err(&w),
        INVALID,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '20251105' != '20251106', from '20251106T132608Z'.",
    );
    let mut w = header_signed();
    edit_auth(&mut w, "/aws4_request", "/aws4_reqest");
    assert_err(
        &err(&w),
        INVALID,
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'.",
    );
    // The region is the caller's business.
    let w = signed(
        sm_request(),
        &coffer_sigv4::SigningParams {
            region: "mars-north-9",
            ..params(None)
        },
    );
    assert_eq!(check(&w).unwrap().region, "mars-north-9");
}

#[test]
fn signed_header_rules() {
    let cases = [
        (
            "content-type;host;x-amz-date;x-amz-target",
            "host;content-type;x-amz-date;x-amz-target",
            "SignedHeaders must be sorted and unique, but 'content-type' follows 'host'.",
        ),
        (
            "content-type;host;x-amz-date;x-amz-target",
            "content-type;host;host;x-amz-date;x-amz-target",
            "SignedHeaders must be sorted and unique, but 'host' follows 'host'.",
        ),
        (
            "content-type;host;",
            "Content-Type;host;",
            "SignedHeaders contains 'Content-Type', which is not a lowercase header name.",
        ),
        (
            "content-type;host;",
            "content-type;;host;",
            "SignedHeaders contains '', which is not a lowercase header name.",
        ),
        (
            "content-type;host;",
            "content-type;",
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            "content-type;host;",
            "content-type;host;user-agent;",
            "Header 'user-agent' is listed in SignedHeaders but is not present in the request.",
        ),
        (
            ";x-amz-target",
            "",
            "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.",
        ),
    ];
    for (from, to, msg) in cases {
        let mut w = header_signed();
        edit_auth(&mut w, from, to);
        assert_err(&err(&w), INVALID, msg);
    }
    // An unsigned x-amz-* header added after signing.
    let mut w = header_signed();
    w.add("X-Amz-User-Agent", "sneaky");
    assert_err(
        &err(&w),
        INVALID,
        "'x-amz-user-agent' must be a 'SignedHeader' in the AWS Authorization.",
    );
    // Unsigned non-amz headers are fine; header name case does not matter.
    let mut w = header_signed();
    w.add("User-Agent", "curl").add("X-Amzn-Trace-Id", "Root=1");
    for h in &mut w.headers {
        h.0 = h.0.to_uppercase();
    }
    check(&w).unwrap();
    // Presigned: x-amz-* headers must be signed too.
    let mut w = presigned(sm_request(), &params(None), 60);
    w.add("x-amz-meta", "v");
    assert_err_contains(&err(&w), INVALID, "'x-amz-meta' must be a 'SignedHeader'");
}

#[test]
fn content_sha256() {
    let body = br#"{"SecretId":"prod/db"}"#;
    let hash = hex::encode(ring::digest::digest(&ring::digest::SHA256, body));
    let mut w = sm_request();
    w.add("x-amz-content-sha256", &hash);
    check(&signed(w, &params(None))).unwrap();
    let msg = "The provided 'x-amz-content-sha256' header does not match what was computed.";
    for bad in [
        "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        &hash.to_uppercase(),
        &"0".repeat(64),
    ] {
        let mut w = sm_request();
        w.add("x-amz-content-sha256", bad);
        assert_err(&err(&signed(w, &params(None))), INVALID, msg);
    }
}

#[test]
fn session_tokens() {
    let w = signed(sm_request(), &params(Some("tok/en+==")));
    assert_eq!(
        check(&w).unwrap().session_token.as_deref(),
        Some("tok/en+==")
    );
    let w = presigned(sm_request(), &params(Some("tok/en+==")), 60);
    let p = check(&w).unwrap();
    assert_eq!(p.session_token.as_deref(), Some("tok/en+=="));
    assert!(!format!("{p:?}").contains("tok/en"));
    // A token added after signing is refused.
    let mut w = header_signed();
    w.add("X-Amz-Security-Token", "tok");
    assert_err(
        &err(&w),
        INVALID,
        "'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization.",
    );
    // Presigned with the token as a (signed) header.
    let mut base = sm_request();
    base.add("X-Amz-Security-Token", "hdr");
    let w = presigned(base, &params(None), 60);
    assert_eq!(check(&w).unwrap().session_token.as_deref(), Some("hdr"));
    let mut base = sm_request();
    base.add("X-Amz-Security-Token", "hdr");
    let w = presigned(base, &params(Some("q")), 60);
    assert_err_contains(
        &err(&w),
        INCOMPLETE,
        "both a query-string parameter and a header",
    );
    let mut w = header_signed();
    w.add("X-Amz-Security-Token", "a")
        .add("X-Amz-Security-Token", "b");
    assert_err_contains(&err(&w), INCOMPLETE, "Multiple 'x-amz-security-token'");
}

#[test]
fn messages_never_leak_secrets() {
    let w = header_signed();
    let key_hex = format!(
        "{:?}",
        coffer_sigv4::derive_signing_key(SECRET, "20251106", REGION, SERVICE)
    );
    assert_eq!(key_hex, "SigningKey(<redacted>)");
    let mut m = w.clone();
    m.body.push(b'x');
    let e = err(&m);
    for s in [e.to_string(), format!("{e:?}")] {
        assert!(!s.contains(SECRET));
    }
    w.with(|r| assert!(parse(r).is_ok()));
}

#[test]
fn signing_input_errors() {
    let mut w = sm_request();
    w.remove("host");
    let e = w
        .with(|r| coffer_sigv4::sign(r, &params(None)))
        .unwrap_err();
    assert!(e.to_string().contains("no 'host' header"), "{e}");
    let w = header_signed();
    assert!(w.with(|r| coffer_sigv4::sign(r, &params(None))).is_err());
    let w = sm_request();
    let bad = coffer_sigv4::SigningParams {
        amz_date: "2025-11-06",
        ..params(None)
    };
    assert!(w.with(|r| coffer_sigv4::sign(r, &bad)).is_err());
    assert!(
        w.with(|r| coffer_sigv4::presign(r, &params(None), 0))
            .is_err()
    );
    let w = presigned(sm_request(), &params(None), 60);
    assert!(
        w.with(|r| coffer_sigv4::presign(r, &params(None), 60))
            .is_err()
    );
}
