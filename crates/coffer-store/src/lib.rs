//! Persistence for Coffer behind one trait, [`Store`].
//!
//! The store knows nothing about encryption or AWS semantics: it keeps rows and applies
//! [`Change`]s atomically with optimistic concurrency (a secret's `revision`). All domain
//! decisions (label moves, validation) are made in the service layer, then committed here
//! in one transaction, so a crash can never leave a torn version or a broken label set.
//!
//! Implementations: [`sqlite::SqliteStore`] (embedded default) and [`memory::MemoryStore`]
//! (an in-process fake for unit tests of higher layers). A PostgreSQL backend will
//! implement the same trait and run the same conformance tests (`tests/conformance.rs`).

pub mod memory;
pub mod sqlite;

pub use coffer_audit::{Anchor, AuditEntry, AuditRow, Digest};
pub use memory::MemoryStore;

pub use sqlite::SqliteStore;

use async_trait::async_trait;
use coffer_core::{SealedValue, SecretRecord, SecretState, VersionRecord};

/// How a secret is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By exact full ARN.
    Arn(String),
    /// By friendly name within an account and region.
    Name {
        /// Account id.
        account_id: String,
        /// Region.
        region: String,
        /// Exact name.
        name: String,
    },
}

/// Which version's value [`Store::load_with_value`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelector {
    /// The version with this id.
    Id(String),
    /// The version carrying this staging label.
    Stage(String),
}

/// A new version to insert, with its encrypted value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    /// Version metadata (its `stages` are the labels it is created with).
    pub record: VersionRecord,
    /// The sealed value.
    pub sealed: SealedValue,
}

/// One atomic change, applied in a single transaction.
#[derive(Debug, Clone)]
pub enum Change {
    /// Insert a new secret (with `revision` as given, normally 1) and optionally its first
    /// version. Fails with [`StoreError::NameTaken`] if (account, region, name) is in use
    /// (including by a secret scheduled for deletion) and [`StoreError::Conflict`] if the ARN exists.
    Create {
        /// The secret row.
        secret: SecretRecord,
        /// Its first version, if created with a value.
        version: Option<NewVersion>,
    },
    /// Update an existing secret if its stored revision equals `expected_revision`;
    /// otherwise fail with [`StoreError::Conflict`] and change nothing.
    Update {
        /// The secret's new metadata; `secret.arn` names the row, `secret.revision` must be
        /// `expected_revision + 1`.
        secret: SecretRecord,
        /// Revision the caller read.
        expected_revision: i64,
        /// A version to insert, if any.
        new_version: Option<NewVersion>,
        /// Replace the stage list of existing versions: (version id, new stages).
        set_stages: Vec<(String, Vec<String>)>,
        /// Versions to delete (with their values).
        delete_versions: Vec<String>,
    },
    /// Replace the sealed values of existing versions (re-encryption under another KMS
    /// key) if the secret's stored revision equals `expected_revision`, and bump it by one;
    /// `Conflict` otherwise, `NotFound` if a version does not exist. Stages and metadata
    /// are unchanged.
    Reseal {
        /// ARN of the secret.
        arn: String,
        /// Revision the caller read.
        expected_revision: i64,
        /// (version id, its new sealed value).
        values: Vec<(String, SealedValue)>,
    },
    /// Remove a secret and all its versions (purge). Missing secret: Ok (idempotent).
    Purge {
        /// ARN of the secret.
        arn: String,
    },
}

/// An account (tenant): its id and when it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// 12-digit account id.
    pub account_id: String,
    /// Creation time (ms).
    pub created_ms: i64,
    /// May call Coffer's administrative operations (create accounts).
    pub admin: bool,
}

/// An access key. The secret half is stored only wrapped by the root key.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// Access key id (`AKIA…`), the primary key.
    pub access_key_id: String,
    /// Owning account.
    pub account_id: String,
    /// ARN of the principal the key belongs to (account root for now).
    pub principal_arn: String,
    /// The secret access key sealed under the root key (nonce ‖ ciphertext ‖ tag).
    pub wrapped_secret: Vec<u8>,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Creation time (ms).
    pub created_ms: i64,
    /// Last successful use, if any.
    pub last_used: Option<AccessKeyUse>,
}

