//! Crash consistency: writers run PutSecretValue and UpdateSecretVersionStage against a few
//! secrets while the server is SIGKILLed at random moments, 25 times. After every restart:
//!
//! - every acknowledged (HTTP 200) PutSecretValue version is listed and reads back exactly;
//! - a write in flight at the kill either landed completely or not at all (a put's version
//!   exists iff its label changes are visible; a label move is either applied or not);
//! - every label is on at most one version, exactly one version is AWSCURRENT, and
//!   GetSecretValue(AWSCURRENT) answers with that version's value;
//! - the label placement equals the model built from the acknowledged operations (with the
//!   one in-flight operation per writer either applied or not).
//!
//! Each secret has two writers, each the only one to touch its own labels: "A" puts new
//! AWSCURRENT versions and moves `CUSTOM-A` and AWSCURRENT (with RemoveFromVersionId);
//! "B" puts versions labelled `B-PENDING` and moves `CUSTOM-B`. A writer's operations are
//! sequential, so its labels' placement is exactly predictable, while the two writers (and
//! the four secrets) still commit concurrently.
//!
//! Set `COFFER_CRASH_SEED` to replay a run's random choices (timing still varies).

mod crash_support;

use crash_support::{Api, Server, alnum};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SECRETS: usize = 4;
const KILLS: usize = 25;
const READ_TASKS: usize = 8;
const CUR: &str = "AWSCURRENT";
const PREV: &str = "AWSPREVIOUS";

/// Which labels a writer owns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// AWSCURRENT, AWSPREVIOUS and CUSTOM-A.
    A,
    /// B-PENDING and CUSTOM-B.
    B,
}

impl Role {
    fn labels(self) -> &'static [&'static str] {
        match self {
            Role::A => &[CUR, PREV, "CUSTOM-A"],
            Role::B => &["B-PENDING", "CUSTOM-B"],
        }
    }
    fn custom(self) -> &'static str {
        match self {
            Role::A => "CUSTOM-A",
            Role::B => "CUSTOM-B",
        }
    }
}

/// label → version id, restricted to one writer's labels.
type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug)]
enum Op {
    Put {
        version: String,
        value: String,
    },
    Move {
        label: String,
        to: Option<String>,
        from: Option<String>,
    },
}

/// The operation a writer had in flight when the server was killed.
#[derive(Debug)]
struct Uncertain {
    op: Op,
    before: Labels,
    after: Labels,
}

#[derive(Default, Debug, Clone, Copy)]
struct Stats {
    acked_puts: u64,
    acked_moves: u64,
    rejected: u64,
    in_flight_landed: u64,
    in_flight_lost: u64,
    reads_verified: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.acked_puts += o.acked_puts;
        self.acked_moves += o.acked_moves;
        self.rejected += o.rejected;
        self.in_flight_landed += o.in_flight_landed;
        self.in_flight_lost += o.in_flight_lost;
        self.reads_verified += o.reads_verified;
    }
}

/// One writer: its model of the secret and its history.
struct Writer {
    role: Role,
    index: usize,
    secret: String,
    /// Where this writer's labels are (model).
    labels: Labels,
    /// Versions this writer created that are known to exist, with their values.
    versions: Vec<(String, String)>,
    /// Versions whose put was refused or never sent (must not exist).
    rejected_puts: Vec<String>,
    uncertain: Option<Uncertain>,
    rng: StdRng,
    seq: u64,
    stats: Stats,
}

/// The model's effect of `op` by a writer with `role` on that writer's labels.
fn apply(labels: &Labels, op: &Op, role: Role) -> Labels {
    let mut l = labels.clone();
    match op {
        Op::Put { version, .. } => match role {
            Role::A => {
                if let Some(cur) = l.get(CUR).cloned() {
                    l.insert(PREV.into(), cur);
                }
                l.insert(CUR.into(), version.clone());
            }
            Role::B => {
                l.insert("B-PENDING".into(), version.clone());
            }
        },
        Op::Move {
            label,
            to: Some(to),
            ..
        } => {
            if label == CUR {
                let cur = l[CUR].clone();
                if cur != *to {
                    l.insert(PREV.into(), cur);
                    l.insert(CUR.into(), to.clone());
                }
            } else {
                l.insert(label.clone(), to.clone());
            }
        }
        Op::Move {
            label, to: None, ..
        } => {
            l.remove(label);
        }
    }
    l
}

/// A value with some multi-byte and JSON-special characters, 40 B to 12 KB (several pages).
fn make_value(rng: &mut StdRng, secret: &str, version: &str) -> String {
    let len = [16, 300, 5000, 12000][rng.gen_range(0..4)];
    let mut s = format!("{secret}/{version}/");
    if rng.gen_bool(0.3) {
        s.push_str("é\"\\\n✓{}\t");
    }
    s.push_str(&alnum(rng, len));
    s
}

