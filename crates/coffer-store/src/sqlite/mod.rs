//! The embedded SQLite backend.
//!
//! One writer connection behind a mutex serialises all writes (each [`Change`] is one
//! `BEGIN IMMEDIATE` transaction) and runs on tokio's blocking pool. Reads run on a few
//! dedicated threads, each owning a read-only connection (WAL lets them proceed while a
//! write commits). Async callers never block the runtime.
//!
//! Durability: `journal_mode=WAL`, `synchronous=FULL` — an acknowledged commit survives a
//! process kill and a power loss.

mod audit;
mod iam;
mod keys;
mod pool;
mod schema;
mod secrets;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use coffer_core::{SealedValue, SecretState};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use self::pool::ReadPool;
use crate::{
    AccessKeyRecord, AccessKeyUse, AccountRecord, Anchor, AuditEntry, AuditQuery, AuditRow, Change,
    Digest, IamWrite, KmsAliasRecord, KmsKeyRecord, Lookup, Store, StoreError, StoreResult,
    StoreStats, VersionSelector,
};

/// Default number of read-only connections for a file database.
const DEFAULT_READERS: usize = 4;

/// A [`Store`] kept in one SQLite file (plus its `-wal` and `-shm` companions).
///
/// Cheap to clone: clones share the same connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field(
                "readers",
                &self.inner.readers.as_ref().map_or(0, |p| p.len()),
            )
            .finish_non_exhaustive()
    }
}

/// The connections.
struct Inner {
    /// The only connection that writes.
    writer: Mutex<Connection>,
    /// Reader threads; `None` for an in-memory database (reads use the writer).
    readers: Option<ReadPool>,
}

impl SqliteStore {
    /// Opens (creating if absent, with mode 0600 and missing parent directories with mode
    /// 0700) the database at `path` and applies pending schema migrations.
    ///
    /// Fails with [`StoreError::Corrupt`] if the file is not a Coffer database or its schema
    /// is newer than this build understands.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with_readers(path, DEFAULT_READERS)
    }

    /// Like [`SqliteStore::open`] with `readers` read-only connections (at least 1).
    pub fn open_with_readers(path: &Path, readers: usize) -> StoreResult<Self> {
        prepare_file(path)?;
        let mut writer = Connection::open(path)?;
        schema::configure_writer(&writer, false)?;
        schema::migrate(&mut writer)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let readers = (0..readers.max(1))
            .map(|_| {
                let conn = Connection::open_with_flags(path, flags)?;
                schema::configure_reader(&conn)?;
                Ok(conn)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Self::from_parts(writer, Some(ReadPool::start(readers)?)))
    }

    /// Opens a private, empty in-memory database (for tests). Not durable; all access goes
    /// through a single connection.
    pub fn open_in_memory() -> StoreResult<Self> {
        let mut conn = Connection::open_in_memory()?;
        schema::configure_writer(&conn, true)?;
        schema::migrate(&mut conn)?;
        Ok(Self::from_parts(conn, None))
    }

    /// The schema version this build of Coffer creates and understands.
    pub fn schema_version() -> i64 {
        schema::current_version()
    }

    fn from_parts(writer: Connection, readers: Option<ReadPool>) -> Self {
        Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
            }),
        }
    }

    /// Runs `f` with a read-only connection on a reader thread (or, in memory, with the
    /// writer on the blocking pool).
    async fn read<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        match &self.inner.readers {
            Some(pool) => pool.run(f).await,
            None => self.write(move |conn| f(conn)).await,
        }
    }

    /// Runs `f` with the writer connection on tokio's blocking pool.
    async fn write<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<R> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        match tokio::task::spawn_blocking(move || f(&mut inner.writer())).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(StoreError::Backend("store task panicked".into())),
            Err(_) => Err(StoreError::Backend("store task was cancelled".into())),
        }
    }
}

