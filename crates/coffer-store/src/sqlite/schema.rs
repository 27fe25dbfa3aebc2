//! Connection settings and schema migrations.
//!
//! The schema version is kept in `PRAGMA user_version`; [`MIGRATIONS`] is the ordered list
//! of scripts, script `i` taking the schema from version `i` to `i + 1`. Pending scripts are
//! applied in one `BEGIN IMMEDIATE` transaction at open. A database whose version is newer
//! than `MIGRATIONS.len()` is refused, so an old binary never writes to a newer schema.

use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, TransactionBehavior};

use crate::{StoreError, StoreResult};

/// `PRAGMA application_id` marking a Coffer database ("COFR").
const APPLICATION_ID: i64 = 0x434F_4652;

/// How long a connection waits for a lock before failing with "busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Memory-mapped I/O window for reads (pages are still read through the OS cache).
const MMAP_SIZE: i64 = 256 * 1024 * 1024;

/// WAL size (bytes) kept after a checkpoint.
const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// The ordered migrations; `MIGRATIONS[i]` upgrades version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // v1: initial schema.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);

CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY NOT NULL,
    created_ms INTEGER NOT NULL,
    admin      INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1))
);

CREATE TABLE access_keys (
    access_key_id  TEXT PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL,
    principal_arn  TEXT NOT NULL,
    wrapped_secret BLOB NOT NULL,
    status         TEXT NOT NULL,
    created_ms     INTEGER NOT NULL
);
CREATE INDEX access_keys_by_account ON access_keys (account_id);

CREATE TABLE kms_keys (
    arn        TEXT PRIMARY KEY NOT NULL,
    key_id     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    alias      TEXT,
    generation INTEGER NOT NULL,
    state      TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (account_id, region, alias)
);

CREATE TABLE kms_key_material (
    key_arn    TEXT NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    wrapped    BLOB NOT NULL,
    PRIMARY KEY (key_arn, generation)
);

CREATE TABLE secrets (
    arn              TEXT PRIMARY KEY NOT NULL,
    account_id       TEXT NOT NULL,
    region           TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT,
    kms_key_id       TEXT,
    tags_json        TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    last_changed_ms  INTEGER NOT NULL,
    last_accessed_ms INTEGER,
    deleted_ms       INTEGER,
    deletion_ms      INTEGER,
    revision         INTEGER NOT NULL,
    extra_json       TEXT NOT NULL,
    UNIQUE (account_id, region, name)
);
CREATE INDEX secrets_by_created ON secrets (account_id, region, created_ms, arn);
CREATE INDEX secrets_by_deletion ON secrets (deletion_ms) WHERE deletion_ms IS NOT NULL;

CREATE TABLE secret_versions (
    secret_arn       TEXT NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
    version_id       TEXT NOT NULL,
    stages_json      TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    last_accessed_ms INTEGER,
    kms_key_arn      TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('string', 'binary')),
    key_generation   INTEGER NOT NULL,
    wrapped_dek      BLOB NOT NULL,
    ciphertext       BLOB NOT NULL,
    PRIMARY KEY (secret_arn, version_id)
);
"#,
    // v2: IAM entities, access-key last use.
    r#"
ALTER TABLE access_keys ADD COLUMN last_used_ms INTEGER;
ALTER TABLE access_keys ADD COLUMN last_used_service TEXT;
ALTER TABLE access_keys ADD COLUMN last_used_region TEXT;
CREATE INDEX access_keys_by_principal ON access_keys (account_id, principal_arn, created_ms);
CREATE TABLE iam_entities (
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, name_key)
);
CREATE TABLE iam_revisions (
    account_id TEXT PRIMARY KEY NOT NULL,
    revision   INTEGER NOT NULL
);
"#,
    // v3: the audit log (hash-chained records) and its signed digests.
    r#"
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    account_id    TEXT NOT NULL,
    time_ms       INTEGER NOT NULL,
    event_id      TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    username      TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    read_only     INTEGER NOT NULL,
    resources     TEXT NOT NULL,
    record        TEXT NOT NULL,
    prev_hash     BLOB NOT NULL,
    hash          BLOB NOT NULL
);
CREATE INDEX audit_by_account_time ON audit_log (account_id, time_ms);
CREATE TABLE audit_digests (
    seq        INTEGER PRIMARY KEY,
    head_hash  TEXT NOT NULL,
    time_ms    INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL
);
"#,
    // v4: KMS key metadata (description, policy, tags, rotation, deletion) and aliases.
    r#"
ALTER TABLE kms_keys ADD COLUMN extra_json TEXT NOT NULL DEFAULT '{}';
CREATE INDEX kms_keys_by_account ON kms_keys (account_id, region, created_ms, arn);
CREATE TABLE kms_aliases (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    target_arn TEXT NOT NULL REFERENCES kms_keys (arn) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, name)
);
"#,
];

/// The schema version this build creates and understands.
pub(crate) fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Settings shared by every connection.
fn configure_common(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Query-planner stability: plans never depend on bound values. Without it SQLite marks
    // join statements "re-prepare on rebind", and every cached statement reuse would parse
    // and plan the SQL again (measured: ~9 of 10 executions of the load query).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Settings for the single writer connection (also used for in-memory databases).
pub(crate) fn configure_writer(conn: &Connection, in_memory: bool) -> StoreResult<()> {
    configure_common(conn)?;
    if !in_memory {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "could not enable WAL journal mode (got {mode})"
            )));
        }
        conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
        // After a checkpoint, truncate a WAL that grew past this (bursts of writes).
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    }
    // FULL: in WAL mode every commit fsyncs the WAL, so an acknowledged commit survives
    // power loss, not only a process crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Settings for a read-only pool connection.
pub(crate) fn configure_reader(conn: &Connection) -> StoreResult<()> {
    configure_common(conn)?;
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(())
}

/// Brings the schema up to [`current_version`], or refuses a newer or foreign database.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let app_id: i64 = tx.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::Corrupt(format!(
            "not a Coffer database (application_id {app_id:#x})"
        )));
    }
    if app_id == 0 && version != 0 {
        return Err(StoreError::Corrupt(
            "not a Coffer database (foreign schema present)".into(),
        ));
    }
    let known = current_version();
    if version > known {
        return Err(StoreError::Corrupt(format!(
            "database schema version {version} is newer than this build of Coffer supports \
             (at most {known}); upgrade Coffer or restore a backup"
        )));
    }
    if version < 0 {
        return Err(StoreError::Corrupt(format!(
            "invalid database schema version {version}"
        )));
    }
    if version == 0 {
        let objects: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if objects != 0 {
            return Err(StoreError::Corrupt(
                "not a Coffer database (foreign tables present)".into(),
            ));
        }
    }
    if version == known {
        return Ok(()); // nothing to do; dropping the transaction rolls back (no changes)
    }
    for (i, script) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(script)?;
        tracing::info!(from = i, to = i + 1, "applied store schema migration");
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}
