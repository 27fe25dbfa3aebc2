//! Secrets and versions: reads (one statement each, so each is a consistent snapshot) and
//! the transactional [`Change`] application.

use coffer_core::{SealedValue, SecretRecord, SecretState, Tag, ValueKind, VersionRecord};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::{Change, Lookup, NewVersion, StoreError, StoreResult, StoreStats, VersionSelector};

/// `SELECT` of a secret joined with its versions' metadata; `$where` filters secrets and
/// `$order` orders the rows (versions of one secret must be adjacent, oldest first).
macro_rules! select_states {
    ($where:literal, $order:literal) => {
        concat!(
            "SELECT s.arn, s.account_id, s.region, s.name, s.description, s.kms_key_id, ",
            "s.tags_json, s.created_ms, s.last_changed_ms, s.last_accessed_ms, s.deleted_ms, ",
            "s.deletion_ms, s.revision, s.extra_json, ",
            "v.version_id, v.stages_json, v.created_ms, v.last_accessed_ms, v.kms_key_arn ",
            "FROM secrets s LEFT JOIN secret_versions v ON v.secret_arn = s.arn WHERE ",
            $where,
            " ORDER BY ",
            $order
        )
    };
}

const LOAD_BY_ARN: &str = select_states!("s.arn = ?1", "v.created_ms, v.rowid");
const LOAD_BY_NAME: &str = select_states!(
    "s.account_id = ?1 AND s.region = ?2 AND s.name = ?3",
    "v.created_ms, v.rowid"
);
const LIST: &str = select_states!(
    "s.account_id = ?1 AND s.region = ?2",
    "s.created_ms, s.arn, v.created_ms, v.rowid"
);

/// Loads one secret with its versions.
pub(super) fn load(conn: &Connection, lookup: &Lookup) -> StoreResult<Option<SecretState>> {
    let states = match lookup {
        Lookup::Arn(arn) => {
            let mut stmt = conn.prepare_cached(LOAD_BY_ARN)?;
            fold_states(stmt.query(params![arn])?)?
        }
        Lookup::Name {
            account_id,
            region,
            name,
        } => {
            let mut stmt = conn.prepare_cached(LOAD_BY_NAME)?;
            fold_states(stmt.query(params![account_id, region, name])?)?
        }
    };
    Ok(states.into_iter().next())
}

/// All secrets of an account in a region, ordered by (created_ms, arn).
pub(super) fn list(
    conn: &Connection,
    account_id: &str,
    region: &str,
) -> StoreResult<Vec<SecretState>> {
    let mut stmt = conn.prepare_cached(LIST)?;
    fold_states(stmt.query(params![account_id, region])?)
}

/// Groups joined rows (secret columns 0–13, version columns 14–18) into states.
fn fold_states(mut rows: rusqlite::Rows<'_>) -> StoreResult<Vec<SecretState>> {
    let mut out: Vec<SecretState> = Vec::new();
    while let Some(row) = rows.next()? {
        let arn: String = row.get(0)?;
        if out.last().is_none_or(|s| s.secret.arn != arn) {
            out.push(SecretState {
                secret: secret_from_row(row, arn)?,
                versions: Vec::new(),
            });
        }
        if let Some(version_id) = row.get::<_, Option<String>>(14)? {
            let stages: String = row.get(15)?;
            let version = VersionRecord {
                version_id,
                stages: decode_json(&stages, "version stages")?,
                created_ms: row.get(16)?,
                last_accessed_ms: row.get(17)?,
                kms_key_arn: row.get(18)?,
            };
            if let Some(state) = out.last_mut() {
                state.versions.push(version);
            }
        }
    }
    Ok(out)
}

fn secret_from_row(row: &Row<'_>, arn: String) -> StoreResult<SecretRecord> {
    let tags: String = row.get(6)?;
    let extra: String = row.get(13)?;
    Ok(SecretRecord {
        arn,
        account_id: row.get(1)?,
        region: row.get(2)?,
        name: row.get(3)?,
        description: row.get(4)?,
        kms_key_id: row.get(5)?,
        tags: decode_json::<Vec<Tag>>(&tags, "secret tags")?,
        created_ms: row.get(7)?,
        last_changed_ms: row.get(8)?,
        last_accessed_ms: row.get(9)?,
        deleted_ms: row.get(10)?,
        deletion_ms: row.get(11)?,
        revision: row.get(12)?,
        extra: decode_json(&extra, "secret extra data")?,
    })
}

