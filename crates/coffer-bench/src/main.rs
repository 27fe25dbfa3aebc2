//! `coffer-bench`: a bounded load generator for a Coffer (or any AWS Secrets Manager
//! compatible) server on the loopback interface.
//!
//! 1. Setup: creates `--secrets` secrets with random `--value-size`-byte values
//!    (`--create-concurrency` in flight) and reports creates/s.
//! 2. For each `--concurrency` level: that many tasks, each with its own keep-alive HTTP/1.1
//!    connection, issue `GetSecretValue` for random secrets for `--warmup` + `--duration`
//!    seconds; every request is freshly SigV4-signed. Latencies of requests completed in
//!    the measured window go into an HDR histogram.
//! 3. A `PutSecretValue` level (`--write-concurrency`, `--write-duration`): each write is a
//!    durable (fsync'd) commit.
//!
//! With `--spawn PATH` it starts `PATH serve --dev` itself in a temporary directory on a
//! kernel-chosen loopback port and stops it at the end; otherwise it targets `--endpoint`
//! with credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_DEFAULT_REGION`
//! and deletes its secrets afterwards (unless `--keep`).

mod client;
mod spawn;

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Parser;
use client::{Conn, Credentials, Target};
use hdrhistogram::Histogram;
use hyper::StatusCode;
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Load-test a Coffer server with signed GetSecretValue (and PutSecretValue) requests.
#[derive(Parser, Debug)]
#[command(name = "coffer-bench", version, about, long_about = None)]
struct Args {
    /// Server to test, e.g. http://127.0.0.1:8080 (credentials from AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
    #[arg(long, required_unless_present = "spawn", conflicts_with = "spawn")]
    endpoint: Option<String>,
    /// Start this `coffer` binary (`serve --dev`, temporary data directory, loopback port),
    /// benchmark it and stop it.
    #[arg(long, value_name = "PATH_TO_COFFER")]
    spawn: Option<PathBuf>,
    /// Parent directory of the spawned server's temporary data directory.
    #[arg(long, requires = "spawn")]
    spawn_dir: Option<PathBuf>,
    /// Extra `coffer serve` argument for the spawned server (repeatable), e.g.
    /// `--server-arg=--audit-mode --server-arg=off`.
    #[arg(long, requires = "spawn", allow_hyphen_values = true)]
    server_arg: Vec<String>,
    /// Number of secrets to create and read.
    #[arg(long, default_value_t = 1000)]
    secrets: usize,
    /// GetSecretValue concurrency levels (connections = tasks), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    concurrency: Vec<usize>,
    /// Measured seconds per GetSecretValue level.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured seconds before each level.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Size of each secret value in bytes (ASCII alphanumeric SecretString).
    #[arg(long, default_value_t = 256)]
    value_size: usize,
    /// CreateSecret requests in flight during setup.
    #[arg(long, default_value_t = 8)]
    create_concurrency: usize,
    /// PutSecretValue concurrency (0 skips the write level).
    #[arg(long, default_value_t = 4)]
    write_concurrency: usize,
    /// Measured seconds of the PutSecretValue level.
    #[arg(long, default_value_t = 5)]
    write_duration: u64,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Allow an endpoint that does not resolve to a loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Leave the benchmark's secrets on an --endpoint server (default: force-delete them).
    #[arg(long)]
    keep: bool,
    /// Process id of the --endpoint server, to report its CPU time per request (Linux).
    #[arg(long, conflicts_with = "spawn")]
    server_pid: Option<u32>,
}

impl Args {
    fn check(&self) -> anyhow::Result<()> {
        let range = |what: &str, v: u64, lo: u64, hi: u64| {
            if !(lo..=hi).contains(&v) {
                bail!("--{what} must be between {lo} and {hi}");
            }
            Ok(())
        };
        range("secrets", self.secrets as u64, 1, 100_000)?;
        range("duration", self.duration, 1, 600)?;
        range("warmup", self.warmup, 0, 60)?;
        range("write-duration", self.write_duration, 1, 600)?;
        range("value-size", self.value_size as u64, 1, 65_536)?;
        range("create-concurrency", self.create_concurrency as u64, 1, 256)?;
        range("write-concurrency", self.write_concurrency as u64, 0, 1024)?;
        if self.concurrency.is_empty() {
            bail!("--concurrency needs at least one level");
        }
        for &c in &self.concurrency {
            range("concurrency", c as u64, 1, 1024)?;
        }
        Ok(())
    }
}

