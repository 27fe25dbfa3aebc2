//! TLS: a test CA and server certificate made with rcgen, `coffer serve --tls-cert/--tls-key`,
//! and clients (reqwest, the AWS SDK, the coffer CLI) that trust only that CA. Also the refusal
//! to serve plain HTTP on a non-loopback address.

mod common;

use common::{Opts, Server, SignedRequest, http_client_with_ca, run_cli, unique};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::path::{Path, PathBuf};

struct Pki {
    ca_pem: Vec<u8>,
    ca_path: PathBuf,
    cert_path: PathBuf,
    key_path: PathBuf,
}

/// Writes a CA certificate and a server certificate for 127.0.0.1/localhost into `dir`.
fn make_pki(dir: &Path, ca_name: &str) -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().expect("ip")));
    params
        .distinguished_name
        .push(DnType::CommonName, "coffer test server");
    let cert = params.signed_by(&key, &issuer).expect("server cert");

    std::fs::create_dir_all(dir).expect("pki dir");
    let ca_path = dir.join("ca.pem");
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server.key");
    std::fs::write(&ca_path, ca_cert.pem()).expect("write CA");
    // The chain: leaf then CA.
    std::fs::write(&cert_path, format!("{}{}", cert.pem(), ca_cert.pem())).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    Pki {
        ca_pem: ca_cert.pem().into_bytes(),
        ca_path,
        cert_path,
        key_path,
    }
}

async fn tls_server() -> (Server, Pki, tempfile::TempDir) {
    let pki_dir = tempfile::tempdir().expect("pki dir");
    let pki = make_pki(pki_dir.path(), "Coffer Test CA");
    let opts = Opts {
        dev: true,
        tls: Some((pki.cert_path.clone(), pki.key_path.clone())),
        ca_pem: Some(pki.ca_pem.clone()),
        ..Opts::default()
    };
    (Server::start(opts).await, pki, pki_dir)
}

#[tokio::test]
async fn https_with_reqwest_sdk_and_cli() {
    let (s, pki, _pki_dir) = tls_server().await;
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let root = s.root();

    // reqwest trusting the test CA: health, then a signed request (over HTTP/2 via ALPN).
    let http = s.http();
    let r = http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .expect("https GET");
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_2, "ALPN should pick h2");
    let name = unique("tls");
    let body =
        serde_json::to_vec(&serde_json::json!({"Name": name, "SecretString": "over tls"})).unwrap();
    let reply = SignedRequest::new(&s, &root, "secretsmanager.CreateSecret", body)
        .send_with(&http)
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json["Name"], name.as_str());

    // HTTP/1.1 works too.
    let h1 = reqwest::Client::builder()
        .http1_only()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pki.ca_pem).unwrap())
        .build()
        .unwrap();
    let body = serde_json::to_vec(&serde_json::json!({"SecretId": name})).unwrap();
    let reply = SignedRequest::new(&s, &root, "secretsmanager.GetSecretValue", body)
        .send_with(&h1)
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json["SecretString"], "over tls");

    // The AWS SDK over TLS.
    let c = s.client(&root);
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("SDK over https");
    assert_eq!(g.secret_string(), Some("over tls"));
    c.put_secret_value()
        .secret_id(&name)
        .secret_string("v2")
        .send()
        .await
        .expect("SDK put");

    // The CLI with --ca-cert.
    let ca = pki.ca_path.to_str().unwrap();
    let (ok, out, err) = run_cli(
        &["operator", "status", "--endpoint", &s.url, "--ca-cert", ca],
        &[],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("sealed:      false"), "{out}");
    let env = [
        ("AWS_ACCESS_KEY_ID", root.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", root.secret_access_key.as_str()),
        ("COFFER_CA_CERT", ca),
    ];
    let (ok, out, err) = run_cli(&["account", "create", "--endpoint", &s.url], &env).await;
    assert!(ok, "{out}{err}");
    assert!(common::parse_creds(&out).is_some(), "{out}");
}

#[tokio::test]
async fn untrusted_and_plaintext_clients_fail() {
    let (s, _pki, _pki_dir) = tls_server().await;
    // A client that does not trust the CA.
    let other_dir = tempfile::tempdir().unwrap();
    let other = make_pki(other_dir.path(), "Some Other CA");
    let r = http_client_with_ca(Some(&other.ca_pem))
        .get(format!("{}/healthz", s.url))
        .send()
        .await;
    assert!(
        r.is_err(),
        "an untrusted certificate must be refused: {r:?}"
    );
    let (ok, _, _) = run_cli(
        &[
            "operator",
            "status",
            "--endpoint",
            &s.url,
            "--ca-cert",
            other.ca_path.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(!ok);
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = s.url.replacen("https://", "http://", 1);
    let r = common::http_client()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(
        r.is_err() || r.is_ok_and(|r| r.status() != 200),
        "plain HTTP must not be served"
    );
    // The server is still fine afterwards.
    let r = s
        .http()
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .expect("still serving");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn plain_http_on_a_non_loopback_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let (ok, out, err) = run_cli(
        &[
            "serve",
            "--dev",
            "--data-dir",
            data_s,
            "--listen",
            "0.0.0.0:0",
        ],
        &[],
    )
    .await;
    assert!(!ok, "must exit non-zero\nstdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("refusing to serve plain HTTP"), "{err}");
    assert!(
        err.contains("--allow-plain-http") && err.contains("--tls-cert"),
        "the message names the ways out: {err}"
    );
    assert!(!data.exists(), "nothing is created before the check");
    // Also through the environment.
    let (ok, _, err) = run_cli(
        &["serve", "--dev", "--data-dir", data_s],
        &[("COFFER_LISTEN", "0.0.0.0:0")],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("refusing to serve plain HTTP"), "{err}");

    // --tls-cert without --tls-key is a usage error.
    let (ok, _, err) = run_cli(
        &[
            "serve",
            "--dev",
            "--data-dir",
            data_s,
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "/nonexistent.pem",
        ],
        &[],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("--tls-key"), "{err}");
    // Unreadable certificate files.
    let (ok, _, err) = run_cli(
        &[
            "serve",
            "--dev",
            "--data-dir",
            data_s,
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ],
        &[],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
}

#[tokio::test]
async fn allow_plain_http_overrides_the_refusal() {
    let opts = Opts {
        dev: true,
        listen: Some("0.0.0.0:0".to_owned()),
        extra: vec!["--allow-plain-http".to_owned()],
        ..Opts::default()
    };
    let s = Server::start(opts).await;
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.url);
    let root = s.root();
    let c = s.client(&root);
    let name = unique("plain");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .expect("create");
    assert_eq!(
        c.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("v")
    );
}
