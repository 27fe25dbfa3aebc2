//! Server metadata, accounts, access keys and KMS keys.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{
    AccessKeyRecord, AccessKeyUse, AccountRecord, KmsAliasRecord, KmsKeyMeta, KmsKeyRecord,
    StoreError, StoreResult,
};

/// Reads a metadata blob.
pub(super) fn get_meta(conn: &Connection, key: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Inserts or replaces a metadata blob.
pub(super) fn put_meta(conn: &Connection, key: &str, value: &[u8]) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Inserts an account; `Conflict` if the id exists.
pub(super) fn create_account(conn: &Connection, a: &AccountRecord) -> StoreResult<()> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO accounts (account_id, created_ms, admin) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![a.account_id, a.created_ms, a.admin])?;
    if inserted == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Reads an account.
pub(super) fn get_account(
    conn: &Connection,
    account_id: &str,
) -> StoreResult<Option<AccountRecord>> {
    Ok(conn
        .prepare_cached("SELECT account_id, created_ms, admin FROM accounts WHERE account_id = ?1")?
        .query_row([account_id], |r| {
            Ok(AccountRecord {
                account_id: r.get(0)?,
                created_ms: r.get(1)?,
                admin: r.get(2)?,
            })
        })
        .optional()?)
}

/// Inserts an access key; `Conflict` if the id exists.
pub(super) fn put_access_key(conn: &Connection, k: &AccessKeyRecord) -> StoreResult<()> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO access_keys (access_key_id, account_id, principal_arn, wrapped_secret, \
             status, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            k.access_key_id,
            k.account_id,
            k.principal_arn,
            k.wrapped_secret,
            k.status,
            k.created_ms
        ])?;
    if inserted == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Columns of an access key, in [`access_key_row`]'s order.
const ACCESS_KEY_COLUMNS: &str = "access_key_id, account_id, principal_arn, wrapped_secret, \
     status, created_ms, last_used_ms, last_used_service, last_used_region";

/// Decodes a row selected with [`ACCESS_KEY_COLUMNS`].
pub(super) fn access_key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessKeyRecord> {
    let used_ms: Option<i64> = r.get(6)?;
    Ok(AccessKeyRecord {
        access_key_id: r.get(0)?,
        account_id: r.get(1)?,
        principal_arn: r.get(2)?,
        wrapped_secret: r.get(3)?,
        status: r.get(4)?,
        created_ms: r.get(5)?,
        last_used: match used_ms {
            Some(ms) => Some(AccessKeyUse {
                ms,
                service: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                region: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            }),
            None => None,
        },
    })
}

/// Reads an access key.
pub(super) fn get_access_key(conn: &Connection, id: &str) -> StoreResult<Option<AccessKeyRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?1"
        ))?
        .query_row([id], access_key_row)
        .optional()?)
}