impl Writer {
    fn new(role: Role, index: usize, secret: &str, seed: u64) -> Writer {
        Writer {
            role,
            index,
            secret: secret.to_owned(),
            labels: Labels::new(),
            versions: Vec::new(),
            rejected_puts: Vec::new(),
            uncertain: None,
            rng: StdRng::seed_from_u64(seed),
            seq: 0,
            stats: Stats::default(),
        }
    }

    fn tag(&self) -> String {
        format!("{:?}{}", self.role, self.index)
    }

    fn next_op(&mut self) -> Op {
        let r: f64 = self.rng.r#gen();
        if self.versions.len() < 2 || r < 0.5 {
            self.seq += 1;
            let version = format!(
                "{}-{:07}-{}",
                self.tag(),
                self.seq,
                alnum(&mut self.rng, 24)
            );
            let value = make_value(&mut self.rng, &self.secret, &version);
            return Op::Put { version, value };
        }
        let target = self.versions[self.rng.gen_range(0..self.versions.len())]
            .0
            .clone();
        if self.role == Role::A && r < 0.65 {
            // Move AWSCURRENT (which needs RemoveFromVersionId = its holder).
            return Op::Move {
                label: CUR.into(),
                from: self.labels.get(CUR).cloned(),
                to: Some(target),
            };
        }
        let custom = self.role.custom().to_owned();
        let from = self.labels.get(&custom).cloned();
        if r > 0.93 && from.is_some() {
            // Detach the custom label altogether.
            return Op::Move {
                label: custom,
                to: None,
                from,
            };
        }
        Op::Move {
            label: custom,
            to: Some(target),
            from,
        }
    }

    fn request(&self, op: &Op) -> (&'static str, Value) {
        match op {
            Op::Put { version, value } => {
                let mut body = json!({
                    "SecretId": self.secret,
                    "ClientRequestToken": version,
                    "SecretString": value,
                });
                if self.role == Role::B {
                    body["VersionStages"] = json!(["B-PENDING"]);
                }
                ("PutSecretValue", body)
            }
            Op::Move { label, to, from } => {
                let mut body = json!({ "SecretId": self.secret, "VersionStage": label });
                if let Some(t) = to {
                    body["MoveToVersionId"] = json!(t);
                }
                if let Some(f) = from {
                    body["RemoveFromVersionId"] = json!(f);
                }
                ("UpdateSecretVersionStage", body)
            }
        }
    }

    /// Writes until `stop` or the first transport error (the server died).
    async fn run(mut self, api: Api, stop: Arc<AtomicBool>) -> Writer {
        while !stop.load(Ordering::Acquire) {
            let op = self.next_op();
            let before = self.labels.clone();
            let after = apply(&before, &op, self.role);
            let (name, body) = self.request(&op);
            match api.call(name, &body).await {
                Err(e) if e.is_connect() => {
                    // Never sent (the server is gone): must not have happened.
                    if let Op::Put { version, .. } = op {
                        self.rejected_puts.push(version);
                    }
                    break;
                }
                Err(_) => {
                    // Sent, no answer: may or may not have been applied.
                    self.uncertain = Some(Uncertain { op, before, after });
                    break;
                }
                Ok(r) if r.status == 200 => {
                    let out = r.json();
                    assert_eq!(out["Name"], json!(self.secret), "{name}: {out}");
                    match op {
                        Op::Put { version, value } => {
                            assert_eq!(out["VersionId"], json!(version), "{name}: {out}");
                            self.versions.push((version, value));
                            self.stats.acked_puts += 1;
                        }
                        Op::Move { .. } => self.stats.acked_moves += 1,
                    }
                    self.labels = after;
                }
                Ok(r) => {
                    // The only acceptable refusal: optimistic-concurrency retries exhausted.
                    assert!(
                        r.status >= 500 && r.text().contains("concurrently"),
                        "{} {name} {body} was refused: {} {}",
                        self.tag(),
                        r.status,
                        r.text()
                    );
                    if let Op::Put { version, .. } = op {
                        self.rejected_puts.push(version);
                    }
                    self.stats.rejected += 1;
                }
            }
        }
        self
    }
}

/// Every version of `secret` (deprecated included) with its labels.
async fn list_versions(api: &Api, secret: &str) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "SecretId": secret, "IncludeDeprecated": true, "MaxResults": 100 });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let out = api.ok("ListSecretVersionIds", &body).await;
        for v in out["Versions"].as_array().expect("Versions") {
            let id = v["VersionId"].as_str().unwrap().to_owned();
            let mut stages: Vec<String> = v["VersionStages"]
                .as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            stages.sort();
            assert!(
                all.insert(id.clone(), stages).is_none(),
                "{secret}: version {id} listed twice"
            );
        }
        match out["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    all
}