/// What each request of a level does.
#[derive(Clone, Copy)]
enum Work {
    Get,
    Put { value_size: usize },
}

impl Work {
    fn op(self) -> &'static str {
        match self {
            Work::Get => "GetSecretValue",
            Work::Put { .. } => "PutSecretValue",
        }
    }

    fn body(self, name: &str, rng: &mut StdRng) -> Bytes {
        let v = match self {
            Work::Get => json!({ "SecretId": name }),
            Work::Put { value_size } => {
                json!({ "SecretId": name, "SecretString": random_value(rng, value_size) })
            }
        };
        Bytes::from(serde_json::to_vec(&v).expect("JSON of strings"))
    }
}

fn random_value(rng: &mut StdRng, len: usize) -> String {
    Alphanumeric.sample_string(rng, len)
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds")
}

/// Remembers the first error message of a run.
#[derive(Clone, Default)]
struct FirstError(Arc<Mutex<Option<String>>>);

impl FirstError {
    fn note(&self, msg: impl FnOnce() -> String) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(msg());
        }
    }

    fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

fn describe(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text: String = text.chars().take(500).collect();
    format!("HTTP {status}: {text}")
}

/// One worker's tally.
struct Tally {
    hist: Histogram<u64>,
    ok: u64,
    errors: u64,
}

/// Window of one level.
#[derive(Clone, Copy)]
struct Window {
    measure_start: Instant,
    end: Instant,
}

async fn worker(
    target: Arc<Target>,
    names: Arc<Vec<String>>,
    work: Work,
    mut conn: Conn,
    window: Window,
    first_error: FirstError,
) -> Tally {
    let mut rng = StdRng::from_entropy();
    let mut t = Tally {
        hist: new_histogram(),
        ok: 0,
        errors: 0,
    };
    loop {
        let t0 = Instant::now();
        if t0 >= window.end {
            break;
        }
        let name = &names[rng.gen_range(0..names.len())];
        let body = work.body(name, &mut rng);
        let result = conn.call(&target, work.op(), body).await;
        let t1 = Instant::now();
        let started_in = t0 >= window.measure_start;
        match result {
            Ok(r) if r.status == StatusCode::OK => {
                if started_in && t1 <= window.end {
                    let _ = t.hist.record((t1 - t0).as_micros().max(1) as u64);
                    t.ok += 1;
                }
            }
            Ok(r) => {
                if started_in {
                    t.errors += 1;
                }
                first_error.note(|| describe(r.status, &r.body));
            }
            Err(e) => {
                if started_in {
                    t.errors += 1;
                }
                first_error.note(|| format!("transport: {e:#}"));
                match Conn::connect(target.addr).await {
                    Ok(c) => conn = c,
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        }
    }
    t
}

/// CPU seconds (user + system, all threads) used so far by a process (`None`: this one),
/// from procfs; `None` where procfs is unavailable.
fn cpu_secs(pid: Option<u32>, clk_tck: f64) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / clk_tck)
}

fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn loadavg() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

fn fmt_load(l: Option<[f64; 3]>) -> String {
    l.map_or_else(
        || "n/a".to_owned(),
        |[a, b, c]| format!("{a:.2} {b:.2} {c:.2}"),
    )
}

/// Results of one measured level.
struct Level {
    op: &'static str,
    concurrency: usize,
    seconds: f64,
    ok: u64,
    errors: u64,
    hist: Histogram<u64>,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    load_before: Option<[f64; 3]>,
    load_after: Option<[f64; 3]>,
    first_error: Option<String>,
}

impl Level {
    fn rps(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }

    fn per_req_us(&self, cpu: Option<f64>) -> Option<f64> {
        cpu.filter(|_| self.ok > 0)
            .map(|c| c * 1e6 / self.ok as f64)
    }

    fn to_json(&self) -> Value {
        json!({
            "op": self.op,
            "concurrency": self.concurrency,
            "seconds": self.seconds,
            "requests": self.ok,
            "errors": self.errors,
            "requests_per_sec": self.rps(),
            "latency_ms": {
                "mean": self.hist.mean() / 1000.0,
                "p50": self.ms(0.50),
                "p90": self.ms(0.90),
                "p99": self.ms(0.99),
                "p999": self.ms(0.999),
                "max": self.hist.max() as f64 / 1000.0,
            },
            "server_cpu_us_per_request": self.per_req_us(self.server_cpu),
            "client_cpu_us_per_request": self.per_req_us(self.client_cpu),
            "loadavg_before": self.load_before,
            "loadavg_after": self.load_after,
            "first_error": self.first_error,
        })
    }
}

