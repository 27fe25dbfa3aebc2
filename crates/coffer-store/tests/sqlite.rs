//! SQLite-specific behaviour: files, permissions, migrations, durability across reopen.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use coffer_core::{SealedValue, SecretRecord, ValueKind, VersionRecord};
use coffer_store::{Change, Lookup, NewVersion, SqliteStore, Store, StoreError};

fn secret(name: &str) -> SecretRecord {
    SecretRecord {
        arn: format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"),
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        name: name.into(),
        description: None,
        kms_key_id: None,
        tags: vec![],
        created_ms: 1,
        last_changed_ms: 1,
        last_accessed_ms: None,
        deleted_ms: None,
        deletion_ms: None,
        revision: 1,
        extra: serde_json::Value::Null,
    }
}

fn new_version() -> NewVersion {
    let kms = "arn:aws:kms:us-east-1:123456789012:key/k".to_string();
    NewVersion {
        record: VersionRecord {
            version_id: "v1".into(),
            stages: vec!["AWSCURRENT".into()],
            created_ms: 1,
            last_accessed_ms: None,
            kms_key_arn: kms.clone(),
        },
        sealed: SealedValue {
            kind: ValueKind::String,
            kms_key_arn: kms,
            key_generation: 1,
            wrapped_dek: vec![1; 60],
            ciphertext: vec![2; 100],
        },
    }
}

async fn write_one(path: &Path, name: &str) {
    let store = SqliteStore::open(path).unwrap();
    store
        .commit(Change::Create {
            secret: secret(name),
            version: Some(new_version()),
        })
        .await
        .unwrap();
    store.put_meta("seal", b"config").await.unwrap();
}

fn user_version(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn reopen_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coffer.db");
    write_one(&path, "durable").await;
    // The store is dropped: reopen and read everything back.
    let store = SqliteStore::open(&path).unwrap();
    let state = store
        .load(&Lookup::Arn(secret("durable").arn))
        .await
        .unwrap()
        .expect("persisted");
    assert_eq!(state.secret, secret("durable"));
    assert_eq!(state.versions, vec![new_version().record]);
    let sealed = store
        .sealed_value(&secret("durable").arn, "v1")
        .await
        .unwrap();
    assert_eq!(sealed, Some(new_version().sealed));
    assert_eq!(store.get_meta("seal").await.unwrap().unwrap(), b"config");
    // Migrations are not re-applied; the version is current.
    drop(store);
    assert_eq!(user_version(&path), SqliteStore::schema_version());
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.list("123456789012", "us-east-1").await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn future_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coffer.db");
    write_one(&path, "x").await;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SqliteStore::schema_version() + 1)
            .unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    match err {
        StoreError::Corrupt(msg) => assert!(msg.contains("newer"), "{msg}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Nothing was changed by the refused open.
    assert_eq!(user_version(&path), SqliteStore::schema_version() + 1);
}

#[tokio::test]
async fn foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other_db = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&other_db).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
    }
    assert!(matches!(
        SqliteStore::open(&other_db).unwrap_err(),
        StoreError::Corrupt(_)
    ));

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        SqliteStore::open(&garbage).unwrap_err(),
        StoreError::Corrupt(_)
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn creates_private_file_and_parents() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/coffer.db");
    let store = SqliteStore::open(&path).unwrap();
    store.put_meta("k", b"v").await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let wal = path.with_extension("db-wal");
    let wal_mode = std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777;
    assert_eq!(wal_mode, 0o600, "the WAL holds the same data");
    let parent = std::fs::metadata(dir.path().join("a/b"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(parent, 0o700);
}

#[tokio::test]
async fn clones_share_state_and_readers_see_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with_readers(&dir.path().join("c.db"), 2).unwrap();
    let other = store.clone();
    for i in 0..20 {
        let name = format!("s{i}");
        store
            .commit(Change::Create {
                secret: secret(&name),
                version: None,
            })
            .await
            .unwrap();
        // Read-after-write through any reader connection.
        assert!(
            other
                .load(&Lookup::Arn(secret(&name).arn))
                .await
                .unwrap()
                .is_some()
        );
    }
}

/// Environment variable naming the database of [`kill9_child_writer`].
const KILL9_DB: &str = "COFFER_STORE_KILL9_DB";

/// Child process of [`kill9_keeps_acknowledged_commits`]: commits secrets forever, printing
/// `acked <i>` after each acknowledged commit.
#[tokio::test]
#[ignore = "run as a child process by kill9_keeps_acknowledged_commits"]
async fn kill9_child_writer() {
    let Ok(path) = std::env::var(KILL9_DB) else {
        return;
    };
    let store = SqliteStore::open(Path::new(&path)).unwrap();
    let mut out = std::io::stdout();
    for i in 0.. {
        store
            .commit(Change::Create {
                secret: secret(&format!("k{i}")),
                version: Some(new_version()),
            })
            .await
            .unwrap();
        writeln!(out, "acked {i}").unwrap();
        out.flush().unwrap();
    }
}

/// Commits acknowledged before a SIGKILL are all there after reopening.
#[test]
fn kill9_keeps_acknowledged_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill9.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["kill9_child_writer", "--exact", "--ignored", "--nocapture"])
        .env(KILL9_DB, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked: i64 = -1;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(n) = line.unwrap().strip_prefix("acked ") {
            acked = n.trim().parse().unwrap();
            if acked >= 30 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no checkpoint, no clean close
    child.wait().unwrap();
    assert!(acked >= 30, "child acknowledged only {acked} commits");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&path).unwrap();
        for i in 0..=acked {
            let arn = secret(&format!("k{i}")).arn;
            let state = store.load(&Lookup::Arn(arn.clone())).await.unwrap();
            assert!(state.is_some(), "acknowledged commit {i} lost");
            assert!(store.sealed_value(&arn, "v1").await.unwrap().is_some());
        }
    });
}
