//! Harness for the end-to-end tests: runs the real `coffer` binary in a temporary data
//! directory on a free loopback port, and talks to it with the AWS SDK for Rust or with
//! raw SigV4-signed HTTP requests.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a server may take to start, or a readiness condition to become true.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Region used unless a test says otherwise.
pub const REGION: &str = "us-east-1";

/// The path of the `coffer` binary under test.
pub fn coffer_bin() -> &'static str {
    env!("CARGO_BIN_EXE_coffer")
}

/// Root credentials of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    /// Account id (empty when not printed).
    pub account_id: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    /// `--dev`.
    pub dev: bool,
    /// `--tls-cert` and `--tls-key`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// CA certificate (PEM) the test clients trust, for https.
    pub ca_pem: Option<Vec<u8>>,
    /// `--listen` (default `127.0.0.1:0`).
    pub listen: Option<String>,
    /// Further arguments.
    pub extra: Vec<String>,
}

impl Opts {
    /// `coffer serve --dev`.
    pub fn dev() -> Self {
        Self {
            dev: true,
            ..Self::default()
        }
    }
    /// `coffer serve` (production: starts sealed).
    pub fn prod() -> Self {
        Self::default()
    }
}

/// A running `coffer serve`; killed (and reaped) on drop.
pub struct Server {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Credentials printed at first start (dev mode), if any.
    pub creds: Option<Creds>,
    opts: Opts,
}

fn parse_kv(line: &str, key: &str) -> Option<String> {
    line.trim().strip_prefix(key).map(|v| v.trim().to_owned())
}

/// Parses `AWS_ACCESS_KEY_ID=` / `AWS_SECRET_ACCESS_KEY=` lines (and an account id in a line
/// saying "account NNNNNNNNNNNN") out of some command output.
pub fn parse_creds(text: &str) -> Option<Creds> {
    let mut akid = None;
    let mut secret = None;
    let mut account = String::new();
    for line in text.lines() {
        if let Some(v) = parse_kv(line, "AWS_ACCESS_KEY_ID=") {
            akid = Some(v);
        } else if let Some(v) = parse_kv(line, "AWS_SECRET_ACCESS_KEY=") {
            secret = Some(v);
        } else if let Some(id) = account_id_in(line) {
            account = id;
        }
    }
    Some(Creds {
        account_id: account,
        access_key_id: akid?,
        secret_access_key: secret?,
    })
}

fn account_id_in(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.windows(2).find_map(|w| {
        let id = w[1].trim_end_matches(':');
        (w[0].eq_ignore_ascii_case("account")
            && id.len() == 12
            && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.to_owned())
    })
}

impl Server {
    /// Starts a dev-mode server in a fresh temporary directory.
    pub async fn dev() -> Server {
        Self::start(Opts::dev()).await
    }