fn restrict(holders: &BTreeMap<String, String>, role: Role) -> Labels {
    holders
        .iter()
        .filter(|(l, _)| role.labels().contains(&l.as_str()))
        .map(|(l, v)| (l.clone(), v.clone()))
        .collect()
}

/// One read to check: secret, version, expected value, expected labels.
type ReadCheck = (String, String, String, Vec<String>);

/// Checks one secret's versions and labels against its two writers; returns reads to do.
async fn check_secret(api: &Api, a: &mut Writer, b: &mut Writer, kill: usize) -> Vec<ReadCheck> {
    let secret = a.secret.clone();
    let listed = list_versions(api, &secret).await;
    let mut holders: BTreeMap<String, String> = BTreeMap::new();
    for (v, stages) in &listed {
        for s in stages {
            if let Some(other) = holders.insert(s.clone(), v.clone()) {
                panic!("after kill {kill}: {secret}: label {s} is on both {other} and {v}");
            }
        }
    }
    assert!(
        holders.contains_key(CUR),
        "after kill {kill}: {secret} has no AWSCURRENT version"
    );
    for label in holders.keys() {
        assert!(
            Role::A.labels().contains(&label.as_str())
                || Role::B.labels().contains(&label.as_str()),
            "after kill {kill}: {secret}: unexpected label {label}"
        );
    }
    for w in [&mut *a, &mut *b] {
        let actual = restrict(&holders, w.role);
        match w.uncertain.take() {
            None => assert_eq!(
                actual,
                w.labels,
                "after kill {kill}: {}: labels differ from the acknowledged operations",
                w.tag()
            ),
            Some(u) => {
                let landed = match &u.op {
                    Op::Put { version, value } => {
                        let landed = listed.contains_key(version);
                        let want = if landed { &u.after } else { &u.before };
                        assert_eq!(
                            &actual,
                            want,
                            "after kill {kill}: {}: in-flight put {version} landed={landed} but labels are inconsistent with it",
                            w.tag()
                        );
                        if landed {
                            w.versions.push((version.clone(), value.clone()));
                        }
                        landed
                    }
                    Op::Move { .. } => {
                        assert!(
                            actual == u.before || actual == u.after,
                            "after kill {kill}: {}: in-flight {:?}: labels {actual:?} are neither before {:?} nor after {:?}",
                            w.tag(),
                            u.op,
                            u.before,
                            u.after
                        );
                        actual == u.after && u.after != u.before
                    }
                };
                if landed {
                    w.stats.in_flight_landed += 1;
                } else {
                    w.stats.in_flight_lost += 1;
                }
                w.labels = actual;
            }
        }
    }
    let mut known: BTreeMap<&str, &str> = BTreeMap::new();
    for (v, value) in a.versions.iter().chain(&b.versions) {
        assert!(
            listed.contains_key(v),
            "after kill {kill}: {secret}: acknowledged version {v} is missing"
        );
        known.insert(v, value);
    }
    for v in a.rejected_puts.iter().chain(&b.rejected_puts) {
        assert!(
            !listed.contains_key(v),
            "after kill {kill}: {secret}: version {v} exists although its put was refused"
        );
    }
    for v in listed.keys() {
        assert!(
            known.contains_key(v.as_str()),
            "after kill {kill}: {secret}: unknown version {v}"
        );
    }
    // The current value.
    let cur = &holders[CUR];
    let out = api
        .ok("GetSecretValue", &json!({ "SecretId": secret }))
        .await;
    assert_eq!(
        out["VersionId"],
        json!(cur),
        "after kill {kill}: {secret}: AWSCURRENT read"
    );
    assert_eq!(
        out["SecretString"].as_str(),
        Some(known[cur.as_str()]),
        "after kill {kill}: {secret}: AWSCURRENT value"
    );
    known
        .iter()
        .map(|(v, value)| {
            (
                secret.clone(),
                v.to_string(),
                value.to_string(),
                listed[*v].clone(),
            )
        })
        .collect()
}

