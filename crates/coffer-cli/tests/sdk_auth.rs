//! Authentication and protocol errors, with raw HTTP requests signed by `coffer_sigv4`
//! against a real `coffer serve --dev` process.

mod common;

use common::{
    Creds, REGION, Reply, Server, SignedRequest, Signing, expect_err, http_client, now_ms, unique,
};
use serde_json::json;

const LIST: &str = "secretsmanager.ListSecrets";

fn signing<'a>(c: &'a Creds, at_ms: i64) -> Signing<'a> {
    Signing {
        access_key_id: &c.access_key_id,
        secret_access_key: &c.secret_access_key,
        region: REGION,
        service: "secretsmanager",
        at_ms,
    }
}

fn list_body() -> Vec<u8> {
    b"{}".to_vec()
}

/// An unsigned request with the AWS JSON 1.1 headers.
async fn unsigned(s: &Server, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let mut b = http_client()
        .post(format!("{}/", s.url))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", LIST);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let r = b.body(body).send().await.expect("send");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.expect("body").to_vec();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Reply {
        status,
        headers,
        body,
        json,
    }
}

#[tokio::test]
async fn a_correctly_signed_request_succeeds() {
    let s = Server::dev().await;
    let root = s.root();
    let name = unique("raw");
    let r = s
        .call(
            &root,
            "secretsmanager.CreateSecret",
            &json!({"Name": name, "SecretString": "v"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let prefix = format!(
        "arn:aws:secretsmanager:{REGION}:{}:secret:{name}-",
        root.account_id
    );
    assert!(
        r.json["ARN"]
            .as_str()
            .is_some_and(|a| a.starts_with(&prefix)),
        "{r:?}"
    );
    assert_eq!(r.json["Name"], name.as_str());
    assert!(r.headers.get("x-amzn-requestid").is_some());
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/x-amz-json-1.1")
    );
    let r = s
        .call(
            &root,
            "secretsmanager.GetSecretValue",
            &json!({"SecretId": name}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["SecretString"], "v");
    assert_eq!(r.json["VersionStages"], json!(["AWSCURRENT"]));
}

#[tokio::test]
async fn missing_authentication() {
    let s = Server::dev().await;
    let r = unsigned(&s, &[], list_body()).await;
    r.assert_error(400, "MissingAuthenticationTokenException");
    // Only a date, no Authorization.
    let r = unsigned(
        &s,
        &[("x-amz-date", &coffer_sigv4::format_amz_date(now_ms()))],
        list_body(),
    )
    .await;
    r.assert_error(400, "MissingAuthenticationTokenException");
}

#[tokio::test]
async fn malformed_authorization_header() {
    let s = Server::dev().await;
    let date = coffer_sigv4::format_amz_date(now_ms());
    for bad in [
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/secretsmanager/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abcd",
        "AWS4-HMAC-SHA256",
        "Bearer abc",
    ] {
        let r = unsigned(
            &s,
            &[("x-amz-date", &date), ("authorization", bad)],
            list_body(),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}: {r:?}");
        assert_eq!(
            r.error_type(),
            "IncompleteSignatureException",
            "{bad}: {r:?}"
        );
        r.assert_error(400, "IncompleteSignatureException");
    }
    // A well-formed header without X-Amz-Date.
    let root = s.root();
    let mut req = SignedRequest::new(&s, &root, LIST, list_body());
    req.remove_header("x-amz-date");
    let r = req.send().await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        [
            "IncompleteSignatureException",
            "MissingAuthenticationTokenException"
        ]
        .contains(&r.error_type()),
        "{r:?}"
    );
    r.assert_error(400, r.error_type());
}

#[tokio::test]
async fn wrong_secret_key() {
    let s = Server::dev().await;
    let mut creds = s.root();
    creds.secret_access_key.push('x');
    let r = SignedRequest::new(&s, &creds, LIST, list_body())
        .send()
        .await;
    r.assert_error(400, "InvalidSignatureException");
    assert!(r.message().contains("signature"), "{r:?}");
    assert!(!r.message().contains(&creds.secret_access_key));
    // The SDK sees the same.
    let c = s.client(&creds);
    expect_err(c.list_secrets().send().await, "InvalidSignatureException");
}

#[tokio::test]
async fn unknown_access_key() {
    let s = Server::dev().await;
    let creds = Creds {
        account_id: String::new(),
        access_key_id: "AKIAUNKNOWNKEY000000".into(),
        secret_access_key: "whatever".into(),
    };
    let r = SignedRequest::new(&s, &creds, LIST, list_body())
        .send()
        .await;
    r.assert_error(400, "UnrecognizedClientException");
    expect_err(
        s.client(&creds).list_secrets().send().await,
        "UnrecognizedClientException",
    );
}

#[tokio::test]
async fn stale_and_future_dates() {
    let s = Server::dev().await;
    let root = s.root();
    let old = now_ms() - 20 * 60 * 1000;
    let r = SignedRequest::signed(
        &s.url,
        &s.host(),
        &signing(&root, old),
        Some(LIST),
        list_body(),
    )
    .send()
    .await;
    r.assert_error(400, "InvalidSignatureException");
    assert!(r.message().contains("Signature expired"), "{r:?}");

    let future = now_ms() + 20 * 60 * 1000;
    let r = SignedRequest::signed(
        &s.url,
        &s.host(),
        &signing(&root, future),
        Some(LIST),
        list_body(),
    )
    .send()
    .await;
    r.assert_error(400, "InvalidSignatureException");
    assert!(r.message().contains("not yet current"), "{r:?}");

    // Within the allowed skew (5 minutes old) is fine.
    let recent = now_ms() - 5 * 60 * 1000;
    let r = SignedRequest::signed(
        &s.url,
        &s.host(),
        &signing(&root, recent),
        Some(LIST),
        list_body(),
    )
    .send()
    .await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn body_changed_after_signing() {
    let s = Server::dev().await;
    let root = s.root();
    let mut req = SignedRequest::new(&s, &root, LIST, b"{\"MaxResults\": 1}".to_vec());
    req.body = b"{\"MaxResults\": 2}".to_vec();
    req.send()
        .await
        .assert_error(400, "InvalidSignatureException");
    // Changing a signed header too.
    let mut req = SignedRequest::new(&s, &root, LIST, list_body());
    req.set_header("x-amz-target", "secretsmanager.DescribeSecret");
    req.send()
        .await
        .assert_error(400, "InvalidSignatureException");
}

#[tokio::test]
async fn unsigned_target_header_is_rejected() {
    let s = Server::dev().await;
    let root = s.root();
    // Signed without x-amz-target, then the header is added.
    let mut req = SignedRequest::signed(
        &s.url,
        &s.host(),
        &signing(&root, now_ms()),
        None,
        list_body(),
    );
    req.set_header("x-amz-target", LIST);
    let r = req.send().await;
    r.assert_error(400, "InvalidSignatureException");
    assert!(r.message().contains("x-amz-target"), "{r:?}");
    // And any other unsigned x-amz-* header.
    let mut req = SignedRequest::new(&s, &root, LIST, list_body());
    req.set_header("x-amz-extra", "1");
    req.send()
        .await
        .assert_error(400, "InvalidSignatureException");
}

#[tokio::test]
async fn wrong_scope() {
    let s = Server::dev().await;
    let root = s.root();
    let mut sig = signing(&root, now_ms());
    sig.service = "s3";
    let r = SignedRequest::signed(&s.url, &s.host(), &sig, Some(LIST), list_body())
        .send()
        .await;
    r.assert_error(400, "InvalidSignatureException");
    assert!(r.message().contains("secretsmanager"), "{r:?}");
    let mut sig = signing(&root, now_ms());
    sig.region = "NOT_A_REGION";
    SignedRequest::signed(&s.url, &s.host(), &sig, Some(LIST), list_body())
        .send()
        .await
        .assert_error(400, "InvalidSignatureException");
}

#[tokio::test]
async fn presigned_query_form_is_accepted() {
    let s = Server::dev().await;
    let root = s.root();
    let name = unique("presigned");
    s.client(&root)
        .create_secret()
        .name(&name)
        .secret_string("p")
        .send()
        .await
        .unwrap();
    let host = s.host();
    let body = serde_json::to_vec(&json!({"SecretId": name})).unwrap();
    let target = "secretsmanager.GetSecretValue";
    let headers: Vec<(&str, &[u8])> = vec![
        ("host", host.as_bytes()),
        ("content-type", b"application/x-amz-json-1.1"),
        ("x-amz-target", target.as_bytes()),
    ];
    let amz_date = coffer_sigv4::format_amz_date(now_ms());
    let presign = |secret: &str| {
        let req = coffer_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
        };
        let params = coffer_sigv4::SigningParams {
            access_key_id: &root.access_key_id,
            secret_access_key: secret,
            region: REGION,
            service: "secretsmanager",
            amz_date: &amz_date,
            ..Default::default()
        };
        coffer_sigv4::presign(&req, &params, 300).expect("presign")
    };
    let query = presign(&root.secret_access_key);
    assert!(query.contains("X-Amz-Signature="));
    let req = SignedRequest {
        url: s.url.clone(),
        query,
        headers: vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), target.into()),
        ],
        body: body.clone(),
    };
    let r = req.send().await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["SecretString"], "p");

    // A presigned request with a bad signature.
    let bad = SignedRequest {
        query: presign("wrong-secret"),
        ..req.clone()
    };
    let r = bad.send().await;
    assert!(r.status == 403 || r.status == 400, "{r:?}");
    assert!(
        ["SignatureDoesNotMatch", "InvalidSignatureException"].contains(&r.error_type()),
        "{r:?}"
    );
    r.assert_error(r.status, r.error_type());
    // A presigned request whose body was changed.
    let changed = SignedRequest {
        body: b"{\"SecretId\":\"other\"}".to_vec(),
        ..req
    };
    let r = changed.send().await;
    assert!(r.status == 403 || r.status == 400, "{r:?}");
}

