//! No plaintext leaks: random canary values stored through every write path (and pushed
//! through error paths) must never appear in the data directory (database, WAL, shared
//! memory, key file — every file), in the server's stdout/stderr at `COFFER_LOG=trace`, or
//! in any response other than the reads that legitimately return them. Neither may the
//! passwords GetRandomPassword generates appear in the logs or on disk.
//!
//! Each canary is searched for raw, JSON-escaped, hex-encoded and base64-encoded (at all
//! three byte alignments). A self-check first proves the scanner finds every one of those
//! forms in a scratch file placed in the data directory.

mod crash_support;

use crash_support::{Api, Creds, Resp, Server, alnum, base64, files_under};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Value, json};
use std::path::Path;

/// One byte string that must not leak, and what it is.
struct Needle {
    what: String,
    bytes: Vec<u8>,
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of base64 that depend only on `data`, for each of the three alignments
/// `data` can have inside a longer encoded buffer.
fn base64_cores(data: &[u8]) -> Vec<String> {
    (0..3)
        .map(|k| {
            let mut buf = vec![0u8; k];
            buf.extend_from_slice(data);
            let enc = base64(&buf);
            let start = if k == 0 { 0 } else { 4 };
            enc[start..enc.len() - 4].to_owned()
        })
        .collect()
}

fn needles_for_bytes(what: &str, data: &[u8]) -> Vec<Needle> {
    let mut out = vec![
        Needle {
            what: format!("{what} (raw)"),
            bytes: data.to_vec(),
        },
        Needle {
            what: format!("{what} (hex)"),
            bytes: hex(data).into_bytes(),
        },
        Needle {
            what: format!("{what} (HEX)"),
            bytes: hex(data).to_uppercase().into_bytes(),
        },
    ];
    for (k, core) in base64_cores(data).into_iter().enumerate() {
        out.push(Needle {
            what: format!("{what} (base64, offset {k})"),
            bytes: core.into_bytes(),
        });
    }
    out
}

fn needles_for_text(what: &str, text: &str) -> Vec<Needle> {
    let mut out = needles_for_bytes(what, text.as_bytes());
    let escaped = serde_json::to_string(text).unwrap();
    let escaped = &escaped[1..escaped.len() - 1];
    if escaped != text {
        out.push(Needle {
            what: format!("{what} (JSON-escaped)"),
            bytes: escaped.as_bytes().to_vec(),
        });
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let n = needle.len();
    if hay.len() < n {
        return false;
    }
    (0..=hay.len() - n).any(|i| hay[i] == first && &hay[i + 1..i + n] == rest)
}

/// Names of the needles found in `hay`.
fn leaks(hay: &[u8], needles: &[Needle]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| contains(hay, &n.bytes))
        .map(|n| n.what.clone())
        .collect()
}

/// Every needle found in any file under `dir`, as "file: what".
fn scan_dir(dir: &Path, needles: &[Needle]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files_under(dir) {
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
        for what in leaks(&data, needles) {
            found.push(format!("{}: {what}", f.display()));
        }
    }
    found
}

/// Proves the scanner can fail: every needle, written between random bytes into a scratch
/// file in `dir`, must be reported for that file; the file is removed afterwards.
fn scanner_self_check(dir: &Path, needles: &[Needle], rng: &mut StdRng) {
    let scratch = dir.join("scanner-self-check.tmp");
    let mut data = Vec::new();
    for n in needles {
        let mut junk = vec![0u8; rng.gen_range(1..64)];
        rng.fill_bytes(&mut junk);
        data.extend_from_slice(&junk);
        data.extend_from_slice(&n.bytes);
    }
    data.extend_from_slice(b"\x00tail");
    std::fs::write(&scratch, &data).unwrap();
    let found = scan_dir(dir, needles);
    std::fs::remove_file(&scratch).unwrap();
    for n in needles {
        let want = format!("{}: {}", scratch.display(), n.what);
        assert!(
            found.contains(&want),
            "self-check: the scanner missed {} in a scratch file",
            n.what
        );
    }
    // And through the base64 form of a longer buffer, at each alignment.
    for k in 0..3 {
        let mut buf = vec![b'x'; k];
        buf.extend_from_slice(&needles[0].bytes);
        buf.extend_from_slice(b"yyyy");
        let enc = base64(&buf);
        assert!(
            !leaks(enc.as_bytes(), needles).is_empty(),
            "self-check: base64 at offset {k} missed"
        );
    }
    assert!(!scratch.exists());
}

/// Responses seen, and whether each may legitimately carry a secret value.
#[derive(Default)]
struct Seen {
    responses: Vec<(String, Resp, bool)>,
}

impl Seen {
    /// Sends, records, and returns the response.
    async fn call(&mut self, api: &Api, op: &str, body: &Value) -> Resp {
        self.raw(api, op, serde_json::to_vec(body).unwrap(), false)
            .await
    }