impl Inner {
    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction drops (and so rolls back) the transaction, so the
        // connection is still usable after poisoning.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Creates the parent directory and the file with restrictive permissions if absent.
fn prepare_file(path: &Path) -> StoreResult<()> {
    let io = |what: &str, e: std::io::Error| {
        StoreError::Backend(format!("{what} {}: {e}", path.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(parent)
            .map_err(|e| io("cannot create the directory of", e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(|e| io("cannot open", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| io("cannot stat", e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{:o}", mode & 0o777),
                "database file is accessible to other users; chmod 600 recommended"
            );
        }
    }
    drop(file);
    Ok(())
}

impl From<rusqlite::Error> for StoreError {
    /// Maps a SQLite error to a message that never contains bound parameter values.
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::Error as E;
        match e {
            E::SqliteFailure(err, msg) => {
                let detail = msg.unwrap_or_else(|| err.to_string());
                match err.code {
                    ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                        StoreError::Corrupt(format!("sqlite: {detail}"))
                    }
                    _ => {
                        StoreError::Backend(format!("sqlite error {}: {detail}", err.extended_code))
                    }
                }
            }
            E::FromSqlConversionFailure(col, ty, _) => {
                StoreError::Corrupt(format!("column {col} ({ty}) could not be decoded"))
            }
            E::IntegralValueOutOfRange(col, _) => {
                StoreError::Corrupt(format!("column {col} is out of range"))
            }
            E::Utf8Error(col, _) => StoreError::Corrupt(format!("column {col} is not UTF-8")),
            E::InvalidColumnType(col, name, ty) => {
                StoreError::Corrupt(format!("column {col} ({name}) has unexpected type {ty}"))
            }
            E::ToSqlConversionFailure(_) => {
                StoreError::Backend("sqlite: a parameter could not be converted".into())
            }
            E::QueryReturnedNoRows => StoreError::Backend("sqlite: query returned no rows".into()),
            other => StoreError::Backend(format!("sqlite: {}", error_kind(&other))),
        }
    }
}

/// A value-free description of a client-side rusqlite error.
fn error_kind(e: &rusqlite::Error) -> &'static str {
    use rusqlite::Error as E;
    match e {
        E::SqliteSingleThreadedMode => "sqlite is in single-threaded mode",
        E::NulError(_) => "a string contains a NUL byte",
        E::InvalidParameterName(_) => "invalid parameter name",
        E::InvalidPath(_) => "invalid database path",
        E::ExecuteReturnedResults => "execute returned results",
        E::QueryReturnedMoreThanOneRow => "query returned more than one row",
        E::InvalidColumnIndex(_) => "invalid column index",
        E::InvalidColumnName(_) => "invalid column name",
        E::StatementChangedRows(_) => "statement changed an unexpected number of rows",
        E::InvalidParameterCount(_, _) => "wrong number of parameters",
        _ => "client error",
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self, lookup: &Lookup) -> StoreResult<Option<SecretState>> {
        let lookup = lookup.clone();
        self.read(move |conn| secrets::load(conn, &lookup)).await
    }

    async fn sealed_value(&self, arn: &str, version_id: &str) -> StoreResult<Option<SealedValue>> {
        let (arn, version_id) = (arn.to_owned(), version_id.to_owned());
        self.read(move |conn| secrets::sealed_value(conn, &arn, &version_id))
            .await
    }

    async fn load_with_value(
        &self,
        lookup: &Lookup,
        select: &VersionSelector,
    ) -> StoreResult<Option<(SecretState, Option<SealedValue>)>> {
        let (lookup, select) = (lookup.clone(), select.clone());
        self.read(move |conn| secrets::load_with_value(conn, &lookup, &select))
            .await
    }

    async fn commit_audited(&self, change: Change, audit: Option<AuditEntry>) -> StoreResult<()> {
        self.write(move |conn| secrets::commit(conn, change, audit.as_ref()))
            .await
    }

    async fn list(&self, account_id: &str, region: &str) -> StoreResult<Vec<SecretState>> {
        let (account_id, region) = (account_id.to_owned(), region.to_owned());
        self.read(move |conn| secrets::list(conn, &account_id, &region))
            .await
    }

    async fn due_for_purge(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        self.read(move |conn| secrets::due_for_purge(conn, now_ms))
            .await
    }

    async fn stats(&self) -> StoreResult<StoreStats> {
        self.read(secrets::stats).await
    }

    async fn touch_accessed(&self, arn: &str, version_id: &str, day_ms: i64) -> StoreResult<()> {
        // Cheap path: a read tells whether anything would change, so repeated reads on the
        // same day never queue behind writers or cost an fsync.
        let (a, v) = (arn.to_owned(), version_id.to_owned());
        let stale = self
            .read(move |conn| secrets::access_is_stale(conn, &a, &v, day_ms))
            .await?;
        if !stale {
            return Ok(());
        }
        let (arn, version_id) = (arn.to_owned(), version_id.to_owned());
        self.write(move |conn| secrets::touch_accessed(conn, &arn, &version_id, day_ms))
            .await
    }

    async fn get_meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let key = key.to_owned();
        self.read(move |conn| keys::get_meta(conn, &key)).await
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.write(move |conn| keys::put_meta(conn, &key, &value))
            .await
    }

    async fn create_account_audited(
        &self,
        account: &AccountRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let account = account.clone();
        self.write(move |conn| with_audit(conn, audit, |tx| keys::create_account(tx, &account)))
            .await
    }

    async fn get_account(&self, account_id: &str) -> StoreResult<Option<AccountRecord>> {
        let account_id = account_id.to_owned();
        self.read(move |conn| keys::get_account(conn, &account_id))
            .await
    }

    async fn put_access_key_audited(
        &self,
        key: &AccessKeyRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |conn| with_audit(conn, audit, |tx| keys::put_access_key(tx, &key)))
            .await
    }

    async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        let id = access_key_id.to_owned();
        self.read(move |conn| keys::get_access_key(conn, &id)).await
    }