#[tokio::test]
async fn presigned_expiry_and_disabled_presigning() {
    let s = Server::dev().await;
    let root = s.root();
    let presigned = |s: &Server, at_ms: i64, expires: u64| {
        let host = s.host();
        let body = b"{}".to_vec();
        let headers: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", b"application/x-amz-json-1.1"),
            ("x-amz-target", LIST.as_bytes()),
        ];
        let amz_date = coffer_sigv4::format_amz_date(at_ms);
        let req = coffer_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
        };
        let params = coffer_sigv4::SigningParams {
            access_key_id: &root.access_key_id,
            secret_access_key: &root.secret_access_key,
            region: REGION,
            service: "secretsmanager",
            amz_date: &amz_date,
            ..Default::default()
        };
        SignedRequest {
            url: s.url.clone(),
            query: coffer_sigv4::presign(&req, &params, expires).expect("presign"),
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.1".into()),
                ("x-amz-target".into(), LIST.into()),
            ],
            body,
        }
    };
    assert_eq!(presigned(&s, now_ms(), 60).send().await.status, 200);
    // Signed 10 minutes ago, valid for 60 seconds.
    let r = presigned(&s, now_ms() - 10 * 60 * 1000, 60).send().await;
    r.assert_error(400, "InvalidSignatureException");
    assert!(r.message().contains("expired"), "{r:?}");
    // Signed 10 minutes ago, valid for an hour.
    assert_eq!(
        presigned(&s, now_ms() - 10 * 60 * 1000, 3600)
            .send()
            .await
            .status,
        200
    );

    // A server started with --no-presigned refuses the query form but not headers.
    let dir = s.stop();
    let s = Server::start_in(
        dir,
        common::Opts {
            extra: vec!["--no-presigned".into()],
            ..common::Opts::dev()
        },
    )
    .await;
    let r = presigned(&s, now_ms(), 60).send().await;
    r.assert_error(400, "IncompleteSignatureException");
    assert!(r.message().contains("resigned"), "{r:?}");
    assert_eq!(s.call(&root, LIST, &json!({})).await.status, 200);
}