fn decode_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt(format!("{what} are not valid")))
}

fn encode_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|_| StoreError::Backend("a value could not be encoded as JSON".into()))
}

/// The sealed value of one version.
pub(super) fn sealed_value(
    conn: &Connection,
    arn: &str,
    version_id: &str,
) -> StoreResult<Option<SealedValue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, kms_key_arn, key_generation, wrapped_dek, ciphertext \
         FROM secret_versions WHERE secret_arn = ?1 AND version_id = ?2",
    )?;
    let row = stmt
        .query_row(params![arn, version_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        })
        .optional()?;
    let Some((kind, kms_key_arn, key_generation, wrapped_dek, ciphertext)) = row else {
        return Ok(None);
    };
    let kind = ValueKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt("unknown secret value kind".into()))?;
    Ok(Some(SealedValue {
        kind,
        kms_key_arn,
        key_generation,
        wrapped_dek,
        ciphertext,
    }))
}

/// A secret, and the sealed value of the selected version, in one read transaction.
pub(super) fn load_with_value(
    conn: &Connection,
    lookup: &Lookup,
    select: &VersionSelector,
) -> StoreResult<Option<(SecretState, Option<SealedValue>)>> {
    let _snapshot = ReadSnapshot::begin(conn)?;
    let Some(state) = load(conn, lookup)? else {
        return Ok(None);
    };
    let version = match select {
        VersionSelector::Id(id) => state.version(id),
        VersionSelector::Stage(stage) => state.version_with_label(stage),
    };
    let sealed = match version {
        Some(v) => sealed_value(conn, &state.secret.arn, &v.version_id)?,
        None => None,
    };
    Ok(Some((state, sealed)))
}

/// An open read transaction: statements inside it see one snapshot. Ends on drop.
struct ReadSnapshot<'c> {
    conn: &'c Connection,
}

impl<'c> ReadSnapshot<'c> {
    fn begin(conn: &'c Connection) -> StoreResult<Self> {
        conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
        Ok(Self { conn })
    }
}

impl Drop for ReadSnapshot<'_> {
    fn drop(&mut self) {
        // Nothing was written: ending the transaction either way only releases the snapshot.
        let ended = self
            .conn
            .prepare_cached("ROLLBACK")
            .and_then(|mut stmt| stmt.execute([]));
        if let Err(e) = ended {
            tracing::warn!(error = %StoreError::from(e), "could not end a read transaction");
        }
    }
}

/// ARNs of secrets whose deletion time is at or before `now_ms`.
pub(super) fn due_for_purge(conn: &Connection, now_ms: i64) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT arn FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= ?1 \
         ORDER BY deletion_ms, arn",
    )?;
    let arns = stmt
        .query_map([now_ms], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(arns)
}

/// Store-wide counts of secrets, versions and secrets scheduled for deletion.
pub(super) fn stats(conn: &Connection) -> StoreResult<StoreStats> {
    let mut stmt = conn.prepare_cached(
        "SELECT (SELECT COUNT(*) FROM secrets), \
                (SELECT COUNT(*) FROM secret_versions), \
                (SELECT COUNT(*) FROM secrets WHERE deleted_ms IS NOT NULL)",
    )?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(stmt.query_row([], |r| {
        Ok(StoreStats {
            secrets: count(r.get(0)?),
            versions: count(r.get(1)?),
            pending_deletion: count(r.get(2)?),
        })
    })?)
}

/// True if `touch_accessed(arn, version_id, day_ms)` would change a row.
pub(super) fn access_is_stale(
    conn: &Connection,
    arn: &str,
    version_id: &str,
    day_ms: i64,
) -> StoreResult<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM secrets WHERE arn = ?1 AND last_accessed_ms IS NOT ?3) \
         OR EXISTS (SELECT 1 FROM secret_versions \
                    WHERE secret_arn = ?1 AND version_id = ?2 AND last_accessed_ms IS NOT ?3)",
    )?;
    Ok(stmt.query_row(params![arn, version_id, day_ms], |r| r.get(0))?)
}