/// When and where an access key was last used (IAM's `GetAccessKeyLastUsed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyUse {
    /// Time of use (ms), kept to the minute.
    pub ms: i64,
    /// Service called (`secretsmanager`, `iam`, `sts`).
    pub service: String,
    /// Region of the request.
    pub region: String,
}

/// One write in an [`Store::iam_commit`] batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamWrite {
    /// Inserts or replaces an entity document.
    Put {
        /// Entity kind (`user`, `group`, `role`, `policy`).
        kind: String,
        /// Case-folded name (IAM names are unique ignoring case).
        name_key: String,
        /// The entity as JSON.
        doc: String,
    },
    /// Removes an entity (absent is not an error).
    Delete {
        /// Entity kind.
        kind: String,
        /// Case-folded name.
        name_key: String,
    },
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("principal_arn", &self.principal_arn)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A KMS key: its material is stored only wrapped by the root key.
#[derive(Clone, PartialEq, Eq)]
pub struct KmsKeyRecord {
    /// Key ARN `arn:aws:kms:<region>:<account>:key/<uuid>`, the primary key.
    pub arn: String,
    /// Key id (the uuid).
    pub key_id: String,
    /// Owning account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Alias name such as `alias/aws/secretsmanager`, if any (unique per account+region).
    pub alias: Option<String>,
    /// Current generation (rotation adds generations; all are kept for decryption).
    pub generation: u32,
    /// Material per generation: (generation, material sealed under the root key).
    pub wrapped_material: Vec<(u32, Vec<u8>)>,
    /// `Enabled`, `Disabled`, `PendingDeletion`.
    pub state: String,
    /// Creation time (ms).
    pub created_ms: i64,
    /// Everything else KMS keeps about the key (description, policy, tags, rotation).
    pub meta: KmsKeyMeta,
}

/// KMS key metadata stored as one JSON document (`extra_json`); every field defaults, so
/// keys created before it existed (the default keys) read as AWS-managed keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct KmsKeyMeta {
    /// `CUSTOMER` for keys made with CreateKey; empty or `AWS` for AWS-managed keys.
    pub key_manager: String,
    /// Description given at creation.
    pub description: String,
    /// The key policy (JSON text); `None` means the default key policy.
    pub policy: Option<String>,
    /// Tags, in insertion order: (key, value).
    pub tags: Vec<(String, String)>,
    /// Whether automatic rotation is enabled.
    pub rotation_enabled: bool,
    /// Automatic rotation period in days, when enabled (or last set).
    pub rotation_period_days: Option<u32>,
    /// When the next automatic rotation is due (ms).
    pub next_rotation_ms: Option<i64>,
    /// Completed rotations, oldest first.
    pub rotations: Vec<KmsRotation>,
    /// When a key in `PendingDeletion` will be deleted (ms).
    pub deletion_ms: Option<i64>,
}

/// One completed rotation of a KMS key.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KmsRotation {
    /// Generation the rotation created.
    pub generation: u32,
    /// When (ms).
    pub time_ms: i64,
    /// `ON_DEMAND` or `AUTOMATIC`.
    pub rotation_type: String,
}

/// A KMS alias: a friendly name for a key, unique per (account, region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsAliasRecord {
    /// Owning account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Alias name including the `alias/` prefix.
    pub name: String,
    /// ARN of the key it points to.
    pub target_arn: String,
    /// Creation time (ms).
    pub created_ms: i64,
    /// Last update time (ms).
    pub updated_ms: i64,
}