#[tokio::test]
async fn session_tokens_and_regions() {
    // Only us-east-1 and eu-west-1 are allowed on this server.
    let s = Server::start(common::Opts {
        extra: vec!["--region".into(), "us-east-1,eu-west-1".into()],
        ..common::Opts::dev()
    })
    .await;
    let root = s.root();
    s.client_in(&root, "eu-west-1")
        .list_secrets()
        .send()
        .await
        .expect("allowed region");
    let m = expect_err(
        s.client_in(&root, "ap-south-1").list_secrets().send().await,
        "InvalidSignatureException",
    );
    assert!(m.contains("ap-south-1"), "{m}");
    // No temporary credentials exist, so no session token is valid.
    let creds = aws_sdk_secretsmanager::config::Credentials::new(
        root.access_key_id.clone(),
        root.secret_access_key.clone(),
        Some("FwoGZXIvYXdzEBYaDFAKE".into()),
        None,
        "session",
    );
    let conf = s
        .client(&root)
        .config()
        .to_builder()
        .credentials_provider(creds)
        .build();
    let c = aws_sdk_secretsmanager::Client::from_conf(conf);
    expect_err(c.list_secrets().send().await, "UnrecognizedClientException");
}

#[tokio::test]
async fn http2_cleartext_and_duplicate_headers() {
    let s = Server::dev().await;
    let root = s.root();
    // HTTP/2 with prior knowledge: no Host header, only :authority.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = SignedRequest::new(&s, &root, LIST, list_body())
        .send_with(&h2)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json, json!({"SecretList": []}));
    // Two X-Amz-Date headers are ambiguous.
    let req = SignedRequest::new(&s, &root, LIST, list_body());
    let mut b = http_client()
        .post(format!("{}/", s.url))
        .body(req.body.clone());
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    let date = req.header("x-amz-date").unwrap().to_owned();
    let resp = b.header("x-amz-date", date).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert!(
        ["IncompleteSignatureException", "InvalidSignatureException"]
            .contains(&v["__type"].as_str().unwrap_or("")),
        "{v}"
    );
    // GET / explains itself.
    let text = http_client()
        .get(format!("{}/", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("Secrets Manager"), "{text}");
}