/// Shared context of a run.
struct Bench {
    target: Arc<Target>,
    names: Arc<Vec<String>>,
    server_pid: Option<u32>,
    clk_tck: f64,
}

impl Bench {
    /// CPU seconds used so far by (the server, if its pid is known; this process).
    fn cpu(&self) -> (Option<f64>, Option<f64>) {
        (
            self.server_pid
                .and_then(|p| cpu_secs(Some(p), self.clk_tck)),
            cpu_secs(None, self.clk_tck),
        )
    }

    async fn level(
        &self,
        work: Work,
        concurrency: usize,
        warmup: Duration,
        duration: Duration,
    ) -> anyhow::Result<Level> {
        let mut conns = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            conns.push(Conn::connect(self.target.addr).await?);
        }
        let load_before = loadavg();
        let start = Instant::now();
        let window = Window {
            measure_start: start + warmup,
            end: start + warmup + duration,
        };
        let first_error = FirstError::default();
        let mut set = JoinSet::new();
        for conn in conns {
            set.spawn(worker(
                self.target.clone(),
                self.names.clone(),
                work,
                conn,
                window,
                first_error.clone(),
            ));
        }
        tokio::time::sleep_until(window.measure_start).await;
        let cpu0 = self.cpu();
        tokio::time::sleep_until(window.end).await;
        let cpu1 = self.cpu();
        let load_after = loadavg();
        let mut hist = new_histogram();
        let (mut ok, mut errors) = (0, 0);
        let deadline = window.end + client::REQUEST_TIMEOUT + Duration::from_secs(5);
        let joined = tokio::time::timeout_at(deadline, async {
            while let Some(r) = set.join_next().await {
                let t = r.context("worker task failed")?;
                hist.add(&t.hist).context("merging histograms")?;
                ok += t.ok;
                errors += t.errors;
            }
            Ok::<_, anyhow::Error>(())
        })
        .await;
        match joined {
            Ok(r) => r?,
            Err(_) => {
                set.abort_all();
                bail!("workers did not stop in time");
            }
        }
        let diff = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        Ok(Level {
            op: work.op(),
            concurrency,
            seconds: duration.as_secs_f64(),
            ok,
            errors,
            hist,
            server_cpu: diff(cpu0.0, cpu1.0),
            client_cpu: diff(cpu0.1, cpu1.1),
            load_before,
            load_after,
            first_error: first_error.take(),
        })
    }

    /// Runs `op` once per secret with `concurrency` in flight; fails on the first error.
    async fn for_each_secret(
        &self,
        op: &'static str,
        concurrency: usize,
        body: impl Fn(&str, &mut StdRng) -> Bytes + Send + Sync + 'static,
        skip: usize,
    ) -> anyhow::Result<(f64, Histogram<u64>)> {
        let next = Arc::new(AtomicUsize::new(skip));
        let body = Arc::new(body);
        let started = Instant::now();
        let mut set = JoinSet::new();
        for _ in 0..concurrency.min(self.names.len()) {
            let mut conn = Conn::connect(self.target.addr).await?;
            let (target, names, next, body) = (
                self.target.clone(),
                self.names.clone(),
                next.clone(),
                body.clone(),
            );
            set.spawn(async move {
                let mut rng = StdRng::from_entropy();
                let mut hist = new_histogram();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let t0 = Instant::now();
                    let r = conn.call(&target, op, body(name, &mut rng)).await?;
                    if r.status != StatusCode::OK {
                        bail!("{op} {name} failed: {}", describe(r.status, &r.body));
                    }
                    let _ = hist.record(t0.elapsed().as_micros().max(1) as u64);
                }
                Ok(hist)
            });
        }
        let mut hist = new_histogram();
        while let Some(r) = set.join_next().await {
            hist.add(&r.context("task failed")??)?;
        }
        Ok((started.elapsed().as_secs_f64(), hist))
    }
}

