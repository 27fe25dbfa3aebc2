//! Harness shared by `crash.rs` and `canary.rs`: runs `coffer serve --dev` as a child
//! process (so it can be SIGKILLed), and sends SigV4-signed AWS JSON 1.1 requests with
//! `reqwest` + `coffer-sigv4` (no AWS SDK).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long to wait for the server to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait for the server to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The root access key printed on the first start of a dev data directory.
#[derive(Clone, Debug)]
pub struct Creds {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// A running `coffer serve --dev` child process.
pub struct Server {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Credentials, if this start printed them (first start of the data directory).
    pub creds: Option<Creds>,
    /// Everything the server wrote to stdout.
    pub stdout: Arc<Mutex<Vec<u8>>>,
    /// Everything the server wrote to stderr.
    pub stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    exited: bool,
}

impl Server {
    /// Starts the server on `data_dir` (port chosen by the OS) with `COFFER_LOG=log`.
    pub fn start(data_dir: &Path, log: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coffer"))
            .arg("serve")
            .arg("--dev")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("COFFER_LOG", log)
            .env("COFFER_LOG_FORMAT", "text")
            .env_remove("COFFER_REGIONS")
            .env_remove("COFFER_TLS_CERT")
            .env_remove("COFFER_TLS_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning coffer");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let out_buf = Arc::clone(&stdout);
        let out_thread = std::thread::spawn(move || {
            let mut line = Vec::new();
            loop {
                line.clear();
                match out.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        out_buf.lock().unwrap().extend_from_slice(&line);
                        let _ = lines_tx.send(String::from_utf8_lossy(&line).trim_end().to_owned());
                    }
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let err_buf = Arc::clone(&stderr);
        let err_thread = std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match err.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => err_buf.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
        let mut server = Server {
            child,
            port: 0,
            creds: None,
            stdout,
            stderr,
            readers: vec![out_thread, err_thread],
            exited: false,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let (mut akid, mut secret) = (None, None);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match lines_rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => {
                    let status = server.child.try_wait().ok().flatten();
                    server.kill();
                    panic!(
                        "coffer did not print its listening line (exit status {status:?}); stderr:\n{}",
                        server.stderr_text()
                    );
                }
            };
            let l = line.trim();
            if let Some(v) = l.strip_prefix("AWS_ACCESS_KEY_ID=") {
                akid = Some(v.to_owned());
            } else if let Some(v) = l.strip_prefix("AWS_SECRET_ACCESS_KEY=") {
                secret = Some(v.to_owned());
            } else if let Some(addr) = l.strip_prefix("Coffer listening on http://") {
                let port = addr.rsplit(':').next().unwrap_or_default();
                server.port = port
                    .parse()
                    .unwrap_or_else(|_| panic!("bad listening line: {l}"));
                break;
            }
        }
        if let (Some(access_key_id), Some(secret_access_key)) = (akid, secret) {
            server.creds = Some(Creds {
                access_key_id,
                secret_access_key,
            });
        }
        server
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap and drain the output.
    pub fn kill(&mut self) {
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.exited = true;
        }
        self.join_readers();
    }

    /// SIGTERM, then wait for a clean exit; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill -TERM")
            .success();
        assert!(ok, "kill -TERM failed");
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("coffer did not exit within {STOP_TIMEOUT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.exited = true;
        self.join_readers();
        status
    }

    fn join_readers(&mut self) {
        for t in self.readers.drain(..) {
            let _ = t.join();
        }
    }

    /// stderr so far, lossily decoded (for failure messages).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// stdout and stderr so far, concatenated.
    pub fn output(&self) -> Vec<u8> {
        let mut all = self.stdout.lock().unwrap().clone();
        all.extend_from_slice(&self.stderr.lock().unwrap());
        all
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A response: status and raw body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON (panics if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The AWS error code (`__type`), or "" for a success.
    pub fn error_type(&self) -> String {
        if self.status == 200 {
            return String::new();
        }
        let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let t = v["__type"].as_str().unwrap_or_default();
        t.rsplit('#').next().unwrap_or_default().to_owned()
    }

    /// The body, lossily, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A SigV4-signing client for one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    url: String,
    host: String,
    creds: Creds,
    /// Region to sign for.
    pub region: String,
}

impl Api {
    /// A client for `127.0.0.1:port`.
    pub fn new(port: u16, creds: &Creds) -> Api {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("reqwest client");
        Api {
            http,
            url: format!("http://127.0.0.1:{port}/"),
            host: format!("127.0.0.1:{port}"),
            creds: creds.clone(),
            region: "us-east-1".to_owned(),
        }
    }

    /// Same server, different credentials (for failing-signature tests).
    pub fn with_creds(&self, creds: &Creds) -> Api {
        Api {
            creds: creds.clone(),
            ..self.clone()
        }
    }

    /// Calls `secretsmanager.<op>` with a JSON body.
    pub async fn call(&self, op: &str, body: &serde_json::Value) -> Result<Resp, reqwest::Error> {
        self.call_raw(op, serde_json::to_vec(body).unwrap()).await
    }

    /// Calls `secretsmanager.<op>` with raw body bytes (signed as sent).
    pub async fn call_raw(&self, op: &str, body: Vec<u8>) -> Result<Resp, reqwest::Error> {
        let target = format!("secretsmanager.{op}");
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let amz_date = coffer_sigv4::format_amz_date(now_ms);
        let headers: [(&str, &[u8]); 3] = [
            ("host", self.host.as_bytes()),
            ("content-type", b"application/x-amz-json-1.1"),
            ("x-amz-target", target.as_bytes()),
        ];
        let req = coffer_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
        };
        let params = coffer_sigv4::SigningParams {
            access_key_id: &self.creds.access_key_id,
            secret_access_key: &self.creds.secret_access_key,
            region: &self.region,
            service: "secretsmanager",
            amz_date: &amz_date,
            ..Default::default()
        };
        let signed = coffer_sigv4::sign(&req, &params).expect("signing");
        let mut rb = self
            .http
            .post(&self.url)
            .header("host", &self.host)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", &target);
        for (k, v) in signed.headers() {
            rb = rb.header(k, v);
        }
        let resp = rb.body(body).send().await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?.to_vec();
        Ok(Resp { status, body })
    }

    /// Calls `op` and panics unless it answers 200; returns the JSON output.
    pub async fn ok(&self, op: &str, body: &serde_json::Value) -> serde_json::Value {
        let r = self
            .call(op, body)
            .await
            .unwrap_or_else(|e| panic!("{op}: transport error: {e}"));
        assert_eq!(r.status, 200, "{op} failed: {}", r.text());
        r.json()
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display()))
        {
            let entry = entry.unwrap();
            let ty = entry.file_type().unwrap();
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// Random ASCII letters and digits.
pub fn alnum<R: rand::Rng>(rng: &mut R, n: usize) -> String {
    (0..n)
        .map(|_| char::from(rng.sample(rand::distributions::Alphanumeric)))
        .collect()
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}