    /// Starts a server in a fresh temporary directory; panics (with the server log) on failure.
    pub async fn start(opts: Opts) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("coffer-e2e-")
            .tempdir()
            .expect("temp dir");
        Self::start_in(dir, opts).await
    }

    /// Starts a server whose data directory is `dir/data`.
    pub async fn start_in(dir: tempfile::TempDir, opts: Opts) -> Server {
        match Self::try_start_in(dir, opts).await {
            Ok(s) => s,
            Err((_, msg)) => panic!("{msg}"),
        }
    }

    /// Like [`Server::start_in`], but gives the directory back with an error message when
    /// the server exits or fails to come up.
    pub async fn try_start_in(
        dir: tempfile::TempDir,
        opts: Opts,
    ) -> Result<Server, (tempfile::TempDir, String)> {
        let data = dir.path().join("data");
        let log_path = dir.path().join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("server log file");
        let mut cmd = Command::new(coffer_bin());
        let listen = opts
            .listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:0".to_owned());
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&data)
            .arg("--listen")
            .arg(listen);
        if opts.dev {
            cmd.arg("--dev");
        }
        if let Some((cert, key)) = &opts.tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        cmd.args(&opts.extra);
        cmd.env("COFFER_LOG", "info,coffer_server=debug")
            .env_remove("COFFER_LISTEN")
            .env_remove("COFFER_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = cmd.spawn().expect("spawn coffer serve");
        let stdout = child.stdout.take().expect("stdout");

        // Read stdout on a thread (it blocks) and hand lines over; keep draining afterwards.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Once nobody listens, keep draining so the server never blocks on stdout.
                let _ = tx.send(line);
            }
        });

        let mut printed = String::new();
        let url = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = rx.recv().await {
                printed.push_str(&line);
                printed.push('\n');
                if let Some(u) = line.trim().strip_prefix("Coffer listening on ") {
                    // A wildcard address is reached through loopback.
                    return Some(u.trim().replace("://0.0.0.0:", "://127.0.0.1:"));
                }
            }
            None
        })
        .await;
        let url = match url {
            Ok(Some(u)) => u,
            other => {
                let _ = child.kill();
                let status = child.wait().ok();
                let why = if other.is_err() {
                    "timed out"
                } else {
                    "exited"
                };
                let msg = format!(
                    "coffer serve {why} before listening (status {status:?})\nstdout:\n{printed}\nlog:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
                return Err((dir, msg));
            }
        };
        let creds = parse_creds(&printed);
        let server = Server {
            child: Some(child),
            dir: Some(dir),
            url,
            creds,
            opts,
        };
        server.wait_until(|| async { true }).await;
        if server.opts.dev {
            server.wait_ready().await;
        }
        Ok(server)
    }

    /// The temporary directory (the data directory is `data/` inside it).
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("dir").path()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// Everything the server wrote to stderr so far (all starts in this directory).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("server.log")).unwrap_or_default()
    }

    /// Dev-mode root credentials.
    pub fn root(&self) -> Creds {
        self.creds
            .clone()
            .expect("the server printed no credentials")
    }

    /// `host:port` of the URL.
    pub fn host(&self) -> String {
        let u: reqwest::Url = self.url.parse().expect("url");
        format!(
            "{}:{}",
            u.host_str().expect("host"),
            u.port().expect("port")
        )
    }

    /// Kills the server and returns its directory (for a restart).
    pub fn stop(mut self) -> tempfile::TempDir {
        self.kill();
        self.dir.take().expect("dir")
    }

    /// Kills the server and starts it again on the same data directory with `opts`.
    pub async fn restart(self, opts: Opts) -> Server {
        let dir = self.stop();
        Server::start_in(dir, opts).await
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Polls `cond` every 50 ms until it holds; panics after [`START_TIMEOUT`] with the log.
    pub async fn wait_until<F, Fut>(&self, mut cond: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let http = self.http();
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            let alive = matches!(http.get(format!("{}/healthz", self.url)).send().await, Ok(r) if r.status() == 200);
            if alive && cond().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server at {} did not become ready; log:\n{}",
                self.url,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `/readyz` answers 200 (unsealed).
    pub async fn wait_ready(&self) {
        let url = format!("{}/readyz", self.url);
        let http = self.http();
        self.wait_until(|| {
            let req = http.get(&url);
            async move { matches!(req.send().await, Ok(r) if r.status() == 200) }
        })
        .await;
    }

    /// A reqwest client that trusts the server's test CA (if any).
    pub fn http(&self) -> reqwest::Client {
        http_client_with_ca(self.opts.ca_pem.as_deref())
    }

    /// An SDK client for `creds` in [`REGION`].
    pub fn client(&self, creds: &Creds) -> aws_sdk_secretsmanager::Client {
        self.client_in(creds, REGION)
    }

    /// An SDK client for `creds` in `region`.
    pub fn client_in(&self, creds: &Creds, region: &str) -> aws_sdk_secretsmanager::Client {
        sdk_client(&self.url, creds, region, self.opts.ca_pem.as_deref())
    }

    /// `GET` a sys endpoint, returning status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .http()
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `POST` JSON to a sys endpoint, returning status and JSON body.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .http()
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `GET /coffer/v1/sys/status`.
    pub async fn status(&self) -> serde_json::Value {
        let (code, v) = self.get_json("/coffer/v1/sys/status").await;
        assert_eq!(code, 200, "status: {v}");
        v
    }

    /// A signed AWS JSON 1.1 call (SigV4 via `coffer_sigv4::sign`).
    pub async fn call(&self, creds: &Creds, target: &str, body: &serde_json::Value) -> Reply {
        let payload = serde_json::to_vec(body).expect("json");
        let req = SignedRequest::new(self, creds, target, payload);
        req.send_with(&self.http()).await
    }

    /// Creates another (non-admin) account with `CofferAdmin.CreateAccount` signed by `admin`.
    pub async fn create_account(&self, admin: &Creds) -> Creds {
        let r = self
            .call(admin, "CofferAdmin.CreateAccount", &serde_json::json!({}))
            .await;
        assert_eq!(r.status, 200, "CreateAccount: {:?}", r.json);
        Creds {
            account_id: r.json["AccountId"].as_str().expect("AccountId").to_owned(),
            access_key_id: r.json["AccessKeyId"]
                .as_str()
                .expect("AccessKeyId")
                .to_owned(),
            secret_access_key: r.json["SecretAccessKey"]
                .as_str()
                .expect("SecretAccessKey")
                .to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plain reqwest client with a timeout.
pub fn http_client() -> reqwest::Client {
    http_client_with_ca(None)
}

/// A reqwest client with a timeout that trusts only `ca_pem` (if given) for https.
pub fn http_client_with_ca(ca_pem: Option<&[u8]>) -> reqwest::Client {
    let mut b = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if let Some(pem) = ca_pem {
        b = b
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(pem).expect("CA PEM"));
    }
    b.build().expect("reqwest client")
}

/// An SDK client for `creds` in `region` at `url`; `ca_pem` adds a trusted CA (https).
/// Retries are off so every error reaches the test as the server sent it.
pub fn sdk_client(
    url: &str,
    creds: &Creds,
    region: &str,
    ca_pem: Option<&[u8]>,
) -> aws_sdk_secretsmanager::Client {
    let mut trust = tls::TrustStore::empty().with_native_roots(false);
    if let Some(pem) = ca_pem {
        trust = trust.with_pem_certificate(pem.to_vec());
    }
    let ctx = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("tls context");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(ctx)
        .build_https();
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            creds.access_key_id.clone(),
            creds.secret_access_key.clone(),
            None,
            None,
            "coffer-e2e",
        ))
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .http_client(http)
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

/// The AWS error code of an SDK error (modeled or not).
pub fn code<E, R>(e: &aws_sdk_secretsmanager::error::SdkError<E, R>) -> String
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    e.code()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("<no code: {e:?}>"))
}