/// Resolves `--endpoint` to (address, Host header); loopback only unless allowed.
async fn resolve_endpoint(
    endpoint: &str,
    allow_remote: bool,
) -> anyhow::Result<(SocketAddr, String)> {
    let uri: hyper::Uri = endpoint
        .parse()
        .with_context(|| format!("invalid endpoint {endpoint:?}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            bail!("coffer-bench speaks plain HTTP only; give an http:// loopback endpoint")
        }
        _ => bail!("the endpoint must look like http://127.0.0.1:8080"),
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        bail!("the endpoint must not have a path or query");
    }
    let authority = uri.authority().context("the endpoint has no host")?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("resolving {host}"))?
        .collect();
    let first = *addrs
        .first()
        .with_context(|| format!("{host} resolves to no address"))?;
    if !allow_remote && !addrs.iter().all(|a| a.ip().is_loopback()) {
        bail!(
            "refusing non-loopback endpoint {endpoint} ({first}); pass --allow-remote to benchmark it anyway"
        );
    }
    Ok((first, authority.as_str().to_owned()))
}

fn env_credentials() -> anyhow::Result<Credentials> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Ok(Credentials {
        access_key_id: get("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is not set")?,
        secret_access_key: get("AWS_SECRET_ACCESS_KEY")
            .context("AWS_SECRET_ACCESS_KEY is not set")?,
        region: get("AWS_DEFAULT_REGION")
            .or_else(|| get("AWS_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned()),
    })
}

fn print_table(levels: &[Level]) {
    println!();
    println!(
        "{:<15} {:>5} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>9}",
        "operation",
        "conc",
        "requests",
        "req/s",
        "mean ms",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        "srv µs/rq",
        "cli µs/rq"
    );
    let us = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0}"));
    for l in levels {
        println!(
            "{:<15} {:>5} {:>9} {:>9.0} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>7} {:>9} {:>9}",
            l.op,
            l.concurrency,
            l.ok,
            l.rps(),
            l.hist.mean() / 1000.0,
            l.ms(0.50),
            l.ms(0.90),
            l.ms(0.99),
            l.hist.max() as f64 / 1000.0,
            l.errors,
            us(l.per_req_us(l.server_cpu)),
            us(l.per_req_us(l.client_cpu)),
        );
    }
    println!();
    println!(
        "srv/cli µs/rq: CPU time (user+system, all threads) of the server (with --spawn or \
         --server-pid) / of this client, per successful request."
    );
    for l in levels {
        if let Some(e) = &l.first_error {
            println!("first error in {} x{}: {e}", l.op, l.concurrency);
        }
    }
}