    /// Like `call` for a read whose success legitimately returns values.
    async fn read(&mut self, api: &Api, op: &str, body: &Value) -> Resp {
        self.raw(api, op, serde_json::to_vec(body).unwrap(), true)
            .await
    }

    async fn raw(&mut self, api: &Api, op: &str, body: Vec<u8>, returns_values: bool) -> Resp {
        let r = api
            .call_raw(op, body)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"));
        let returns_values = returns_values && r.status == 200;
        self.responses
            .push((op.to_owned(), r.clone(), returns_values));
        r
    }

    /// A call that must succeed.
    async fn ok(&mut self, api: &Api, op: &str, body: &Value) -> Value {
        let r = self.call(api, op, body).await;
        assert_eq!(r.status, 200, "{op}: {}", r.text());
        r.json()
    }

    /// A call that must fail with `code` (any client error if `code` is empty).
    async fn fails(&mut self, api: &Api, op: &str, body: Vec<u8>, code: &str) -> Resp {
        let r = self.raw(api, op, body, false).await;
        if code.is_empty() {
            assert!(
                (400..500).contains(&r.status),
                "{op} should be refused: {} {}",
                r.status,
                r.text()
            );
        } else {
            assert_eq!(
                r.error_type(),
                code,
                "{op} should fail with {code}: {} {}",
                r.status,
                r.text()
            );
        }
        r
    }

    /// Every response that may not carry values, with the needles it contains.
    fn leaks(&self, needles: &[Needle]) -> Vec<String> {
        let mut out = Vec::new();
        for (op, r, returns_values) in &self.responses {
            if !returns_values {
                for what in leaks(&r.body, needles) {
                    out.push(format!("{op} → {} {}: {what}", r.status, r.text()));
                }
            }
        }
        out
    }

    fn errors(&self) -> usize {
        self.responses
            .iter()
            .filter(|(_, r, _)| r.status != 200)
            .count()
    }
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The canary values of one run.
struct Canaries {
    /// 32 random alphanumerics.
    text: String,
    /// A conflicting value (same ClientRequestToken, different value).
    other: String,
    /// A JSON document with the canary as its password and characters JSON escapes.
    json_doc: String,
    /// Random bytes, stored as SecretBinary.
    bin: Vec<u8>,
    /// An 18-digit number, sent (wrongly) as a JSON number.
    number: u64,
}

impl Canaries {
    fn new(rng: &mut StdRng) -> Canaries {
        let text = alnum(rng, 32);
        let other = alnum(rng, 32);
        let json_doc = json!({
            "username": "app",
            "password": format!("{}\"\\\n\u{e9}{}", alnum(rng, 20), text),
            "host": "db.internal",
        })
        .to_string();
        let mut bin = vec![0u8; 32];
        rng.fill_bytes(&mut bin);
        let number = rng.gen_range(100_000_000_000_000_000..1_000_000_000_000_000_000);
        Canaries {
            text,
            other,
            json_doc,
            bin,
            number,
        }
    }