    async fn list_access_keys(
        &self,
        account_id: &str,
        principal_arn: &str,
    ) -> StoreResult<Vec<AccessKeyRecord>> {
        let (a, p) = (account_id.to_owned(), principal_arn.to_owned());
        self.read(move |conn| keys::list_access_keys(conn, &a, &p))
            .await
    }

    async fn set_access_key_status_audited(
        &self,
        access_key_id: &str,
        status: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let (id, status) = (access_key_id.to_owned(), status.to_owned());
        self.write(move |conn| {
            with_audit(conn, audit, |tx| {
                keys::set_access_key_status(tx, &id, &status)
            })
        })
        .await
    }

    async fn delete_access_key_audited(
        &self,
        access_key_id: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let id = access_key_id.to_owned();
        self.write(move |conn| with_audit(conn, audit, |tx| keys::delete_access_key(tx, &id)))
            .await
    }

    async fn touch_access_key(&self, access_key_id: &str, used: &AccessKeyUse) -> StoreResult<()> {
        // As with touch_accessed: a read first, so repeated uses cost no write.
        let (id, u) = (access_key_id.to_owned(), used.clone());
        let stale = self
            .read(move |conn| keys::access_key_use_is_stale(conn, &id, &u))
            .await?;
        if !stale {
            return Ok(());
        }
        let (id, u) = (access_key_id.to_owned(), used.clone());
        self.write(move |conn| keys::touch_access_key(conn, &id, &u))
            .await
    }

    async fn iam_revision(&self, account_id: &str) -> StoreResult<u64> {
        let a = account_id.to_owned();
        self.read(move |conn| iam::revision(conn, &a)).await
    }

    async fn iam_get(
        &self,
        account_id: &str,
        kind: &str,
        name_key: &str,
    ) -> StoreResult<Option<String>> {
        let (a, k, n) = (account_id.to_owned(), kind.to_owned(), name_key.to_owned());
        self.read(move |conn| iam::get(conn, &a, &k, &n)).await
    }

    async fn iam_list(&self, account_id: &str, kind: &str) -> StoreResult<Vec<String>> {
        let (a, k) = (account_id.to_owned(), kind.to_owned());
        self.read(move |conn| iam::list(conn, &a, &k)).await
    }

    async fn iam_commit_audited(
        &self,
        account_id: &str,
        expected: u64,
        writes: Vec<IamWrite>,
        audit: Option<AuditEntry>,
    ) -> StoreResult<u64> {
        let a = account_id.to_owned();
        self.write(move |conn| iam::commit(conn, &a, expected, &writes, audit.as_ref()))
            .await
    }

    async fn insert_kms_key_if_absent(&self, key: &KmsKeyRecord) -> StoreResult<KmsKeyRecord> {
        let key = key.clone();
        self.write(move |conn| keys::insert_kms_key_if_absent(conn, &key))
            .await
    }

    async fn kms_key_by_alias(
        &self,
        account_id: &str,
        region: &str,
        alias: &str,
    ) -> StoreResult<Option<KmsKeyRecord>> {
        let (account_id, region, alias) =
            (account_id.to_owned(), region.to_owned(), alias.to_owned());
        self.read(move |conn| keys::kms_key_by_alias(conn, &account_id, &region, &alias))
            .await
    }