/// Sets the secret's and the version's `last_accessed_ms`; missing rows are ignored.
pub(super) fn touch_accessed(
    conn: &mut Connection,
    arn: &str,
    version_id: &str,
    day_ms: i64,
) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(
        "UPDATE secrets SET last_accessed_ms = ?2 WHERE arn = ?1 AND last_accessed_ms IS NOT ?2",
    )?
    .execute(params![arn, day_ms])?;
    tx.prepare_cached(
        "UPDATE secret_versions SET last_accessed_ms = ?3 \
         WHERE secret_arn = ?1 AND version_id = ?2 AND last_accessed_ms IS NOT ?3",
    )?
    .execute(params![arn, version_id, day_ms])?;
    tx.commit()?;
    Ok(())
}

/// Applies one change in one `BEGIN IMMEDIATE` transaction; any error rolls it all back.
pub(super) fn commit(
    conn: &mut Connection,
    change: Change,
    audit: Option<&coffer_audit::AuditEntry>,
) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    match change {
        Change::Create { secret, version } => create(&tx, &secret, version.as_ref())?,
        Change::Update {
            secret,
            expected_revision,
            new_version,
            set_stages,
            delete_versions,
        } => update(
            &tx,
            &secret,
            expected_revision,
            new_version.as_ref(),
            &set_stages,
            &delete_versions,
        )?,
        Change::Reseal {
            arn,
            expected_revision,
            values,
        } => reseal(&tx, &arn, expected_revision, &values)?,
        Change::Purge { arn } => {
            tx.prepare_cached("DELETE FROM secrets WHERE arn = ?1")?
                .execute([&arn])?;
        }
    }
    super::audit::append(&tx, audit.map(std::slice::from_ref).unwrap_or_default())?;
    tx.commit()?;
    Ok(())
}

fn create(tx: &Transaction<'_>, s: &SecretRecord, version: Option<&NewVersion>) -> StoreResult<()> {
    let name_taken = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM secrets \
             WHERE account_id = ?1 AND region = ?2 AND name = ?3)",
        )?
        .query_row(params![s.account_id, s.region, s.name], |r| {
            r.get::<_, bool>(0)
        })?;
    if name_taken {
        return Err(StoreError::NameTaken);
    }
    if secret_exists(tx, &s.arn)? {
        return Err(StoreError::Conflict);
    }
    tx.prepare_cached(
        "INSERT INTO secrets (arn, account_id, region, name, description, kms_key_id, \
         tags_json, created_ms, last_changed_ms, last_accessed_ms, deleted_ms, deletion_ms, \
         revision, extra_json) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        s.arn,
        s.account_id,
        s.region,
        s.name,
        s.description,
        s.kms_key_id,
        encode_json(&s.tags)?,
        s.created_ms,
        s.last_changed_ms,
        s.last_accessed_ms,
        s.deleted_ms,
        s.deletion_ms,
        s.revision,
        encode_json(&s.extra)?,
    ])?;
    if let Some(v) = version {
        insert_version(tx, &s.arn, v)?;
    }
    Ok(())
}