    fn needles(&self, run: &str) -> Vec<Needle> {
        let mut n = needles_for_text(&format!("{run} canary"), &self.text);
        n.extend(needles_for_text(
            &format!("{run} conflicting value"),
            &self.other,
        ));
        n.extend(needles_for_text(
            &format!("{run} JSON secret"),
            &self.json_doc,
        ));
        n.extend(needles_for_bytes(
            &format!("{run} binary canary"),
            &self.bin,
        ));
        n.extend(needles_for_text(
            &format!("{run} numeric canary"),
            &self.number.to_string(),
        ));
        n
    }
}

/// Drives every write, read and error path with the canaries; returns generated passwords.
async fn workload(
    api: &Api,
    creds: &Creds,
    c: &Canaries,
    run: &str,
    seen: &mut Seen,
    rng: &mut StdRng,
) -> Vec<String> {
    let plain = format!("canary-{run}-plain");
    let doc = format!("canary-{run}-json");
    let binary = format!("canary-{run}-binary");
    let token = |rng: &mut StdRng| format!("tok-{}", alnum(rng, 36));
    let (t_create, t_put, t_update) = (token(rng), token(rng), token(rng));

    // Create, put, update.
    seen.ok(
        api,
        "CreateSecret",
        &json!({ "Name": plain, "SecretString": c.text, "ClientRequestToken": t_create, "Description": "canary test" }),
    )
    .await;
    seen.ok(
        api,
        "CreateSecret",
        &json!({ "Name": doc, "SecretString": c.json_doc }),
    )
    .await;
    seen.ok(
        api,
        "CreateSecret",
        &json!({ "Name": binary, "SecretBinary": base64(&c.bin) }),
    )
    .await;
    let put_value = format!("{}-put", c.text);
    seen.ok(
        api,
        "PutSecretValue",
        &json!({ "SecretId": plain, "SecretString": put_value, "ClientRequestToken": t_put }),
    )
    .await;
    // A retry with the same token and value is fine; a different value is refused.
    seen.ok(
        api,
        "PutSecretValue",
        &json!({ "SecretId": plain, "SecretString": put_value, "ClientRequestToken": t_put }),
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(
            &json!({ "SecretId": plain, "SecretString": c.other, "ClientRequestToken": t_put }),
        ),
        "ResourceExistsException",
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretBinary": base64(&c.bin), "ClientRequestToken": t_put })),
        "ResourceExistsException",
    )
    .await;
    seen.fails(
        api,
        "CreateSecret",
        to_bytes(
            &json!({ "Name": plain, "SecretString": c.other, "ClientRequestToken": t_create }),
        ),
        "ResourceExistsException",
    )
    .await;
    let update_value = format!("{}-update", c.text);
    seen.ok(
        api,
        "UpdateSecret",
        &json!({ "SecretId": plain, "SecretString": update_value, "ClientRequestToken": t_update }),
    )
    .await;
    seen.fails(
        api,
        "UpdateSecret",
        to_bytes(
            &json!({ "SecretId": plain, "SecretString": c.other, "ClientRequestToken": t_update }),
        ),
        "ResourceExistsException",
    )
    .await;
    seen.ok(
        api,
        "PutSecretValue",
        &json!({ "SecretId": binary, "SecretBinary": base64(&c.bin[..16]) }),
    )
    .await;
    seen.ok(
        api,
        "UpdateSecret",
        &json!({ "SecretId": doc, "SecretString": c.json_doc.replace("app", "app2"), "Description": "rotated" }),
    )
    .await;

    // Reads return exactly what was written.
    let r = seen
        .read(api, "GetSecretValue", &json!({ "SecretId": plain }))
        .await
        .json();
    assert_eq!(r["SecretString"].as_str(), Some(update_value.as_str()));
    let r = seen
        .read(
            api,
            "GetSecretValue",
            &json!({ "SecretId": plain, "VersionId": t_put }),
        )
        .await
        .json();
    assert_eq!(r["SecretString"].as_str(), Some(put_value.as_str()));
    let r = seen
        .read(
            api,
            "GetSecretValue",
            &json!({ "SecretId": plain, "VersionStage": "AWSPREVIOUS" }),
        )
        .await
        .json();
    assert_eq!(r["SecretString"].as_str(), Some(put_value.as_str()));
    let r = seen
        .read(
            api,
            "GetSecretValue",
            &json!({ "SecretId": binary, "VersionStage": "AWSPREVIOUS" }),
        )
        .await
        .json();
    assert_eq!(r["SecretBinary"].as_str(), Some(base64(&c.bin).as_str()));
    let batch = seen
        .read(
            api,
            "BatchGetSecretValue",
            &json!({ "SecretIdList": [plain, doc, binary, format!("canary-{run}-missing")] }),
        )
        .await;
    assert_eq!(batch.status, 200, "{}", batch.text());
    let batch = batch.json();
    assert_eq!(
        batch["SecretValues"].as_array().map(Vec::len),
        Some(3),
        "{batch}"
    );
    assert_eq!(batch["Errors"].as_array().map(Vec::len), Some(1), "{batch}");
    // The per-secret errors of a batch are error messages too.
    seen.responses.push((
        "BatchGetSecretValue Errors".into(),
        Resp {
            status: 400,
            body: to_bytes(&batch["Errors"]),
        },
        false,
    ));

    // Metadata reads never carry values.
    for id in [&plain, &doc, &binary] {
        seen.ok(api, "DescribeSecret", &json!({ "SecretId": id }))
            .await;
        seen.ok(
            api,
            "ListSecretVersionIds",
            &json!({ "SecretId": id, "IncludeDeprecated": true }),
        )
        .await;
    }
    seen.ok(
        api,
        "ListSecrets",
        &json!({ "IncludePlannedDeletion": true }),
    )
    .await;
    seen.ok(
        api,
        "ListSecrets",
        &json!({ "Filters": [{ "Key": "name", "Values": ["canary"] }] }),
    )
    .await;

    // Oversize values (the canary repeated to 70,000 bytes) are refused without an echo.
    let big: String = c.text.repeat(70_000 / c.text.len() + 1)[..70_000].to_owned();
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretString": big })),
        "", // ValidationException or InvalidParameterException
    )
    .await;
    seen.fails(
        api,
        "CreateSecret",
        to_bytes(&json!({ "Name": format!("canary-{run}-big"), "SecretString": big })),
        "", // ValidationException or InvalidParameterException
    )
    .await;
    seen.fails(
        api,
        "UpdateSecret",
        to_bytes(&json!({ "SecretId": plain, "SecretString": big })),
        "", // ValidationException or InvalidParameterException
    )
    .await;
    let big_bin: Vec<u8> = c.bin.repeat(70_000 / c.bin.len() + 1)[..70_000].to_vec();
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": binary, "SecretBinary": base64(&big_bin) })),
        "", // ValidationException or InvalidParameterException
    )
    .await;