#[tokio::test]
async fn unknown_and_unimplemented_operations() {
    let s = Server::dev().await;
    let root = s.root();
    let r = s.call(&root, "secretsmanager.Frobnicate", &json!({})).await;
    r.assert_error(400, "UnknownOperationException");
    let r = s.call(&root, "kms.ListKeys", &json!({})).await;
    r.assert_error(400, "UnknownOperationException");
    let r = s.call(&root, "CofferAdmin.Frobnicate", &json!({})).await;
    r.assert_error(400, "UnknownOperationException");

    let name = unique("rot");
    s.client(&root)
        .create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let r = s
        .call(
            &root,
            "secretsmanager.RotateSecret",
            &json!({"SecretId": name}),
        )
        .await;
    r.assert_error(400, "InvalidRequestException");
    assert!(
        r.message().contains("RotateSecret") && r.message().contains("not available"),
        "{r:?}"
    );
    // Through the SDK as well.
    let m = expect_err(
        s.client(&root)
            .rotate_secret()
            .secret_id(&name)
            .send()
            .await,
        "InvalidRequestException",
    );
    assert!(m.contains("RotateSecret"), "{m}");
    let r = s
        .call(
            &root,
            "secretsmanager.CancelRotateSecret",
            &json!({"SecretId": name}),
        )
        .await;
    r.assert_error(400, "InvalidRequestException");

    // Unknown paths.
    let resp = http_client()
        .get(format!("{}/no/such/path", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok()),
        Some("UnknownOperationException")
    );
}