/// Access keys of one principal, oldest first.
pub(super) fn list_access_keys(
    conn: &Connection,
    account_id: &str,
    principal_arn: &str,
) -> StoreResult<Vec<AccessKeyRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE account_id = ?1 \
         AND principal_arn = ?2 ORDER BY created_ms, access_key_id"
    ))?;
    let rows = stmt.query_map([account_id, principal_arn], access_key_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets an access key's status.
pub(super) fn set_access_key_status(conn: &Connection, id: &str, status: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached("UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1")?
        .execute([id, status])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes an access key.
pub(super) fn delete_access_key(conn: &Connection, id: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached("DELETE FROM access_keys WHERE access_key_id = ?1")?
        .execute([id])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records a use of an access key.
pub(super) fn touch_access_key(
    conn: &Connection,
    id: &str,
    used: &AccessKeyUse,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE access_keys SET last_used_ms = ?2, last_used_service = ?3, \
         last_used_region = ?4 WHERE access_key_id = ?1",
    )?
    .execute(params![id, used.ms, used.service, used.region])?;
    Ok(())
}

/// True if recording `used` would change the stored last use (a different minute,
/// service or region), so repeated calls cost no write.
pub(super) fn access_key_use_is_stale(
    conn: &Connection,
    id: &str,
    used: &AccessKeyUse,
) -> StoreResult<bool> {
    let row: Option<(Option<i64>, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT last_used_ms, last_used_service, last_used_region FROM access_keys \
             WHERE access_key_id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(match row {
        None => false,
        Some((ms, service, region)) => {
            ms != Some(used.ms)
                || service.as_deref() != Some(used.service.as_str())
                || region.as_deref() != Some(used.region.as_str())
        }
    })
}

/// `SELECT` of a KMS key joined with its material, oldest generation first.
macro_rules! select_kms {
    ($where:literal) => {
        concat!(
            "SELECT k.arn, k.key_id, k.account_id, k.region, k.alias, k.generation, k.state, ",
            "k.created_ms, m.generation, m.wrapped, k.extra_json ",
            "FROM kms_keys k LEFT JOIN kms_key_material m ON m.key_arn = k.arn WHERE ",
            $where,
            " ORDER BY m.generation"
        )
    };
}

/// Inserts a key unless its (account, region, alias) — or its ARN — is taken, and returns
/// the stored key.
pub(super) fn insert_kms_key_if_absent(
    conn: &mut Connection,
    k: &KmsKeyRecord,
) -> StoreResult<KmsKeyRecord> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let inserted = write_key_row(&tx, k, false)?;
    let stored = if inserted == 1 {
        add_material(&tx, k)?;
        let mut stored = k.clone();
        stored.wrapped_material.sort_by_key(|(g, _)| *g);
        stored
    } else {
        // The alias (or, for an alias-less key, the ARN) is taken: the stored key wins.
        let existing = match &k.alias {
            Some(alias) => kms_key_by_alias(&tx, &k.account_id, &k.region, alias)?,
            None => kms_key_by_arn(&tx, &k.arn)?,
        };
        existing.ok_or(StoreError::Conflict)?
    };
    tx.commit()?;
    Ok(stored)
}

/// A KMS key by alias.
pub(super) fn kms_key_by_alias(
    conn: &Connection,
    account_id: &str,
    region: &str,
    alias: &str,
) -> StoreResult<Option<KmsKeyRecord>> {
    let mut stmt = conn.prepare_cached(select_kms!(
        "k.account_id = ?1 AND k.region = ?2 AND k.alias = ?3"
    ))?;
    fold_kms(stmt.query(params![account_id, region, alias])?)
}

/// A KMS key by ARN.
pub(super) fn kms_key_by_arn(conn: &Connection, arn: &str) -> StoreResult<Option<KmsKeyRecord>> {
    let mut stmt = conn.prepare_cached(select_kms!("k.arn = ?1"))?;
    fold_kms(stmt.query([arn])?)
}

fn fold_kms(mut rows: rusqlite::Rows<'_>) -> StoreResult<Option<KmsKeyRecord>> {
    let mut key: Option<KmsKeyRecord> = None;
    while let Some(r) = rows.next()? {
        let key = match &mut key {
            Some(key) => key,
            None => key.insert(KmsKeyRecord {
                arn: r.get(0)?,
                key_id: r.get(1)?,
                account_id: r.get(2)?,
                region: r.get(3)?,
                alias: r.get(4)?,
                generation: r.get(5)?,
                state: r.get(6)?,
                created_ms: r.get(7)?,
                wrapped_material: Vec::new(),
                meta: serde_json::from_str::<KmsKeyMeta>(&r.get::<_, String>(10)?)
                    .map_err(|e| StoreError::Corrupt(format!("kms key metadata: {e}")))?,
            }),
        };
        if let Some(generation) = r.get::<_, Option<u32>>(8)? {
            key.wrapped_material.push((generation, r.get(9)?));
        }
    }
    Ok(key)
}

fn meta_json(meta: &KmsKeyMeta) -> StoreResult<String> {
    serde_json::to_string(meta).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Inserts or replaces a key's row and adds material generations not stored yet.
pub(super) fn put_kms_key(conn: &Connection, k: &KmsKeyRecord) -> StoreResult<()> {
    write_key_row(conn, k, true)?;
    add_material(conn, k)
}

/// Writes a key's row: inserted unless its ARN or alias is taken (`upsert` false), or
/// inserted or updated (`upsert` true). Returns the number of rows written.
fn write_key_row(conn: &Connection, k: &KmsKeyRecord, upsert: bool) -> StoreResult<usize> {
    let sql = if upsert {
        "INSERT INTO kms_keys (arn, key_id, account_id, region, alias, generation, state, \
         created_ms, extra_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (arn) DO UPDATE SET alias = excluded.alias, \
         generation = excluded.generation, state = excluded.state, \
         extra_json = excluded.extra_json"
    } else {
        "INSERT INTO kms_keys (arn, key_id, account_id, region, alias, generation, state, \
         created_ms, extra_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT DO NOTHING"
    };
    Ok(conn.prepare_cached(sql)?.execute(params![
        k.arn,
        k.key_id,
        k.account_id,
        k.region,
        k.alias,
        k.generation,
        k.state,
        k.created_ms,
        meta_json(&k.meta)?
    ])?)
}

/// Stores the key's material generations that are not stored yet.
fn add_material(conn: &Connection, k: &KmsKeyRecord) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO kms_key_material (key_arn, generation, wrapped) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
    )?;
    for (generation, wrapped) in &k.wrapped_material {
        stmt.execute(params![k.arn, generation, wrapped])?;
    }
    Ok(())
}

/// Removes a key with its material and aliases.
pub(super) fn delete_kms_key(conn: &Connection, arn: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM kms_aliases WHERE target_arn = ?1")?
        .execute([arn])?;
    conn.prepare_cached("DELETE FROM kms_key_material WHERE key_arn = ?1")?
        .execute([arn])?;
    conn.prepare_cached("DELETE FROM kms_keys WHERE arn = ?1")?
        .execute([arn])?;
    Ok(())
}

/// Keys of an account in a region, by (created_ms, arn).
pub(super) fn list_kms_keys(
    conn: &Connection,
    account_id: &str,
    region: &str,
) -> StoreResult<Vec<KmsKeyRecord>> {
    let arns: Vec<String> = conn
        .prepare_cached(
            "SELECT arn FROM kms_keys WHERE account_id = ?1 AND region = ?2 \
             ORDER BY created_ms, arn",
        )?
        .query_map([account_id, region], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(arns.len());
    for arn in arns {
        if let Some(k) = kms_key_by_arn(conn, &arn)? {
            out.push(k);
        }
    }
    Ok(out)
}

/// ARNs of keys whose scheduled deletion is due.
pub(super) fn kms_keys_due_for_deletion(
    conn: &Connection,
    now_ms: i64,
) -> StoreResult<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT arn FROM kms_keys WHERE state = 'PendingDeletion' \
             AND json_extract(extra_json, '$.deletion_ms') <= ?1 ORDER BY arn",
        )?
        .query_map([now_ms], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// ARNs of enabled keys whose automatic rotation is due.
pub(super) fn kms_keys_due_for_rotation(
    conn: &Connection,
    now_ms: i64,
) -> StoreResult<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT arn FROM kms_keys WHERE state = 'Enabled' \
             AND json_extract(extra_json, '$.rotation_enabled') = 1 \
             AND json_extract(extra_json, '$.next_rotation_ms') <= ?1 ORDER BY arn",
        )?
        .query_map([now_ms], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Creates or retargets an alias.
pub(super) fn put_kms_alias(
    conn: &Connection,
    a: &KmsAliasRecord,
    create: bool,
) -> StoreResult<()> {
    let n = if create {
        let exists = conn
            .prepare_cached("SELECT 1 FROM kms_keys WHERE arn = ?1")?
            .query_row([&a.target_arn], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Err(StoreError::NotFound);
        }
        conn.prepare_cached(
            "INSERT INTO kms_aliases (account_id, region, name, target_arn, created_ms, \
             updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            a.account_id,
            a.region,
            a.name,
            a.target_arn,
            a.created_ms,
            a.updated_ms
        ])?
    } else {
        conn.prepare_cached(
            "UPDATE kms_aliases SET target_arn = ?4, updated_ms = ?5 \
             WHERE account_id = ?1 AND region = ?2 AND name = ?3",
        )?
        .execute(params![
            a.account_id,
            a.region,
            a.name,
            a.target_arn,
            a.updated_ms
        ])?
    };
    match (n, create) {
        (0, true) => Err(StoreError::Conflict),
        (0, false) => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Deletes an alias.
pub(super) fn delete_kms_alias(
    conn: &Connection,
    account_id: &str,
    region: &str,
    name: &str,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "DELETE FROM kms_aliases WHERE account_id = ?1 AND region = ?2 AND name = ?3",
        )?
        .execute([account_id, region, name])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Aliases of an account in a region, by name.
pub(super) fn list_kms_aliases(
    conn: &Connection,
    account_id: &str,
    region: &str,
) -> StoreResult<Vec<KmsAliasRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT account_id, region, name, target_arn, created_ms, updated_ms \
             FROM kms_aliases WHERE account_id = ?1 AND region = ?2 ORDER BY name",
        )?
        .query_map([account_id, region], |r| {
            Ok(KmsAliasRecord {
                account_id: r.get(0)?,
                region: r.get(1)?,
                name: r.get(2)?,
                target_arn: r.get(3)?,
                created_ms: r.get(4)?,
                updated_ms: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}