    // Other error paths with a value in the request.
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": format!("canary-{run}-missing"), "SecretString": c.text })),
        "ResourceNotFoundException",
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(
            &json!({ "SecretId": plain, "SecretString": c.text, "SecretBinary": base64(&c.bin) }),
        ),
        "InvalidParameterException",
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretString": c.text, "VersionStages": [] })),
        "", // ValidationException or InvalidParameterException
    )
    .await;
    // Malformed JSON: truncated inside the value, a value of the wrong type, bad base64.
    let truncated = format!(r#"{{"SecretId":"{plain}","SecretString":"{}"#, c.text);
    seen.fails(
        api,
        "PutSecretValue",
        truncated.into_bytes(),
        "SerializationException",
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretString": { "password": c.text } })),
        "SerializationException",
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretString": [c.text] })),
        "SerializationException",
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretBinary": format!("{}!*", c.text) })),
        "SerializationException",
    )
    .await;
    // A numeric PIN sent as a JSON number instead of a string.
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretString": c.number })),
        "SerializationException",
    )
    .await;
    // A request whose signature does not verify, and an unknown operation.
    let wrong = Creds {
        secret_access_key: format!("{}x", creds.secret_access_key),
        ..creds.clone()
    };
    seen.raw(
        &api.with_creds(&wrong),
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": plain, "SecretString": c.text })),
        false,
    )
    .await;
    assert_ne!(seen.responses.last().unwrap().1.status, 200);
    seen.fails(
        api,
        "PutSecretValueTypo",
        to_bytes(&json!({ "SecretId": plain, "SecretString": c.text })),
        "UnknownOperationException",
    )
    .await;
    // A deleted secret refuses new values.
    seen.ok(
        api,
        "DeleteSecret",
        &json!({ "SecretId": doc, "RecoveryWindowInDays": 7 }),
    )
    .await;
    seen.fails(
        api,
        "PutSecretValue",
        to_bytes(&json!({ "SecretId": doc, "SecretString": c.json_doc })),
        "InvalidRequestException",
    )
    .await;
    seen.fails(
        api,
        "GetSecretValue",
        to_bytes(&json!({ "SecretId": doc })),
        "InvalidRequestException",
    )
    .await;
    seen.ok(api, "RestoreSecret", &json!({ "SecretId": doc }))
        .await;

    // Generated passwords.
    let mut passwords = Vec::new();
    for body in [
        json!({}),
        json!({ "PasswordLength": 64 }),
        json!({ "PasswordLength": 40, "ExcludePunctuation": true }),
    ] {
        let r = seen.read(api, "GetRandomPassword", &body).await;
        assert_eq!(r.status, 200, "{}", r.text());
        passwords.push(r.json()["RandomPassword"].as_str().unwrap().to_owned());
    }
    passwords
}