    async fn kms_key_by_arn(&self, arn: &str) -> StoreResult<Option<KmsKeyRecord>> {
        let arn = arn.to_owned();
        self.read(move |conn| keys::kms_key_by_arn(conn, &arn))
            .await
    }

    async fn put_kms_key_audited(
        &self,
        key: &KmsKeyRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |conn| with_audit(conn, audit, |tx| keys::put_kms_key(tx, &key)))
            .await
    }

    async fn delete_kms_key_audited(
        &self,
        arn: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let arn = arn.to_owned();
        self.write(move |conn| with_audit(conn, audit, |tx| keys::delete_kms_key(tx, &arn)))
            .await
    }

    async fn list_kms_keys(
        &self,
        account_id: &str,
        region: &str,
    ) -> StoreResult<Vec<KmsKeyRecord>> {
        let (account_id, region) = (account_id.to_owned(), region.to_owned());
        self.read(move |conn| keys::list_kms_keys(conn, &account_id, &region))
            .await
    }

    async fn kms_keys_due_for_deletion(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        self.read(move |conn| keys::kms_keys_due_for_deletion(conn, now_ms))
            .await
    }

    async fn kms_keys_due_for_rotation(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        self.read(move |conn| keys::kms_keys_due_for_rotation(conn, now_ms))
            .await
    }

    async fn put_kms_alias_audited(
        &self,
        alias: &KmsAliasRecord,
        create: bool,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let alias = alias.clone();
        self.write(move |conn| {
            with_audit(conn, audit, |tx| keys::put_kms_alias(tx, &alias, create))
        })
        .await
    }

    async fn delete_kms_alias_audited(
        &self,
        account_id: &str,
        region: &str,
        name: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let (a, r, n) = (account_id.to_owned(), region.to_owned(), name.to_owned());
        self.write(move |conn| with_audit(conn, audit, |tx| keys::delete_kms_alias(tx, &a, &r, &n)))
            .await
    }

    async fn list_kms_aliases(
        &self,
        account_id: &str,
        region: &str,
    ) -> StoreResult<Vec<KmsAliasRecord>> {
        let (account_id, region) = (account_id.to_owned(), region.to_owned());
        self.read(move |conn| keys::list_kms_aliases(conn, &account_id, &region))
            .await
    }

    async fn append_audit(&self, entries: Vec<AuditEntry>) -> StoreResult<()> {
        self.write(move |conn| {
            // Group commit without an fsync: the WAL frames reach the OS before the call
            // returns (a process crash keeps them); the next durable write's fsync, or the
            // OS, puts them on disk.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            let result = (|| {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                audit::append(&tx, &entries)?;
                tx.commit()?;
                Ok(())
            })();
            conn.pragma_update(None, "synchronous", "FULL")?;
            result
        })
        .await
    }

    async fn audit_head(&self) -> StoreResult<(u64, [u8; 32])> {
        self.read(audit::head).await
    }

    async fn audit_range(&self, after_seq: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
        self.read(move |conn| audit::range(conn, after_seq, limit))
            .await
    }

    async fn audit_lookup(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let q = query.clone();
        self.read(move |conn| audit::lookup(conn, &q)).await
    }

    async fn put_audit_digest(&self, digest: &Digest) -> StoreResult<()> {
        let d = digest.clone();
        self.write(move |conn| audit::put_digest(conn, &d)).await
    }

    async fn audit_digests(&self) -> StoreResult<Vec<Digest>> {
        self.read(audit::digests).await
    }

    async fn audit_anchor(&self) -> StoreResult<Anchor> {
        self.read(audit::anchor).await
    }

    async fn audit_prune(&self, before_ms: i64) -> StoreResult<u64> {
        self.write(move |conn| audit::prune(conn, before_ms)).await
    }
}

/// Runs `f` and appends `audit` in one `BEGIN IMMEDIATE` transaction.
fn with_audit<R>(
    conn: &mut Connection,
    audit: Option<AuditEntry>,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<R>,
) -> StoreResult<R> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let r = f(&tx)?;
    audit::append(&tx, audit.as_slice())?;
    tx.commit()?;
    Ok(r)
}
