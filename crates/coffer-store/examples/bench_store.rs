//! Read throughput of the SQLite store on the GetSecretValue path (`load` + `sealed_value`).
//!
//! Creates 1,000 secrets with one version each in a temporary file, then reads them from
//! 4 concurrent tokio tasks for ~3 s and prints reads/s; then the same with the one-round-trip
//! `load_with_value`.
//!
//! `cargo run --release -p coffer-store --example bench_store`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use coffer_core::{SealedValue, SecretRecord, ValueKind, VersionRecord};
use coffer_store::{Change, Lookup, NewVersion, SqliteStore, Store, VersionSelector};

const SECRETS: usize = 1_000;
const TASKS: usize = 4;
const DURATION: Duration = Duration::from_secs(3);
const KMS: &str = "arn:aws:kms:us-east-1:123456789012:key/bench";

fn arn(i: usize) -> String {
    format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/{i}-AbCdEf")
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).expect("open"));

    let started = Instant::now();
    for i in 0..SECRETS {
        let secret = SecretRecord {
            arn: arn(i),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            name: format!("bench/{i}"),
            description: Some("benchmark secret".into()),
            kms_key_id: None,
            tags: vec![],
            created_ms: i as i64,
            last_changed_ms: i as i64,
            last_accessed_ms: None,
            deleted_ms: None,
            deletion_ms: None,
            revision: 1,
            extra: serde_json::Value::Null,
        };
        let version = NewVersion {
            record: VersionRecord {
                version_id: format!("{i:08}-0000-4000-8000-000000000000"),
                stages: vec!["AWSCURRENT".into()],
                created_ms: i as i64,
                last_accessed_ms: None,
                kms_key_arn: KMS.into(),
            },
            sealed: SealedValue {
                kind: ValueKind::String,
                kms_key_arn: KMS.into(),
                key_generation: 1,
                wrapped_dek: vec![7; 60],
                ciphertext: vec![9; 128],
            },
        };
        store
            .commit(Change::Create {
                secret,
                version: Some(version),
            })
            .await
            .expect("create");
    }
    let elapsed = started.elapsed();
    println!(
        "created {SECRETS} secrets in {:.2} s ({:.0} commits/s, synchronous=FULL)",
        elapsed.as_secs_f64(),
        SECRETS as f64 / elapsed.as_secs_f64()
    );

    let separate = measure(&store, false).await;
    println!("load + sealed_value: {separate:.0} reads/s ({TASKS} tasks, {DURATION:?})");
    let combined = measure(&store, true).await;
    println!("load_with_value:     {combined:.0} reads/s ({TASKS} tasks, {DURATION:?})");
}

/// Reads from `TASKS` tasks for `DURATION`; returns reads per second.
async fn measure(store: &Arc<SqliteStore>, combined: bool) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = Arc::clone(store);
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let mut reads = 0u64;
            let mut i = t * 7919;
            let current = VersionSelector::Stage("AWSCURRENT".into());
            while !stop.load(Ordering::Relaxed) {
                i = (i + 104_729) % SECRETS;
                let lookup = Lookup::Arn(arn(i));
                let sealed = if combined {
                    let (_, sealed) = store
                        .load_with_value(&lookup, &current)
                        .await
                        .expect("load_with_value")
                        .expect("exists");
                    sealed
                } else {
                    let state = store.load(&lookup).await.expect("load").expect("exists");
                    let version = state.version_with_label("AWSCURRENT").expect("current");
                    store
                        .sealed_value(&state.secret.arn, &version.version_id)
                        .await
                        .expect("sealed_value")
                };
                std::hint::black_box(sealed.expect("value"));
                reads += 1;
            }
            reads
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(DURATION).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("task");
    }
    total as f64 / started.elapsed().as_secs_f64()
}