fn assert_clean(where_: &str, found: Vec<String>) {
    assert!(
        found.is_empty(),
        "plaintext leaked into {where_}:\n  {}",
        found.join("\n  ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_in_data_dir_logs_or_errors() {
    let started = std::time::Instant::now();
    let mut rng = StdRng::from_entropy();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // Run 1: ends with SIGTERM.
    let mut server = Server::start(&data, "trace");
    let creds = server
        .creds
        .clone()
        .expect("the first start prints credentials");
    let api = Api::new(server.port, &creds);
    let c1 = Canaries::new(&mut rng);
    let mut seen1 = Seen::default();
    let passwords1 = workload(&api, &creds, &c1, "run1", &mut seen1, &mut rng).await;
    let status = server.terminate();
    assert!(
        status.success(),
        "coffer exited with {status} after SIGTERM"
    );
    let log1 = server.output();
    drop(server);

    let mut needles = c1.needles("run1");
    for (i, p) in passwords1.iter().enumerate() {
        needles.extend(needles_for_text(&format!("run1 generated password {i}"), p));
    }
    scanner_self_check(&data, &needles, &mut rng);
    // The logs really are at trace level and cover the requests.
    let log1_text = String::from_utf8_lossy(&log1);
    assert!(
        log1_text.contains("secretsmanager.PutSecretValue") && log1_text.contains("DEBUG"),
        "expected per-request debug output in the logs"
    );
    assert_clean(
        "the data directory after SIGTERM",
        scan_dir(&data, &needles),
    );
    assert_clean("the logs of run 1", leaks(&log1, &needles));
    assert_clean("responses of run 1", seen1.leaks(&needles));

    // Run 2: same data directory, more writes, ends with SIGKILL (WAL left behind).
    let mut server = Server::start(&data, "trace");
    assert!(server.creds.is_none());
    let api = Api::new(server.port, &creds);
    let c2 = Canaries::new(&mut rng);
    let mut seen2 = Seen::default();
    let passwords2 = workload(&api, &creds, &c2, "run2", &mut seen2, &mut rng).await;
    // The run-1 values are still intact.
    let r = seen2
        .read(
            &api,
            "GetSecretValue",
            &json!({ "SecretId": "canary-run1-plain" }),
        )
        .await;
    assert_eq!(
        r.json()["SecretString"].as_str(),
        Some(format!("{}-update", c1.text).as_str())
    );
    server.kill();
    let log2 = server.output();
    drop(server);

    let files = files_under(&data);
    let wal = files
        .iter()
        .find(|f| f.to_string_lossy().ends_with("coffer.db-wal"));
    let wal_len = wal.map(|f| std::fs::metadata(f).unwrap().len());
    assert!(
        wal_len.is_some_and(|n| n > 0),
        "expected a non-empty WAL after SIGKILL, files: {files:?}"
    );

    needles.extend(c2.needles("run2"));
    for (i, p) in passwords2.iter().enumerate() {
        needles.extend(needles_for_text(&format!("run2 generated password {i}"), p));
    }
    scanner_self_check(&data, &needles, &mut rng);
    assert_clean(
        "the data directory after SIGKILL",
        scan_dir(&data, &needles),
    );
    assert_clean("the logs of run 2", leaks(&log2, &needles));
    assert_clean("responses of run 2", seen2.leaks(&needles));

    let scanned: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    println!(
        "canary summary: {} needles (raw/JSON/hex/base64 forms), {} files ({} bytes incl. a {}-byte WAL), \
         {} + {} bytes of logs, {} responses ({} errors) checked; no leaks; {:.1}s",
        needles.len(),
        files.len(),
        scanned,
        wal_len.unwrap_or(0),
        log1.len(),
        log2.len(),
        seen1.responses.len() + seen2.responses.len(),
        seen1.errors() + seen2.errors(),
        started.elapsed().as_secs_f64()
    );
}