impl std::fmt::Debug for KmsKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKeyRecord")
            .field("arn", &self.arn)
            .field("alias", &self.alias)
            .field("generation", &self.generation)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Store-wide counts, from [`Store::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Secrets stored, including those scheduled for deletion.
    pub secrets: u64,
    /// Versions of all stored secrets.
    pub versions: u64,
    /// Secrets scheduled for deletion (`deleted_ms` set), not yet purged.
    pub pending_deletion: u64,
}

/// Storage failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Optimistic-concurrency conflict: re-read and retry.
    #[error("concurrent modification")]
    Conflict,
    /// The (account, region, name) is held by another secret.
    #[error("a secret with this name already exists")]
    NameTaken,
    /// A row that must exist does not (e.g. Update of a purged secret).
    #[error("not found")]
    NotFound,
    /// The database reported an error.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// Stored data could not be decoded (corruption or a newer schema).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The persistence contract. Every method is atomic; a returned `Ok` from a write means it
/// is durable (fsynced).
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // --- secrets -----------------------------------------------------------------------
    /// Loads a secret and all its versions' metadata.
    async fn load(&self, lookup: &Lookup) -> StoreResult<Option<SecretState>>;
    /// Loads the sealed value of one version.
    async fn sealed_value(&self, arn: &str, version_id: &str) -> StoreResult<Option<SealedValue>>;
    /// `load` plus the sealed value of the selected version, from one consistent snapshot
    /// (the GetSecretValue path). `None` if the secret does not exist; the value is `None`
    /// if no version matches `select`. Backends override the default (two calls) to do it
    /// in one round trip.
    async fn load_with_value(
        &self,
        lookup: &Lookup,
        select: &VersionSelector,
    ) -> StoreResult<Option<(SecretState, Option<SealedValue>)>> {
        let Some(state) = self.load(lookup).await? else {
            return Ok(None);
        };
        let version_id = match select {
            VersionSelector::Id(id) => state.version(id),
            VersionSelector::Stage(stage) => state.version_with_label(stage),
        }
        .map(|v| v.version_id.clone());
        let sealed = match version_id {
            Some(id) => self.sealed_value(&state.secret.arn, &id).await?,
            None => None,
        };
        Ok(Some((state, sealed)))
    }
    /// Applies a change atomically.
    async fn commit(&self, change: Change) -> StoreResult<()> {
        self.commit_audited(change, None).await
    }
    /// Applies a change and appends its audit record in the same transaction.
    async fn commit_audited(&self, change: Change, audit: Option<AuditEntry>) -> StoreResult<()>;
    /// All secrets (with versions' metadata) of an account in a region, ordered by
    /// (created_ms, arn) ascending. Used by ListSecrets and BatchGetSecretValue filters.
    async fn list(&self, account_id: &str, region: &str) -> StoreResult<Vec<SecretState>>;
    /// ARNs of secrets whose `deletion_ms` is at or before `now_ms` (due for purge).
    async fn due_for_purge(&self, now_ms: i64) -> StoreResult<Vec<String>>;
    /// Counts over all accounts and regions (for metrics): secrets (including those
    /// scheduled for deletion), their versions, and secrets scheduled for deletion.
    async fn stats(&self) -> StoreResult<StoreStats>;
    /// Records a read: sets the secret's and the version's `last_accessed_ms` to `day_ms`
    /// without touching `revision` or `last_changed_ms`. Missing rows are ignored.
    async fn touch_accessed(&self, arn: &str, version_id: &str, day_ms: i64) -> StoreResult<()>;

    // --- server metadata (seal configuration, etc.) ------------------------------------------
    /// Reads a metadata blob.
    async fn get_meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Writes a metadata blob (insert or replace).
    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()>;

    // --- accounts and access keys ------------------------------------------------------
    /// Inserts an account; `Conflict` if it exists.
    async fn create_account(&self, account: &AccountRecord) -> StoreResult<()> {
        self.create_account_audited(account, None).await
    }
    /// [`Store::create_account`] with its audit record in the same transaction.
    async fn create_account_audited(
        &self,
        account: &AccountRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// Reads an account.
    async fn get_account(&self, account_id: &str) -> StoreResult<Option<AccountRecord>>;
    /// Inserts an access key; `Conflict` if the id exists.
    async fn put_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()> {
        self.put_access_key_audited(key, None).await
    }
    /// [`Store::put_access_key`] with its audit record in the same transaction.
    async fn put_access_key_audited(
        &self,
        key: &AccessKeyRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// Reads an access key by id.
    async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>>;
    /// Access keys of one principal, oldest first.
    async fn list_access_keys(
        &self,
        account_id: &str,
        principal_arn: &str,
    ) -> StoreResult<Vec<AccessKeyRecord>>;
    /// Sets an access key's status; `NotFound` if it does not exist.
    async fn set_access_key_status(&self, access_key_id: &str, status: &str) -> StoreResult<()> {
        self.set_access_key_status_audited(access_key_id, status, None)
            .await
    }
    /// [`Store::set_access_key_status`] with its audit record in the same transaction.
    async fn set_access_key_status_audited(
        &self,
        access_key_id: &str,
        status: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// Deletes an access key; `NotFound` if it does not exist.
    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<()> {
        self.delete_access_key_audited(access_key_id, None).await
    }
    /// [`Store::delete_access_key`] with its audit record in the same transaction.
    async fn delete_access_key_audited(
        &self,
        access_key_id: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// Records a use of an access key (missing keys are ignored).
    async fn touch_access_key(&self, access_key_id: &str, used: &AccessKeyUse) -> StoreResult<()>;

    // --- IAM entities --------------------------------------------------------------------
    /// The account's IAM revision: incremented by every [`Store::iam_commit`]; 0 if none.
    async fn iam_revision(&self, account_id: &str) -> StoreResult<u64>;
    /// Reads one IAM entity document.
    async fn iam_get(
        &self,
        account_id: &str,
        kind: &str,
        name_key: &str,
    ) -> StoreResult<Option<String>>;
    /// All entity documents of one kind in an account, ordered by name key.
    async fn iam_list(&self, account_id: &str, kind: &str) -> StoreResult<Vec<String>>;
    /// Applies `writes` atomically if the account's IAM revision is still `expected`
    /// (else `Conflict`); returns the new revision.
    async fn iam_commit(
        &self,
        account_id: &str,
        expected: u64,
        writes: Vec<IamWrite>,
    ) -> StoreResult<u64> {
        self.iam_commit_audited(account_id, expected, writes, None)
            .await
    }
    /// [`Store::iam_commit`] with its audit record in the same transaction.
    async fn iam_commit_audited(
        &self,
        account_id: &str,
        expected: u64,
        writes: Vec<IamWrite>,
        audit: Option<AuditEntry>,
    ) -> StoreResult<u64>;

    // --- KMS keys ------------------------------------------------------------------------
    /// Inserts a KMS key unless one with the same (account, region, alias) exists; returns
    /// the key that is stored afterwards (the existing one wins a race).
    async fn insert_kms_key_if_absent(&self, key: &KmsKeyRecord) -> StoreResult<KmsKeyRecord>;
    /// Finds a KMS key by alias within an account and region.
    async fn kms_key_by_alias(
        &self,
        account_id: &str,
        region: &str,
        alias: &str,
    ) -> StoreResult<Option<KmsKeyRecord>>;
    /// Finds a KMS key by ARN.
    async fn kms_key_by_arn(&self, arn: &str) -> StoreResult<Option<KmsKeyRecord>>;
    /// Inserts or replaces a KMS key's row and metadata; material generations not stored
    /// yet are added (stored generations are never changed). Appends `audit` in the same
    /// transaction.
    async fn put_kms_key_audited(
        &self,
        key: &KmsKeyRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// Removes a KMS key, all its material and the aliases pointing to it (absent: Ok),
    /// with its audit record in the same transaction.
    async fn delete_kms_key_audited(&self, arn: &str, audit: Option<AuditEntry>)
    -> StoreResult<()>;
    /// The KMS keys of an account in a region, ordered by (created_ms, arn).
    async fn list_kms_keys(&self, account_id: &str, region: &str)
    -> StoreResult<Vec<KmsKeyRecord>>;
    /// ARNs of keys in `PendingDeletion` whose deletion time is at or before `now_ms`.
    async fn kms_keys_due_for_deletion(&self, now_ms: i64) -> StoreResult<Vec<String>>;
    /// ARNs of `Enabled` keys with automatic rotation on whose next rotation time is at
    /// or before `now_ms`.
    async fn kms_keys_due_for_rotation(&self, now_ms: i64) -> StoreResult<Vec<String>>;
    /// Creates (`create`: `Conflict` if the name exists) or retargets (`!create`:
    /// `NotFound` if it does not exist) an alias, with its audit record.
    async fn put_kms_alias_audited(
        &self,
        alias: &KmsAliasRecord,
        create: bool,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// Deletes an alias (`NotFound` if absent), with its audit record.
    async fn delete_kms_alias_audited(
        &self,
        account_id: &str,
        region: &str,
        name: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// The aliases of an account in a region, ordered by name.
    async fn list_kms_aliases(
        &self,
        account_id: &str,
        region: &str,
    ) -> StoreResult<Vec<KmsAliasRecord>>;

    // --- audit log -----------------------------------------------------------------------
    /// Appends records (in order, linked into the chain) in one transaction. The group
    /// commit of reads: a backend may skip the fsync of this transaction (a later write's
    /// fsync, or the OS, makes it durable); it survives a process crash either way.
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> StoreResult<()>;
    /// Number and hash of the last record (the retention anchor when empty).
    async fn audit_head(&self) -> StoreResult<(u64, [u8; 32])>;
    /// Records after `after_seq`, oldest first, at most `limit` (sinks, verification).
    async fn audit_range(&self, after_seq: u64, limit: usize) -> StoreResult<Vec<AuditRow>>;
    /// Records matching a query, newest first.
    async fn audit_lookup(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>>;
    /// Stores a signed digest (kept if one for the same record exists).
    async fn put_audit_digest(&self, digest: &Digest) -> StoreResult<()>;
    /// All digests, oldest first.
    async fn audit_digests(&self) -> StoreResult<Vec<Digest>>;
    /// Where the retained log starts.
    async fn audit_anchor(&self) -> StoreResult<Anchor>;
    /// Removes the leading records older than `before_ms`, moving the anchor; returns how
    /// many were removed.
    async fn audit_prune(&self, before_ms: i64) -> StoreResult<u64>;
}

/// A LookupEvents query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this account's records (`None`: every account, for operators).
    pub account_id: Option<String>,
    /// Earliest event time (inclusive), epoch ms.
    pub start_ms: i64,
    /// Latest event time (inclusive), epoch ms.
    pub end_ms: i64,
    /// At most one attribute filter, as in CloudTrail.
    pub attribute: Option<AuditAttribute>,
    /// Paging: only records numbered below this.
    pub before_seq: Option<u64>,
    /// Most records to return.
    pub limit: usize,
}

/// LookupEvents' lookup attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditAttribute {
    /// `EventName`.
    EventName(String),
    /// `Username`.
    Username(String),
    /// `ResourceName` (a name or an ARN).
    ResourceName(String),
    /// `AccessKeyId`.
    AccessKeyId(String),
    /// `ReadOnly`.
    ReadOnly(bool),
    /// `EventId`.
    EventId(String),
}

impl AuditQuery {
    /// True if `e` (numbered `seq`) satisfies the query (the in-memory backend's filter).
    pub fn matches(&self, seq: u64, e: &AuditEntry) -> bool {
        e.time_ms >= self.start_ms
            && e.time_ms <= self.end_ms
            && self.before_seq.is_none_or(|b| seq < b)
            && self.account_id.as_ref().is_none_or(|a| *a == e.account_id)
            && match &self.attribute {
                None => true,
                Some(AuditAttribute::EventName(v)) => e.event_name == *v,
                Some(AuditAttribute::Username(v)) => e.username == *v,
                Some(AuditAttribute::AccessKeyId(v)) => e.access_key_id == *v,
                Some(AuditAttribute::EventId(v)) => e.event_id == *v,
                Some(AuditAttribute::ReadOnly(v)) => e.read_only == *v,
                Some(AuditAttribute::ResourceName(v)) => e.resources.iter().any(|r| r == v),
            }
    }
}