async fn bench(
    args: &Args,
    target: Target,
    spawned: bool,
    server_pid: Option<u32>,
    started_load: Option<[f64; 3]>,
) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let run_id = Alphanumeric
        .sample_string(&mut rand::thread_rng(), 8)
        .to_lowercase();
    let names: Vec<String> = (0..args.secrets)
        .map(|i| format!("coffer-bench/{run_id}/{i:06}"))
        .collect();
    println!(
        "coffer-bench: {} ({}), {} cores, load average {}",
        target.host,
        if spawned {
            "spawned --dev server"
        } else {
            "external server"
        },
        cores,
        fmt_load(started_load),
    );
    let b = Bench {
        target: Arc::new(target),
        names: Arc::new(names),
        server_pid,
        clk_tck: clk_tck(),
    };

    // Setup: the first secret alone (checks credentials and the round trip), then the rest.
    let first_value = random_value(&mut StdRng::from_entropy(), args.value_size);
    let mut conn = Conn::connect(b.target.addr).await?;
    let body = json!({ "Name": b.names[0], "SecretString": first_value });
    let r = conn
        .call(
            &b.target,
            "CreateSecret",
            Bytes::from(serde_json::to_vec(&body)?),
        )
        .await?;
    if r.status != StatusCode::OK {
        bail!("CreateSecret failed: {}", describe(r.status, &r.body));
    }
    let value_size = args.value_size;
    let (secs, create_hist) = b
        .for_each_secret(
            "CreateSecret",
            args.create_concurrency,
            move |name, rng| {
                let v = json!({ "Name": name, "SecretString": random_value(rng, value_size) });
                Bytes::from(serde_json::to_vec(&v).expect("JSON of strings"))
            },
            1,
        )
        .await?;
    let created = args.secrets - 1;
    let create_rate = created as f64 / secs;
    println!(
        "setup: created {} secrets ({}-byte values, {} in flight) in {:.2} s: {:.0} creates/s, p50 {:.2} ms, p99 {:.2} ms",
        args.secrets,
        args.value_size,
        args.create_concurrency,
        secs,
        create_rate,
        create_hist.value_at_quantile(0.5) as f64 / 1000.0,
        create_hist.value_at_quantile(0.99) as f64 / 1000.0,
    );
    let body = json!({ "SecretId": b.names[0] });
    let r = conn
        .call(
            &b.target,
            "GetSecretValue",
            Bytes::from(serde_json::to_vec(&body)?),
        )
        .await?;
    let got: Value = serde_json::from_slice(&r.body).unwrap_or_default();
    if r.status != StatusCode::OK || got["SecretString"].as_str() != Some(first_value.as_str()) {
        bail!(
            "GetSecretValue did not return the stored value: {}",
            describe(r.status, &r.body)
        );
    }
    drop(conn);

    let warmup = Duration::from_secs(args.warmup);
    let mut levels = Vec::new();
    for &c in &args.concurrency {
        let l = b
            .level(Work::Get, c, warmup, Duration::from_secs(args.duration))
            .await?;
        println!(
            "  GetSecretValue x{c}: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {} errors (load {})",
            l.rps(),
            l.ms(0.5),
            l.ms(0.99),
            l.errors,
            fmt_load(l.load_after)
        );
        levels.push(l);
    }
    if args.write_concurrency > 0 {
        let l = b
            .level(
                Work::Put {
                    value_size: args.value_size,
                },
                args.write_concurrency,
                warmup.min(Duration::from_secs(1)),
                Duration::from_secs(args.write_duration),
            )
            .await?;
        println!(
            "  PutSecretValue x{}: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {} errors",
            args.write_concurrency,
            l.rps(),
            l.ms(0.5),
            l.ms(0.99),
            l.errors
        );
        levels.push(l);
    }
    print_table(&levels);

    if !spawned && !args.keep {
        let (secs, _) = b
            .for_each_secret(
                "DeleteSecret",
                args.create_concurrency,
                |name, _| {
                    let v = json!({ "SecretId": name, "ForceDeleteWithoutRecovery": true });
                    Bytes::from(serde_json::to_vec(&v).expect("JSON of strings"))
                },
                0,
            )
            .await
            .context("deleting the benchmark's secrets (use --keep to skip)")?;
        println!(
            "cleanup: force-deleted {} secrets in {secs:.2} s",
            args.secrets
        );
    }

    if let Some(path) = &args.json {
        let out = json!({
            "endpoint": b.target.host,
            "spawned": spawned,
            "cores": cores,
            "loadavg_start": started_load,
            "loadavg_end": loadavg(),
            "config": {
                "secrets": args.secrets,
                "value_size": args.value_size,
                "duration_secs": args.duration,
                "warmup_secs": args.warmup,
                "write_duration_secs": args.write_duration,
            },
            "setup": {
                "op": "CreateSecret",
                "secrets": args.secrets,
                "concurrency": args.create_concurrency,
                "seconds": secs,
                "creates_per_sec": create_rate,
                "latency_ms": {
                    "p50": create_hist.value_at_quantile(0.5) as f64 / 1000.0,
                    "p99": create_hist.value_at_quantile(0.99) as f64 / 1000.0,
                    "max": create_hist.max() as f64 / 1000.0,
                },
            },
            "levels": levels.iter().map(Level::to_json).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&out)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.check()?;
    let load = loadavg();
    match &args.spawn {
        Some(bin) => {
            let server =
                spawn::Server::start(bin, args.spawn_dir.as_deref(), &args.server_arg).await?;
            eprintln!(
                "coffer-bench: started {} (pid {}) on {} with data in {}",
                bin.display(),
                server.pid,
                server.addr,
                server.dir().display()
            );
            let target = Target {
                addr: server.addr,
                host: server.addr.to_string(),
                creds: server.creds.clone(),
            };
            let result = tokio::select! {
                r = bench(&args, target, true, Some(server.pid), load) => r,
                _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
            };
            let stopped = server.stop().await;
            result?;
            stopped
        }
        None => {
            let endpoint = args
                .endpoint
                .as_deref()
                .context("--endpoint or --spawn is required")?;
            let (addr, host) = resolve_endpoint(endpoint, args.allow_remote).await?;
            let target = Target {
                addr,
                host,
                creds: env_credentials()?,
            };
            tokio::select! {
                r = bench(&args, target, false, args.server_pid, load) => r,
                _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
            }
        }
    }
}
