//! IAM entity documents and the per-account IAM revision.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{IamWrite, StoreError, StoreResult};

/// The account's IAM revision (0 before the first IAM write).
pub(super) fn revision(conn: &Connection, account_id: &str) -> StoreResult<u64> {
    let rev: Option<i64> = conn
        .prepare_cached("SELECT revision FROM iam_revisions WHERE account_id = ?1")?
        .query_row([account_id], |r| r.get(0))
        .optional()?;
    Ok(rev.unwrap_or(0) as u64)
}

/// Reads one entity document.
pub(super) fn get(
    conn: &Connection,
    account_id: &str,
    kind: &str,
    name_key: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT doc FROM iam_entities WHERE account_id = ?1 AND kind = ?2 AND name_key = ?3",
        )?
        .query_row([account_id, kind, name_key], |r| r.get(0))
        .optional()?)
}

/// All documents of one kind, by name key.
pub(super) fn list(conn: &Connection, account_id: &str, kind: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc FROM iam_entities WHERE account_id = ?1 AND kind = ?2 ORDER BY name_key",
    )?;
    let rows = stmt.query_map([account_id, kind], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Applies a batch in one transaction, guarded by the revision.
pub(super) fn commit(
    conn: &mut Connection,
    account_id: &str,
    expected: u64,
    writes: &[IamWrite],
    audit: Option<&coffer_audit::AuditEntry>,
) -> StoreResult<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if revision(&tx, account_id)? != expected {
        return Err(StoreError::Conflict);
    }
    for w in writes {
        match w {
            IamWrite::Put {
                kind,
                name_key,
                doc,
            } => {
                tx.prepare_cached(
                    "INSERT INTO iam_entities (account_id, kind, name_key, doc) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, kind, name_key) \
                     DO UPDATE SET doc = excluded.doc",
                )?
                .execute(params![account_id, kind, name_key, doc])?;
            }
            IamWrite::Delete { kind, name_key } => {
                tx.prepare_cached(
                    "DELETE FROM iam_entities WHERE account_id = ?1 AND kind = ?2 \
                     AND name_key = ?3",
                )?
                .execute(params![account_id, kind, name_key])?;
            }
        }
    }
    let next = expected + 1;
    tx.prepare_cached(
        "INSERT INTO iam_revisions (account_id, revision) VALUES (?1, ?2) \
         ON CONFLICT (account_id) DO UPDATE SET revision = excluded.revision",
    )?
    .execute(params![account_id, next as i64])?;
    super::audit::append(&tx, audit.map(std::slice::from_ref).unwrap_or_default())?;
    tx.commit()?;
    Ok(next)
}