#[tokio::test]
async fn malformed_json_body() {
    let s = Server::dev().await;
    let root = s.root();
    for body in [
        &b"{\"Name\": "[..],
        b"not json",
        b"[1,2,3]",
        b"{\"Name\": 5}",
        b"{\"MaxResults\": \"ten\"}",
    ] {
        let target = if body.starts_with(b"{\"MaxResults") {
            LIST
        } else {
            "secretsmanager.CreateSecret"
        };
        let r = SignedRequest::new(&s, &root, target, body.to_vec())
            .send()
            .await;
        assert_eq!(
            r.error_type(),
            "SerializationException",
            "{}: {r:?}",
            String::from_utf8_lossy(body)
        );
        r.assert_error(400, "SerializationException");
    }
    // An empty body is an empty input.
    let r = SignedRequest::new(&s, &root, LIST, Vec::new()).send().await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn oversized_body() {
    let s = Server::dev().await;
    let root = s.root();
    let mut body = b"{\"Name\":\"x\",\"SecretString\":\"".to_vec();
    body.resize(256 * 1024 + 1 - 2, b'a');
    body.extend_from_slice(b"\"}");
    assert_eq!(body.len(), 256 * 1024 + 1);
    let r = SignedRequest::new(&s, &root, "secretsmanager.CreateSecret", body)
        .send()
        .await;
    r.assert_error(413, "RequestEntityTooLargeException");
    // Exactly at the limit the body is read (and the value is then too long).
    let mut body = b"{\"Name\":\"x\",\"SecretString\":\"".to_vec();
    body.resize(256 * 1024 - 2, b'a');
    body.extend_from_slice(b"\"}");
    let r = SignedRequest::new(&s, &root, "secretsmanager.CreateSecret", body)
        .send()
        .await;
    r.assert_error(400, "InvalidParameterException");
}

#[tokio::test]
async fn admin_operations_need_an_admin_account() {
    let s = Server::dev().await;
    let root = s.root();
    let b = s.create_account(&root).await;
    let r = s.call(&b, "CofferAdmin.CreateAccount", &json!({})).await;
    r.assert_error(400, "AccessDeniedException");
    assert!(r.message().contains(&b.account_id), "{r:?}");
    let r = s.call(&b, "CofferAdmin.Seal", &json!({})).await;
    r.assert_error(400, "AccessDeniedException");
    // The server is still unsealed and B's key works for the normal API.
    assert_eq!(s.status().await["sealed"], false);
    let r = s.call(&b, LIST, &json!({})).await;
    assert_eq!(r.status, 200, "{r:?}");
    // The admin can create more accounts; each gets a distinct id and key.
    let c = s.create_account(&root).await;
    assert_ne!(b.account_id, c.account_id);
    assert_ne!(b.access_key_id, c.access_key_id);
}

#[tokio::test]
async fn account_create_via_cli() {
    let s = Server::dev().await;
    let root = s.root();
    let (ok, out, err) = common::run_cli(
        &["account", "create", "--endpoint", &s.url],
        &[
            ("AWS_ACCESS_KEY_ID", &root.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &root.secret_access_key),
        ],
    )
    .await;
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    let b = common::parse_creds(&out).expect("credentials in output");
    assert_eq!(b.account_id.len(), 12, "{out}");
    assert_ne!(b.account_id, root.account_id);
    let c = s.client(&b);
    c.create_secret()
        .name(unique("cli-acct"))
        .secret_string("v")
        .send()
        .await
        .expect("new account works");
    // Without credentials the CLI fails clearly.
    let (ok, _, err) = common::run_cli(&["account", "create", "--endpoint", &s.url], &[]).await;
    assert!(!ok);
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    // With a non-admin key it reports the server's error.
    let (ok, _, err) = common::run_cli(
        &["account", "create", "--endpoint", &s.url],
        &[
            ("AWS_ACCESS_KEY_ID", &b.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &b.secret_access_key),
        ],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("AccessDeniedException"), "{err}");
}

#[tokio::test]
async fn server_log_records_failures_without_secrets() {
    let s = Server::dev().await;
    let root = s.root();
    let name = unique("logged");
    let value = "super-secret-value-0123456789";
    s.client(&root)
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    s.client(&root)
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let log = s.log();
    assert!(log.contains("listening"), "{log}");
    assert!(
        !log.contains(value),
        "the log must not contain secret values"
    );
    assert!(
        !log.contains(&root.secret_access_key),
        "the log must not contain secret keys"
    );
}
