//! The audit log: appends (linked into the hash chain inside the caller's transaction),
//! digests, lookups, retention.

use coffer_audit::{Anchor, AuditEntry, AuditRow, Digest, link};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::{AuditAttribute, AuditQuery, StoreError, StoreResult};

const ANCHOR_KEY: &str = "audit.anchor";

/// Appends `entries` in order inside `tx`, each linked to the one before.
pub(super) fn append(tx: &Transaction<'_>, entries: &[AuditEntry]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev) = head(tx)?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO audit_log (seq, account_id, time_ms, event_id, event_name, username, \
         access_key_id, read_only, resources, record, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for e in entries {
        seq += 1;
        let hash = link(&prev, &e.json);
        stmt.execute(params![
            seq as i64,
            e.account_id,
            e.time_ms,
            e.event_id,
            e.event_name,
            e.username,
            e.access_key_id,
            e.read_only,
            join_resources(&e.resources),
            e.json,
            &prev[..],
            &hash[..],
        ])?;
        prev = hash;
    }
    Ok(())
}

/// The last record's number and hash (the retention anchor when the log is empty).
pub(super) fn head(conn: &Connection) -> StoreResult<(u64, [u8; 32])> {
    let last = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .optional()?;
    match last {
        Some((seq, hash)) => Ok((seq as u64, hash32(&hash)?)),
        None => {
            let a = anchor(conn)?;
            Ok((a.after_seq, a.hash))
        }
    }
}

/// Where the retained log starts.
pub(super) fn anchor(conn: &Connection) -> StoreResult<Anchor> {
    let raw = super::keys::get_meta(conn, ANCHOR_KEY)?;
    let Some(raw) = raw else {
        return Ok(Anchor::default());
    };
    let text = String::from_utf8(raw).map_err(|_| corrupt())?;
    let (seq, hash) = text.split_once(':').ok_or_else(corrupt)?;
    let hash = hex::decode(hash).map_err(|_| corrupt())?;
    Ok(Anchor {
        after_seq: seq.parse().map_err(|_| corrupt())?,
        hash: hash32(&hash)?,
    })
}

fn corrupt() -> StoreError {
    StoreError::Corrupt("the audit anchor is malformed".into())
}

fn hash32(v: &[u8]) -> StoreResult<[u8; 32]> {
    <[u8; 32]>::try_from(v).map_err(|_| StoreError::Corrupt("an audit hash is not 32 bytes".into()))
}

/// Records with `seq > after`, oldest first, at most `limit`.
pub(super) fn range(conn: &Connection, after: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![after as i64, limit as i64], row)?;
    rows.collect::<Result<Vec<_>, _>>()?.into_iter().collect()
}

const COLUMNS: &str = "seq, account_id, time_ms, event_id, event_name, username, access_key_id, \
                       read_only, resources, record, prev_hash, hash";

fn row(r: &Row<'_>) -> rusqlite::Result<StoreResult<AuditRow>> {
    let prev: Vec<u8> = r.get(10)?;
    let hash: Vec<u8> = r.get(11)?;
    let resources: String = r.get(8)?;
    let entry = AuditEntry {
        account_id: r.get(1)?,
        time_ms: r.get(2)?,
        event_id: r.get(3)?,
        event_name: r.get(4)?,
        username: r.get(5)?,
        access_key_id: r.get(6)?,
        read_only: r.get(7)?,
        resources: resources
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        json: r.get(9)?,
    };
    let seq: i64 = r.get(0)?;
    Ok((|| {
        Ok(AuditRow {
            seq: seq as u64,
            prev_hash: hash32(&prev)?,
            hash: hash32(&hash)?,
            entry,
        })
    })())
}

/// Resource names stored `\n`-delimited with a delimiter at both ends, so one `instr`
/// finds a whole name.
fn join_resources(names: &[String]) -> String {
    let mut s = String::from("\n");
    for n in names {
        // A name cannot contain a newline in any AWS naming rule; drop it if one does.
        s.push_str(&n.replace('\n', ""));
        s.push('\n');
    }
    s
}

/// LookupEvents: newest first.
pub(super) fn lookup(conn: &Connection, q: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE time_ms >= ?1 AND time_ms <= ?2 AND seq < ?3"
    );
    let mut args: Vec<rusqlite::types::Value> = vec![
        q.start_ms.into(),
        q.end_ms.into(),
        (q.before_seq.unwrap_or(i64::MAX as u64) as i64).into(),
    ];
    if let Some(a) = &q.account_id {
        args.push(a.clone().into());
        sql.push_str(&format!(" AND account_id = ?{}", args.len()));
    }
    if let Some(attr) = &q.attribute {
        let (clause, value): (&str, rusqlite::types::Value) = match attr {
            AuditAttribute::EventName(v) => ("event_name = ?N", v.clone().into()),
            AuditAttribute::Username(v) => ("username = ?N", v.clone().into()),
            AuditAttribute::AccessKeyId(v) => ("access_key_id = ?N", v.clone().into()),
            AuditAttribute::EventId(v) => ("event_id = ?N", v.clone().into()),
            AuditAttribute::ReadOnly(v) => ("read_only = ?N", (*v).into()),
            AuditAttribute::ResourceName(v) => {
                ("instr(resources, ?N) > 0", format!("\n{v}\n").into())
            }
        };
        args.push(value);
        sql.push_str(" AND ");
        sql.push_str(&clause.replace("?N", &format!("?{}", args.len())));
    }
    args.push((q.limit as i64).into());
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ?{}", args.len()));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), row)?;
    rows.collect::<Result<Vec<_>, _>>()?.into_iter().collect()
}

/// Stores a digest; a digest for the same record already stored (another node) is kept.
pub(super) fn put_digest(conn: &Connection, d: &Digest) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO audit_digests (seq, head_hash, time_ms, key_id, signature) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (seq) DO NOTHING",
    )?
    .execute(params![
        d.seq as i64,
        d.head_hash,
        d.time_ms,
        d.key_id,
        d.signature
    ])?;
    Ok(())
}

/// Every digest, oldest first.
pub(super) fn digests(conn: &Connection) -> StoreResult<Vec<Digest>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, head_hash, time_ms, key_id, signature FROM audit_digests ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Digest {
            seq: r.get::<_, i64>(0)? as u64,
            head_hash: r.get(1)?,
            time_ms: r.get(2)?,
            key_id: r.get(3)?,
            signature: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes records older than `before_ms` (and the digests they alone were covered by),
/// moving the anchor to the last removed record. Returns how many records went.
pub(super) fn prune(conn: &mut Connection, before_ms: i64) -> StoreResult<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Records leave strictly from the front: the cut is the last record of the leading run
    // older than the limit, so the retained log stays one unbroken chain.
    let first_young: Option<i64> = tx.query_row(
        "SELECT min(seq) FROM audit_log WHERE time_ms >= ?1",
        [before_ms],
        |r| r.get(0),
    )?;
    let cut: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT 1",
            [first_young.unwrap_or(i64::MAX)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((cut, hash)) = cut else {
        return Ok(0);
    };
    let removed = tx.execute("DELETE FROM audit_log WHERE seq <= ?1", [cut])?;
    tx.execute("DELETE FROM audit_digests WHERE seq <= ?1", [cut])?;
    let anchor = format!("{cut}:{}", hex::encode(&hash));
    super::keys::put_meta(&tx, ANCHOR_KEY, anchor.as_bytes())?;
    tx.commit()?;
    Ok(removed as u64)
}