/// Reads every version by id and compares value and labels.
async fn check_reads(api: &Api, checks: Vec<ReadCheck>, kill: usize) -> u64 {
    let n = checks.len() as u64;
    let chunk = checks.len().div_ceil(READ_TASKS).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for part in checks.chunks(chunk) {
        let part = part.to_vec();
        let api = api.clone();
        tasks.spawn(async move {
            for (secret, v, value, stages) in part {
                let r = api
                    .call("GetSecretValue", &json!({ "SecretId": secret, "VersionId": v }))
                    .await
                    .expect("GetSecretValue transport");
                assert_eq!(
                    r.status,
                    200,
                    "after kill {kill}: {secret}: version {v} unreadable: {}",
                    r.text()
                );
                let out = r.json();
                assert_eq!(out["VersionId"], json!(v));
                assert!(
                    out["SecretString"].as_str() == Some(value.as_str()),
                    "after kill {kill}: {secret}: version {v} reads back a different value ({} bytes, want {})",
                    out["SecretString"].as_str().map_or(0, str::len),
                    value.len()
                );
                let mut got: Vec<String> = out["VersionStages"]
                    .as_array()
                    .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default();
                got.sort();
                assert_eq!(got, stages, "after kill {kill}: {secret}: labels of {v}");
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    n
}

async fn verify(api: &Api, writers: &mut [Writer], kill: usize) -> u64 {
    let mut checks = Vec::new();
    for pair in writers.chunks_mut(2) {
        let [a, b] = pair else { unreachable!() };
        checks.extend(check_secret(api, a, b, kill).await);
    }
    check_reads(api, checks, kill).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let started = Instant::now();
    let seed: u64 = std::env::var("COFFER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test seed: {seed} (COFFER_CRASH_SEED)");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let mut server = Server::start(&data, "info");
    let creds = server
        .creds
        .clone()
        .expect("the first start prints credentials");
    let mut api = Api::new(server.port, &creds);

    let mut writers = Vec::new();
    for i in 0..SECRETS {
        let name = format!("crash-{i}");
        let mut a = Writer::new(Role::A, i, &name, rng.r#gen());
        let b = Writer::new(Role::B, i, &name, rng.r#gen());
        let v0 = format!("A{i}-initial-{}", alnum(&mut rng, 24));
        let value = make_value(&mut rng, &name, &v0);
        let out = api
            .ok(
                "CreateSecret",
                &json!({ "Name": name, "ClientRequestToken": v0, "SecretString": value }),
            )
            .await;
        assert_eq!(out["VersionId"], json!(v0));
        a.labels.insert(CUR.into(), v0.clone());
        a.versions.push((v0, value));
        writers.push(a);
        writers.push(b);
    }
    let mut reads = verify(&api, &mut writers, 0).await;

    for kill in 1..=KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = writers
            .drain(..)
            .map(|w| tokio::spawn(w.run(api.clone(), Arc::clone(&stop))))
            .collect();
        let delay = rng.gen_range(50..=400);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill();
        stop.store(true, Ordering::Release);
        for h in handles {
            writers.push(h.await.expect("writer task panicked"));
        }
        let in_flight = writers.iter().filter(|w| w.uncertain.is_some()).count();

        server = Server::start(&data, "info");
        assert!(
            server.creds.is_none(),
            "a restart must reuse the dev key, not re-initialise"
        );
        api = Api::new(server.port, &creds);
        let n = verify(&api, &mut writers, kill).await;
        reads += n;
        let acked: u64 = writers
            .iter()
            .map(|w| w.stats.acked_puts + w.stats.acked_moves)
            .sum();
        println!(
            "kill {kill:2}: after {delay:3} ms, {in_flight} ops in flight; {acked} acked ops so far; {n} versions read back"
        );
    }

    // A clean shutdown afterwards, and one more check.
    let status = server.terminate();
    assert!(
        status.success(),
        "coffer exited with {status} after SIGTERM"
    );
    server = Server::start(&data, "info");
    api = Api::new(server.port, &creds);
    reads += verify(&api, &mut writers, KILLS + 1).await;
    server.kill();

    let mut total = Stats::default();
    for w in &writers {
        total += w.stats;
    }
    total.reads_verified = reads;
    let versions: usize = writers.iter().map(|w| w.versions.len()).sum();
    let distinct: HashSet<&str> = writers
        .iter()
        .flat_map(|w| w.versions.iter().map(|(v, _)| v.as_str()))
        .collect();
    assert_eq!(versions, distinct.len());
    println!(
        "crash summary: {KILLS} SIGKILLs; acknowledged puts {} and label moves {}, all verified after every restart; \
         ops in flight at a kill: {} applied, {} not; refused (write conflicts) {}; {} versions exist; {} version reads verified; {:.1}s",
        total.acked_puts,
        total.acked_moves,
        total.in_flight_landed,
        total.in_flight_lost,
        total.rejected,
        versions,
        total.reads_verified,
        started.elapsed().as_secs_f64()
    );
    assert!(
        total.acked_puts > 0 && total.acked_moves > 0,
        "the writers made no progress"
    );
}