/// The error message of an SDK error.
pub fn message<E, R>(e: &aws_sdk_secretsmanager::error::SdkError<E, R>) -> String
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata,
{
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    e.message().unwrap_or_default().to_owned()
}

/// Asserts that `r` failed with AWS error `expected`; returns the message.
#[track_caller]
pub fn expect_err<T: std::fmt::Debug, E, R>(
    r: Result<T, aws_sdk_secretsmanager::error::SdkError<E, R>>,
    expected: &str,
) -> String
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match r {
        Ok(v) => panic!("expected {expected}, got success: {v:?}"),
        Err(e) => {
            assert_eq!(code(&e), expected, "wrong error: {e:?}");
            message(&e)
        }
    }
}

/// A unique secret name with the given prefix.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos:09}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// An answer to a raw request.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Raw body.
    pub body: Vec<u8>,
    /// Body parsed as JSON (Null if it is not JSON).
    pub json: serde_json::Value,
}

impl Reply {
    async fn from(r: reqwest::Response) -> Reply {
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

    /// `__type` of an error body.
    pub fn error_type(&self) -> &str {
        self.json["__type"].as_str().unwrap_or("")
    }

    /// `message` of an error body.
    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }

    /// Asserts the AWS error shape: status, `{"__type","message"}` body, `x-amzn-errortype`
    /// and `x-amzn-requestid` headers.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert_eq!(self.error_type(), code, "__type of {self:?}");
        assert!(!self.message().is_empty(), "message of {self:?}");
        let obj = self.json.as_object().expect("object body");
        assert_eq!(
            obj.len(),
            2,
            "body has exactly __type and message: {self:?}"
        );
        assert_eq!(
            self.headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok()),
            Some(code),
            "x-amzn-errortype of {self:?}"
        );
        let rid = self
            .headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(!rid.is_empty(), "x-amzn-requestid of {self:?}");
    }
}