fn update(
    tx: &Transaction<'_>,
    s: &SecretRecord,
    expected_revision: i64,
    new_version: Option<&NewVersion>,
    set_stages: &[(String, Vec<String>)],
    delete_versions: &[String],
) -> StoreResult<()> {
    if s.revision != expected_revision + 1 {
        return Err(StoreError::Backend(
            "invalid update: the new revision must be expected_revision + 1".into(),
        ));
    }
    // last_accessed_ms keeps the later of stored and given: touch_accessed does not bump
    // the revision, so a concurrent touch must not be undone by this update.
    let updated = tx
        .prepare_cached(
            "UPDATE secrets SET account_id = ?1, region = ?2, name = ?3, description = ?4, \
             kms_key_id = ?5, tags_json = ?6, created_ms = ?7, last_changed_ms = ?8, \
             last_accessed_ms = max(coalesce(last_accessed_ms, ?9), coalesce(?9, last_accessed_ms)), \
             deleted_ms = ?10, deletion_ms = ?11, revision = ?12, extra_json = ?13 \
             WHERE arn = ?14 AND revision = ?15",
        )?
        .execute(params![
            s.account_id,
            s.region,
            s.name,
            s.description,
            s.kms_key_id,
            encode_json(&s.tags)?,
            s.created_ms,
            s.last_changed_ms,
            s.last_accessed_ms,
            s.deleted_ms,
            s.deletion_ms,
            s.revision,
            encode_json(&s.extra)?,
            s.arn,
            expected_revision,
        ])
        .map_err(name_conflict)?;
    if updated == 0 {
        return Err(if secret_exists(tx, &s.arn)? {
            StoreError::Conflict
        } else {
            StoreError::NotFound
        });
    }
    if let Some(v) = new_version {
        insert_version(tx, &s.arn, v)?;
    }
    let mut stmt = tx.prepare_cached(
        "UPDATE secret_versions SET stages_json = ?3 WHERE secret_arn = ?1 AND version_id = ?2",
    )?;
    for (version_id, stages) in set_stages {
        if stmt.execute(params![s.arn, version_id, encode_json(stages)?])? == 0 {
            return Err(StoreError::NotFound);
        }
    }
    let mut stmt =
        tx.prepare_cached("DELETE FROM secret_versions WHERE secret_arn = ?1 AND version_id = ?2")?;
    for version_id in delete_versions {
        stmt.execute(params![s.arn, version_id])?;
    }
    Ok(())
}

/// A unique-constraint failure on `secrets` during an update can only be the name.
fn name_conflict(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error() {
        Some(err) if err.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
            StoreError::NameTaken
        }
        _ => e.into(),
    }
}

fn secret_exists(tx: &Transaction<'_>, arn: &str) -> StoreResult<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM secrets WHERE arn = ?1)")?
        .query_row([arn], |r| r.get(0))?)
}

fn reseal(
    tx: &Transaction<'_>,
    arn: &str,
    expected_revision: i64,
    values: &[(String, coffer_core::SealedValue)],
) -> StoreResult<()> {
    let n = tx
        .prepare_cached(
            "UPDATE secrets SET revision = revision + 1 WHERE arn = ?1 AND revision = ?2",
        )?
        .execute(params![arn, expected_revision])?;
    if n == 0 {
        return Err(if secret_exists(tx, arn)? {
            StoreError::Conflict
        } else {
            StoreError::NotFound
        });
    }
    let mut stmt = tx.prepare_cached(
        "UPDATE secret_versions SET kms_key_arn = ?3, kind = ?4, key_generation = ?5, \
         wrapped_dek = ?6, ciphertext = ?7 WHERE secret_arn = ?1 AND version_id = ?2",
    )?;
    for (id, v) in values {
        let n = stmt.execute(params![
            arn,
            id,
            v.kms_key_arn,
            v.kind.as_str(),
            v.key_generation,
            v.wrapped_dek,
            v.ciphertext
        ])?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

fn insert_version(tx: &Transaction<'_>, arn: &str, v: &NewVersion) -> StoreResult<()> {
    if v.record.kms_key_arn != v.sealed.kms_key_arn {
        return Err(StoreError::Backend(
            "invalid version: record and sealed value name different KMS keys".into(),
        ));
    }
    let exists = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM secret_versions \
             WHERE secret_arn = ?1 AND version_id = ?2)",
        )?
        .query_row(params![arn, v.record.version_id], |r| r.get::<_, bool>(0))?;
    if exists {
        return Err(StoreError::Conflict);
    }
    tx.prepare_cached(
        "INSERT INTO secret_versions (secret_arn, version_id, stages_json, created_ms, \
         last_accessed_ms, kms_key_arn, kind, key_generation, wrapped_dek, ciphertext) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        arn,
        v.record.version_id,
        encode_json(&v.record.stages)?,
        v.record.created_ms,
        v.record.last_accessed_ms,
        v.record.kms_key_arn,
        v.sealed.kind.as_str(),
        v.sealed.key_generation,
        v.sealed.wrapped_dek,
        v.sealed.ciphertext,
    ])?;
    Ok(())
}
