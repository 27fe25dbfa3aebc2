//! Service behaviour that depends on time or concurrency, with a manual clock and the
//! in-memory and SQLite stores (no HTTP).

use coffer_core::clock::DAY_MS;
use coffer_core::{AWSCURRENT, AWSPREVIOUS, ManualClock};
use coffer_protocol::ErrorCode;
use coffer_protocol::shapes::*;
use coffer_service::{Caller, Keyring, Service};
use coffer_store::{MemoryStore, SqliteStore, Store};
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000;

async fn service(store: Arc<dyn Store>) -> (Service, ManualClock, Caller) {
    let clock = ManualClock::new(T0);
    let keyring = Arc::new(Keyring::new());
    keyring.set_root(coffer_crypto::SymmetricKey::generate());
    let svc = Service::new(store, keyring, Arc::new(clock.clone()));
    let creds = svc.create_account(true, None).await.unwrap();
    let caller = Caller::root(&creds.account_id, "us-east-1", &creds.access_key_id);
    (svc, clock, caller)
}

fn text(s: &str) -> Option<SecretText> {
    Some(SecretText(zeroize::Zeroizing::new(s.to_owned())))
}

async fn create(svc: &Service, c: &Caller, name: &str, value: &str) -> CreateSecretOutput {
    svc.create_secret(
        c,
        CreateSecretInput {
            name: Some(name.into()),
            secret_string: text(value),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn get(svc: &Service, c: &Caller, id: &str) -> Result<String, coffer_protocol::ApiError> {
    svc.get_secret_value(
        c,
        GetSecretValueInput {
            secret_id: Some(id.into()),
            ..Default::default()
        },
    )
    .await
    .map(|v| v.secret_string.unwrap().0.to_string())
}

#[tokio::test]
async fn deletion_window_then_purge_frees_the_name() {
    let (svc, clock, c) = service(Arc::new(MemoryStore::new())).await;
    create(&svc, &c, "app/db", "v1").await;
    let out = svc
        .delete_secret(
            &c,
            DeleteSecretInput {
                secret_id: Some("app/db".into()),
                recovery_window_in_days: Some(7),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.deletion_date, (T0 + 7 * DAY_MS) as f64 / 1000.0);
    assert_eq!(
        get(&svc, &c, "app/db").await.unwrap_err().code,
        ErrorCode::InvalidRequestException
    );
    // The name stays taken during the window.
    let e = svc
        .create_secret(
            &c,
            CreateSecretInput {
                name: Some("app/db".into()),
                secret_string: text("x"),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequestException);
    clock.advance(7 * DAY_MS - 1);
    assert_eq!(
        svc.purge_due().await.unwrap(),
        0,
        "purged before the window ended"
    );
    clock.advance(1);
    assert_eq!(svc.purge_due().await.unwrap(), 1);
    assert_eq!(
        get(&svc, &c, "app/db").await.unwrap_err().code,
        ErrorCode::ResourceNotFoundException
    );
    create(&svc, &c, "app/db", "v2").await;
    assert_eq!(get(&svc, &c, "app/db").await.unwrap(), "v2");
}

#[tokio::test]
async fn restore_cancels_purge() {
    let (svc, clock, c) = service(Arc::new(MemoryStore::new())).await;
    create(&svc, &c, "keep", "v").await;
    svc.delete_secret(
        &c,
        DeleteSecretInput {
            secret_id: Some("keep".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    svc.restore_secret(
        &c,
        SecretIdInput {
            secret_id: Some("keep".into()),
        },
    )
    .await
    .unwrap();
    clock.advance(31 * DAY_MS);
    assert_eq!(svc.purge_due().await.unwrap(), 0);
    assert_eq!(get(&svc, &c, "keep").await.unwrap(), "v");
}

#[tokio::test]
async fn old_unlabeled_versions_beyond_100_are_removed() {
    let (svc, clock, c) = service(Arc::new(MemoryStore::new())).await;
    create(&svc, &c, "many", "v0").await;
    for i in 1..=105 {
        clock.advance(1000);
        svc.put_secret_value(
            &c,
            PutSecretValueInput {
                secret_id: Some("many".into()),
                secret_string: text(&format!("v{i}")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let count = |svc: Service, c: Caller| async move {
        svc.list_secret_version_ids(
            &c,
            ListSecretVersionIdsInput {
                secret_id: Some("many".into()),
                include_deprecated: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .versions
        .len()
    };
    // Nothing is older than 24 hours yet: all 106 kept.
    assert_eq!(count(svc.clone(), c.clone()).await, 100, "first page");
    let all = svc.store().list(&c.account_id, "us-east-1").await.unwrap();
    assert_eq!(all[0].versions.len(), 106);
    clock.advance(DAY_MS + 1);
    svc.put_secret_value(
        &c,
        PutSecretValueInput {
            secret_id: Some("many".into()),
            secret_string: text("last"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let all = svc.store().list(&c.account_id, "us-east-1").await.unwrap();
    let versions = &all[0].versions;
    assert_eq!(versions.len(), 100);
    assert_eq!(
        versions
            .iter()
            .filter(|v| v.stages.iter().any(|s| s == AWSCURRENT))
            .count(),
        1
    );
    assert_eq!(
        versions
            .iter()
            .filter(|v| v.stages.iter().any(|s| s == AWSPREVIOUS))
            .count(),
        1
    );
    assert_eq!(get(&svc, &c, "many").await.unwrap(), "last");
}

#[tokio::test]
async fn last_accessed_is_day_resolution() {
    let (svc, clock, c) = service(Arc::new(MemoryStore::new())).await;
    clock.advance(5 * 3_600_000);
    create(&svc, &c, "seen", "v").await;
    let d = svc
        .describe_secret(
            &c,
            SecretIdInput {
                secret_id: Some("seen".into()),
            },
        )
        .await
        .unwrap();
    assert!(d.last_accessed_date.is_none());
    get(&svc, &c, "seen").await.unwrap();
    for _ in 0..50 {
        let d = svc
            .describe_secret(
                &c,
                SecretIdInput {
                    secret_id: Some("seen".into()),
                },
            )
            .await
            .unwrap();
        if let Some(t) = d.last_accessed_date {
            assert_eq!((t * 1000.0) as i64 % DAY_MS, 0, "not midnight UTC");
            assert!((t * 1000.0) as i64 <= clock_now(&clock));
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("LastAccessedDate never recorded");
}

fn clock_now(c: &ManualClock) -> i64 {
    coffer_core::Clock::now_ms(c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_one_current() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("c.db")).unwrap());
    let (svc, _clock, c) = service(store).await;
    create(&svc, &c, "busy", "v0").await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (svc, c) = (svc.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..10 {
                let out = svc
                    .put_secret_value(
                        &c,
                        PutSecretValueInput {
                            secret_id: Some("busy".into()),
                            secret_string: text(&format!("t{t}-{i}")),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                ids.push((out.version_id.unwrap(), format!("t{t}-{i}")));
            }
            ids
        }));
    }
    let mut written = Vec::new();
    for t in tasks {
        written.extend(t.await.unwrap());
    }
    let all = svc.store().list(&c.account_id, "us-east-1").await.unwrap();
    let versions = &all[0].versions;
    assert_eq!(versions.len(), 81);
    coffer_core::labels::check_invariants(versions).unwrap();
    for (id, value) in written {
        let v = svc
            .get_secret_value(
                &c,
                GetSecretValueInput {
                    secret_id: Some("busy".into()),
                    version_id: Some(id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(v.secret_string.unwrap().0.as_str(), value);
    }
}

#[tokio::test]
async fn ciphertext_moved_between_versions_fails_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("m.db")).unwrap());
    let (svc, _clock, c) = service(store.clone()).await;
    let a = create(&svc, &c, "a", "alpha").await;
    let b = create(&svc, &c, "b", "bravo").await;
    let sealed_a = store
        .sealed_value(&a.arn, a.version_id.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    // Swap b's stored value for a's, directly in the database.
    let conn = rusqlite_free_swap(
        &dir.path().join("m.db"),
        &b.arn,
        b.version_id.as_ref().unwrap(),
        &sealed_a,
    );
    assert!(conn);
    let e = get(&svc, &c, "b").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DecryptionFailure);
    assert_eq!(get(&svc, &c, "a").await.unwrap(), "alpha");
}

/// Overwrites one version's wrapped key and ciphertext with another's via the sqlite3 CLI
/// semantics of the store's own schema (kept in a helper so the test reads simply).
fn rusqlite_free_swap(
    db: &std::path::Path,
    arn: &str,
    version: &str,
    from: &coffer_core::SealedValue,
) -> bool {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let sql = format!(
        "UPDATE secret_versions SET wrapped_dek = x'{}', ciphertext = x'{}' WHERE secret_arn = '{}' AND version_id = '{}';",
        hex(&from.wrapped_dek),
        hex(&from.ciphertext),
        arn,
        version
    );
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(&sql).is_ok()
}