/// A raw AWS JSON 1.1 request, signed with `coffer_sigv4::sign`; fields may be changed
/// after signing to build broken requests.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// Base URL.
    pub url: String,
    /// Query string (without `?`).
    pub query: String,
    /// Headers to send (host is set by reqwest from the URL).
    pub headers: Vec<(String, String)>,
    /// Body to send.
    pub body: Vec<u8>,
}

/// Signing inputs for [`SignedRequest::signed`].
pub struct Signing<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret.
    pub secret_access_key: &'a str,
    /// Region.
    pub region: &'a str,
    /// Service of the credential scope (`secretsmanager`).
    pub service: &'a str,
    /// `X-Amz-Date` as epoch milliseconds.
    pub at_ms: i64,
}

impl SignedRequest {
    /// A request for `target` signed now with `creds` in [`REGION`].
    pub fn new(server: &Server, creds: &Creds, target: &str, body: Vec<u8>) -> Self {
        Self::signed(
            &server.url,
            &server.host(),
            &Signing {
                access_key_id: &creds.access_key_id,
                secret_access_key: &creds.secret_access_key,
                region: REGION,
                service: "secretsmanager",
                at_ms: now_ms(),
            },
            Some(target),
            body,
        )
    }

    /// A request signed with explicit inputs; `target` None sends no `x-amz-target`.
    pub fn signed(
        url: &str,
        host: &str,
        s: &Signing<'_>,
        target: Option<&str>,
        body: Vec<u8>,
    ) -> Self {
        let amz_date = coffer_sigv4::format_amz_date(s.at_ms);
        let mut base: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", b"application/x-amz-json-1.1"),
        ];
        if let Some(t) = target {
            base.push(("x-amz-target", t.as_bytes()));
        }
        let req = coffer_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &base,
            body: &body,
        };
        let params = coffer_sigv4::SigningParams {
            access_key_id: s.access_key_id,
            secret_access_key: s.secret_access_key,
            region: s.region,
            service: s.service,
            amz_date: &amz_date,
            ..Default::default()
        };
        let signed = coffer_sigv4::sign(&req, &params).expect("sign");
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        )];
        if let Some(t) = target {
            headers.push(("x-amz-target".to_owned(), t.to_owned()));
        }
        for (k, v) in signed.headers() {
            headers.push((k.to_owned(), v.to_owned()));
        }
        SignedRequest {
            url: url.to_owned(),
            query: String::new(),
            headers,
            body,
        }
    }

    /// Sets (replacing) or adds a header.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    /// Removes a header.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sends it with a fresh client.
    pub async fn send(&self) -> Reply {
        self.send_with(&http_client()).await
    }

    /// Sends it with `client`.
    pub async fn send_with(&self, client: &reqwest::Client) -> Reply {
        let mut url = format!("{}/", self.url.trim_end_matches('/'));
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(&self.query);
        }
        let mut b = client.post(url).body(self.body.clone());
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        Reply::from(b.send().await.expect("send")).await
    }
}

/// Runs the `coffer` binary with `args` (and extra environment), returning
/// (success, stdout, stderr).
pub async fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    run_cli_input(args, env, None).await
}

/// [`run_cli`] with `input` on standard input.
pub async fn run_cli_input(
    args: &[&str],
    env: &[(&str, &str)],
    input: Option<&str>,
) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(coffer_bin());
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "COFFER_ENDPOINT",
        "COFFER_CA_CERT",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run coffer CLI");
    if let Some(text) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).await.expect("write stdin");
        drop(stdin);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("coffer CLI timed out")
        .expect("coffer CLI output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
