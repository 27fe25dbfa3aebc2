//! An independent signer (the AWS SDK's aws-sigv4) produces requests `verify` accepts.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use common::*;

const HOST: &str = "secretsmanager.us-east-1.amazonaws.com";

/// Signs with aws-sigv4; returns the wire request it describes.
fn aws_signed(path_and_query: &str, token: Option<&str>, presigned: bool) -> Wire {
    let identity: Identity =
        Credentials::new(AKID, SECRET, token.map(str::to_owned), None, "test").into();
    let mut settings = SigningSettings::default();
    if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(SERVICE)
        .time(UNIX_EPOCH + Duration::from_millis(u64::try_from(now()).unwrap()))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let body = br#"{"SecretId":"prod/db"}"#;
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "secretsmanager.GetSecretValue"),
        ("user-agent", "aws-sdk-rust/1.0"),
    ];
    let uri = format!("https://{HOST}{path_and_query}");
    let signable = SignableRequest::new(
        "POST",
        uri.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();

    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut w = Wire {
        method: "POST".into(),
        path: path.into(),
        query: query.into(),
        headers: Vec::new(),
        body: body.to_vec(),
    };
    w.add("Host", HOST);
    for (k, v) in headers {
        w.add(k, v);
    }
    for (k, v) in instructions.headers() {
        w.add(k, v);
    }
    let extra: Vec<String> = instructions
        .params()
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace('%', "%25")
                    .replace('/', "%2F")
                    .replace('+', "%2B")
                    .replace('=', "%3D")
                    .replace(';', "%3B")
            )
        })
        .collect();
    if !extra.is_empty() {
        let sep = if w.query.is_empty() { "" } else { "&" };
        w.query = format!("{}{sep}{}", w.query, extra.join("&"));
    }
    w
}

#[test]
fn aws_sigv4_header_form_is_accepted() {
    let w = aws_signed("/", None, false);
    let p = check(&w).unwrap();
    assert_eq!(
        p.signed_headers,
        ["content-type", "host", "x-amz-date", "x-amz-target"]
    );
    let w = aws_signed("/", Some("FwoGZXIvYXdzE+/token=="), false);
    let p = check(&w).unwrap();
    assert_eq!(p.session_token.as_deref(), Some("FwoGZXIvYXdzE+/token=="));
    // Tampering is still caught.
    let mut t = w.clone();
    t.set("x-amz-target", "secretsmanager.DeleteSecret");
    assert!(check(&t).is_err());
}

#[test]
fn aws_sigv4_double_encoded_paths_and_queries_match() {
    for pq in [
        "/x/arn%3Aaws%3Asecretsmanager/@y/",
        "/a/./b/../c",
        "/?b=2&a=%2F&a=1&empty=&sp=a%20b",
    ] {
        let w = aws_signed(pq, None, false);
        check(&w).unwrap_or_else(|e| panic!("{pq}: {e}"));
    }
}

#[test]
fn aws_sigv4_presigned_form_is_accepted() {
    let w = aws_signed("/", Some("tok/en+=="), true);
    let p = check(&w).unwrap();
    assert!(p.presigned);
    assert_eq!(p.expires_secs, Some(300));
    assert_eq!(p.session_token.as_deref(), Some("tok/en+=="));
}
