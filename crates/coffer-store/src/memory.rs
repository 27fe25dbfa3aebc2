//! An in-memory [`Store`] for unit tests of higher layers. Same semantics as the SQLite
//! backend (it passes the same conformance suite), no durability.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use coffer_core::{SealedValue, SecretRecord, SecretState, VersionRecord};

use crate::{
    AccessKeyRecord, AccessKeyUse, AccountRecord, Anchor, AuditEntry, AuditQuery, AuditRow, Change,
    Digest, IamWrite, KmsAliasRecord, KmsKeyRecord, Lookup, NewVersion, Store, StoreError,
    StoreResult, StoreStats, VersionSelector,
};

/// A [`Store`] kept in process memory behind one mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
    /// The audit log, outside `Data` so commits do not copy it.
    audit: Mutex<AuditLog>,
}

#[derive(Debug, Default)]
struct AuditLog {
    rows: Vec<AuditRow>,
    digests: BTreeMap<u64, Digest>,
    anchor: Anchor,
}

impl AuditLog {
    fn head(&self) -> (u64, [u8; 32]) {
        self.rows
            .last()
            .map_or((self.anchor.after_seq, self.anchor.hash), |r| {
                (r.seq, r.hash)
            })
    }

    fn append(&mut self, entries: impl IntoIterator<Item = AuditEntry>) {
        for entry in entries {
            let (seq, prev) = self.head();
            let hash = coffer_audit::link(&prev, &entry.json);
            self.rows.push(AuditRow {
                seq: seq + 1,
                prev_hash: prev,
                hash,
                entry,
            });
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Data {
    secrets: BTreeMap<String, StoredSecret>,
    meta: HashMap<String, Vec<u8>>,
    accounts: HashMap<String, AccountRecord>,
    access_keys: HashMap<String, AccessKeyRecord>,
    kms_keys: BTreeMap<String, KmsKeyRecord>,
    /// (account, region, name) → alias.
    kms_aliases: BTreeMap<(String, String, String), KmsAliasRecord>,
    /// (account, kind, name_key) → document.
    iam: BTreeMap<(String, String, String), String>,
    iam_revisions: HashMap<String, u64>,
}

#[derive(Debug, Clone)]
struct StoredSecret {
    secret: SecretRecord,
    /// Oldest first.
    versions: Vec<(VersionRecord, SealedValue)>,
}

impl StoredSecret {
    fn state(&self) -> SecretState {
        SecretState {
            secret: self.secret.clone(),
            versions: self.versions.iter().map(|(v, _)| v.clone()).collect(),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn audit(&self) -> MutexGuard<'_, AuditLog> {
        self.audit.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Data {
    fn find(&self, lookup: &Lookup) -> Option<&StoredSecret> {
        match lookup {
            Lookup::Arn(arn) => self.secrets.get(arn),
            Lookup::Name {
                account_id,
                region,
                name,
            } => self.secrets.values().find(|s| {
                s.secret.account_id == *account_id
                    && s.secret.region == *region
                    && s.secret.name == *name
            }),
        }
    }

    /// True if another secret (any secret when `include_self`) holds `s`'s name.
    fn name_taken(&self, s: &SecretRecord, include_self: bool) -> bool {
        self.secrets.values().any(|o| {
            (include_self || o.secret.arn != s.arn)
                && o.secret.account_id == s.account_id
                && o.secret.region == s.region
                && o.secret.name == s.name
        })
    }

    fn apply(&mut self, change: Change) -> StoreResult<()> {
        match change {
            Change::Create { secret, version } => {
                if self.name_taken(&secret, true) {
                    return Err(StoreError::NameTaken);
                }
                if self.secrets.contains_key(&secret.arn) {
                    return Err(StoreError::Conflict);
                }
                let mut stored = StoredSecret {
                    secret,
                    versions: Vec::new(),
                };
                if let Some(v) = version {
                    push_version(&mut stored, v)?;
                }
                self.secrets.insert(stored.secret.arn.clone(), stored);
            }
            Change::Update {
                secret,
                expected_revision,
                new_version,
                set_stages,
                delete_versions,
            } => {
                if secret.revision != expected_revision + 1 {
                    return Err(StoreError::Backend(
                        "invalid update: the new revision must be expected_revision + 1".into(),
                    ));
                }
                let name_taken = self.name_taken(&secret, false);
                let stored = self
                    .secrets
                    .get_mut(&secret.arn)
                    .ok_or(StoreError::NotFound)?;
                if stored.secret.revision != expected_revision {
                    return Err(StoreError::Conflict);
                }
                if name_taken {
                    return Err(StoreError::NameTaken);
                }
                let last_accessed = stored.secret.last_accessed_ms.max(secret.last_accessed_ms);
                stored.secret = secret;
                stored.secret.last_accessed_ms = last_accessed;
                if let Some(v) = new_version {
                    push_version(stored, v)?;
                }
                for (id, stages) in set_stages {
                    let (v, _) = stored
                        .versions
                        .iter_mut()
                        .find(|(v, _)| v.version_id == id)
                        .ok_or(StoreError::NotFound)?;
                    v.stages = stages;
                }
                stored
                    .versions
                    .retain(|(v, _)| !delete_versions.contains(&v.version_id));
            }
            Change::Reseal {
                arn,
                expected_revision,
                values,
            } => {
                let stored = self.secrets.get_mut(&arn).ok_or(StoreError::NotFound)?;
                if stored.secret.revision != expected_revision {
                    return Err(StoreError::Conflict);
                }
                stored.secret.revision += 1;
                for (id, sealed) in values {
                    let (v, s) = stored
                        .versions
                        .iter_mut()
                        .find(|(v, _)| v.version_id == id)
                        .ok_or(StoreError::NotFound)?;
                    v.kms_key_arn = sealed.kms_key_arn.clone();
                    *s = sealed;
                }
            }
            Change::Purge { arn } => {
                self.secrets.remove(&arn);
            }
        }
        Ok(())
    }
}

fn push_version(stored: &mut StoredSecret, v: NewVersion) -> StoreResult<()> {
    if v.record.kms_key_arn != v.sealed.kms_key_arn {
        return Err(StoreError::Backend(
            "invalid version: record and sealed value name different KMS keys".into(),
        ));
    }
    if stored
        .versions
        .iter()
        .any(|(o, _)| o.version_id == v.record.version_id)
    {
        return Err(StoreError::Conflict);
    }
    // Oldest first: by creation time, then insertion order.
    let at = stored
        .versions
        .partition_point(|(o, _)| o.created_ms <= v.record.created_ms);
    stored.versions.insert(at, (v.record, v.sealed));
    Ok(())
}

#[async_trait]
impl Store for MemoryStore {
    async fn load(&self, lookup: &Lookup) -> StoreResult<Option<SecretState>> {
        Ok(self.data().find(lookup).map(StoredSecret::state))
    }

    async fn sealed_value(&self, arn: &str, version_id: &str) -> StoreResult<Option<SealedValue>> {
        Ok(self.data().secrets.get(arn).and_then(|s| {
            s.versions
                .iter()
                .find(|(v, _)| v.version_id == version_id)
                .map(|(_, sealed)| sealed.clone())
        }))
    }

    async fn load_with_value(
        &self,
        lookup: &Lookup,
        select: &VersionSelector,
    ) -> StoreResult<Option<(SecretState, Option<SealedValue>)>> {
        // One lock for both reads: a consistent snapshot.
        let data = self.data();
        Ok(data.find(lookup).map(|s| {
            let sealed = s
                .versions
                .iter()
                .find(|(v, _)| match select {
                    VersionSelector::Id(id) => v.version_id == *id,
                    VersionSelector::Stage(stage) => v.stages.iter().any(|l| l == stage),
                })
                .map(|(_, sealed)| sealed.clone());
            (s.state(), sealed)
        }))
    }

    async fn commit_audited(&self, change: Change, audit: Option<AuditEntry>) -> StoreResult<()> {
        let mut data = self.data();
        // Apply to a copy so a failure part-way changes nothing.
        let mut next = data.clone();
        next.apply(change)?;
        *data = next;
        self.audit().append(audit);
        Ok(())
    }

    async fn list(&self, account_id: &str, region: &str) -> StoreResult<Vec<SecretState>> {
        let data = self.data();
        let mut out: Vec<SecretState> = data
            .secrets
            .values()
            .filter(|s| s.secret.account_id == account_id && s.secret.region == region)
            .map(StoredSecret::state)
            .collect();
        out.sort_by(|a, b| {
            (a.secret.created_ms, &a.secret.arn).cmp(&(b.secret.created_ms, &b.secret.arn))
        });
        Ok(out)
    }

    async fn due_for_purge(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        let data = self.data();
        let mut due: Vec<(i64, String)> = data
            .secrets
            .values()
            .filter_map(|s| s.secret.deletion_ms.map(|d| (d, s.secret.arn.clone())))
            .filter(|(d, _)| *d <= now_ms)
            .collect();
        due.sort();
        Ok(due.into_iter().map(|(_, arn)| arn).collect())
    }

    async fn stats(&self) -> StoreResult<StoreStats> {
        let data = self.data();
        let secrets = data.secrets.values();
        Ok(StoreStats {
            secrets: data.secrets.len() as u64,
            versions: secrets.clone().map(|s| s.versions.len() as u64).sum(),
            pending_deletion: secrets.filter(|s| s.secret.deleted_ms.is_some()).count() as u64,
        })
    }

    async fn touch_accessed(&self, arn: &str, version_id: &str, day_ms: i64) -> StoreResult<()> {
        if let Some(s) = self.data().secrets.get_mut(arn) {
            s.secret.last_accessed_ms = Some(day_ms);
            if let Some((v, _)) = s
                .versions
                .iter_mut()
                .find(|(v, _)| v.version_id == version_id)
            {
                v.last_accessed_ms = Some(day_ms);
            }
        }
        Ok(())
    }

    async fn get_meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.data().meta.get(key).cloned())
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        self.data().meta.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    async fn create_account_audited(
        &self,
        account: &AccountRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        if data.accounts.contains_key(&account.account_id) {
            return Err(StoreError::Conflict);
        }
        data.accounts
            .insert(account.account_id.clone(), account.clone());
        self.audit().append(audit);
        Ok(())
    }

    async fn get_account(&self, account_id: &str) -> StoreResult<Option<AccountRecord>> {
        Ok(self.data().accounts.get(account_id).cloned())
    }

    async fn put_access_key_audited(
        &self,
        key: &AccessKeyRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        if data.access_keys.contains_key(&key.access_key_id) {
            return Err(StoreError::Conflict);
        }
        data.access_keys
            .insert(key.access_key_id.clone(), key.clone());
        self.audit().append(audit);
        Ok(())
    }

    async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        Ok(self.data().access_keys.get(access_key_id).cloned())
    }

    async fn list_access_keys(
        &self,
        account_id: &str,
        principal_arn: &str,
    ) -> StoreResult<Vec<AccessKeyRecord>> {
        let mut keys: Vec<AccessKeyRecord> = self
            .data()
            .access_keys
            .values()
            .filter(|k| k.account_id == account_id && k.principal_arn == principal_arn)
            .cloned()
            .collect();
        keys.sort_by(|a, b| {
            (a.created_ms, &a.access_key_id).cmp(&(b.created_ms, &b.access_key_id))
        });
        Ok(keys)
    }

    async fn set_access_key_status_audited(
        &self,
        access_key_id: &str,
        status: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        let key = data
            .access_keys
            .get_mut(access_key_id)
            .ok_or(StoreError::NotFound)?;
        key.status = status.to_owned();
        self.audit().append(audit);
        Ok(())
    }

    async fn delete_access_key_audited(
        &self,
        access_key_id: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        match data.access_keys.remove(access_key_id) {
            Some(_) => {
                self.audit().append(audit);
                Ok(())
            }
            None => Err(StoreError::NotFound),
        }
    }

    async fn touch_access_key(&self, access_key_id: &str, used: &AccessKeyUse) -> StoreResult<()> {
        if let Some(key) = self.data().access_keys.get_mut(access_key_id) {
            key.last_used = Some(used.clone());
        }
        Ok(())
    }

    async fn iam_revision(&self, account_id: &str) -> StoreResult<u64> {
        Ok(self
            .data()
            .iam_revisions
            .get(account_id)
            .copied()
            .unwrap_or(0))
    }

    async fn iam_get(
        &self,
        account_id: &str,
        kind: &str,
        name_key: &str,
    ) -> StoreResult<Option<String>> {
        let key = (account_id.to_owned(), kind.to_owned(), name_key.to_owned());
        Ok(self.data().iam.get(&key).cloned())
    }

    async fn iam_list(&self, account_id: &str, kind: &str) -> StoreResult<Vec<String>> {
        Ok(self
            .data()
            .iam
            .iter()
            .filter(|((a, k, _), _)| a == account_id && k == kind)
            .map(|(_, doc)| doc.clone())
            .collect())
    }

    async fn iam_commit_audited(
        &self,
        account_id: &str,
        expected: u64,
        writes: Vec<IamWrite>,
        audit: Option<AuditEntry>,
    ) -> StoreResult<u64> {
        let mut data = self.data();
        let current = data.iam_revisions.get(account_id).copied().unwrap_or(0);
        if current != expected {
            return Err(StoreError::Conflict);
        }
        for w in writes {
            match w {
                IamWrite::Put {
                    kind,
                    name_key,
                    doc,
                } => {
                    data.iam
                        .insert((account_id.to_owned(), kind, name_key), doc);
                }
                IamWrite::Delete { kind, name_key } => {
                    data.iam.remove(&(account_id.to_owned(), kind, name_key));
                }
            }
        }
        data.iam_revisions
            .insert(account_id.to_owned(), expected + 1);
        self.audit().append(audit);
        Ok(expected + 1)
    }

    async fn insert_kms_key_if_absent(&self, key: &KmsKeyRecord) -> StoreResult<KmsKeyRecord> {
        let mut data = self.data();
        let by_alias = key.alias.as_ref().and_then(|alias| {
            data.kms_keys.values().find(|k| {
                k.account_id == key.account_id
                    && k.region == key.region
                    && k.alias.as_ref() == Some(alias)
            })
        });
        if let Some(existing) = by_alias {
            return Ok(existing.clone());
        }
        if let Some(existing) = data.kms_keys.get(&key.arn) {
            return match key.alias {
                None => Ok(existing.clone()),
                Some(_) => Err(StoreError::Conflict),
            };
        }
        let mut stored = key.clone();
        stored.wrapped_material.sort_by_key(|(g, _)| *g);
        data.kms_keys.insert(key.arn.clone(), stored.clone());
        Ok(stored)
    }

    async fn kms_key_by_alias(
        &self,
        account_id: &str,
        region: &str,
        alias: &str,
    ) -> StoreResult<Option<KmsKeyRecord>> {
        Ok(self
            .data()
            .kms_keys
            .values()
            .find(|k| {
                k.account_id == account_id
                    && k.region == region
                    && k.alias.as_deref() == Some(alias)
            })
            .cloned())
    }

    async fn kms_key_by_arn(&self, arn: &str) -> StoreResult<Option<KmsKeyRecord>> {
        Ok(self.data().kms_keys.get(arn).cloned())
    }

    async fn put_kms_key_audited(
        &self,
        key: &KmsKeyRecord,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        let mut stored = key.clone();
        if let Some(old) = data.kms_keys.get(&key.arn) {
            stored.key_id = old.key_id.clone();
            stored.account_id = old.account_id.clone();
            stored.region = old.region.clone();
            stored.created_ms = old.created_ms;
            stored.wrapped_material = old.wrapped_material.clone();
            for (g, w) in &key.wrapped_material {
                if !stored.wrapped_material.iter().any(|(h, _)| h == g) {
                    stored.wrapped_material.push((*g, w.clone()));
                }
            }
        }
        stored.wrapped_material.sort_by_key(|(g, _)| *g);
        data.kms_keys.insert(key.arn.clone(), stored);
        self.audit().append(audit);
        Ok(())
    }

    async fn delete_kms_key_audited(
        &self,
        arn: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        data.kms_keys.remove(arn);
        data.kms_aliases.retain(|_, a| a.target_arn != arn);
        self.audit().append(audit);
        Ok(())
    }

    async fn list_kms_keys(
        &self,
        account_id: &str,
        region: &str,
    ) -> StoreResult<Vec<KmsKeyRecord>> {
        let mut keys: Vec<KmsKeyRecord> = self
            .data()
            .kms_keys
            .values()
            .filter(|k| k.account_id == account_id && k.region == region)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_ms, &a.arn).cmp(&(b.created_ms, &b.arn)));
        Ok(keys)
    }

    async fn kms_keys_due_for_deletion(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .data()
            .kms_keys
            .values()
            .filter(|k| {
                k.state == "PendingDeletion" && k.meta.deletion_ms.is_some_and(|d| d <= now_ms)
            })
            .map(|k| k.arn.clone())
            .collect())
    }

    async fn kms_keys_due_for_rotation(&self, now_ms: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .data()
            .kms_keys
            .values()
            .filter(|k| {
                k.state == "Enabled"
                    && k.meta.rotation_enabled
                    && k.meta.next_rotation_ms.is_some_and(|t| t <= now_ms)
            })
            .map(|k| k.arn.clone())
            .collect())
    }

    async fn put_kms_alias_audited(
        &self,
        alias: &KmsAliasRecord,
        create: bool,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        let id = (
            alias.account_id.clone(),
            alias.region.clone(),
            alias.name.clone(),
        );
        match (data.kms_aliases.get_mut(&id), create) {
            (Some(_), true) => return Err(StoreError::Conflict),
            (None, false) => return Err(StoreError::NotFound),
            (Some(a), false) => {
                a.target_arn = alias.target_arn.clone();
                a.updated_ms = alias.updated_ms;
            }
            (None, true) => {
                if !data.kms_keys.contains_key(&alias.target_arn) {
                    return Err(StoreError::NotFound);
                }
                data.kms_aliases.insert(id, alias.clone());
            }
        }
        self.audit().append(audit);
        Ok(())
    }

    async fn delete_kms_alias_audited(
        &self,
        account_id: &str,
        region: &str,
        name: &str,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let mut data = self.data();
        let id = (account_id.to_owned(), region.to_owned(), name.to_owned());
        if data.kms_aliases.remove(&id).is_none() {
            return Err(StoreError::NotFound);
        }
        self.audit().append(audit);
        Ok(())
    }

    async fn list_kms_aliases(
        &self,
        account_id: &str,
        region: &str,
    ) -> StoreResult<Vec<KmsAliasRecord>> {
        Ok(self
            .data()
            .kms_aliases
            .values()
            .filter(|a| a.account_id == account_id && a.region == region)
            .cloned()
            .collect())
    }

    async fn append_audit(&self, entries: Vec<AuditEntry>) -> StoreResult<()> {
        self.audit().append(entries);
        Ok(())
    }

    async fn audit_head(&self) -> StoreResult<(u64, [u8; 32])> {
        Ok(self.audit().head())
    }

    async fn audit_range(&self, after_seq: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
        let log = self.audit();
        Ok(log
            .rows
            .iter()
            .filter(|r| r.seq > after_seq)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn audit_lookup(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let log = self.audit();
        Ok(log
            .rows
            .iter()
            .rev()
            .filter(|r| query.matches(r.seq, &r.entry))
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn put_audit_digest(&self, digest: &Digest) -> StoreResult<()> {
        self.audit()
            .digests
            .entry(digest.seq)
            .or_insert_with(|| digest.clone());
        Ok(())
    }

    async fn audit_digests(&self) -> StoreResult<Vec<Digest>> {
        Ok(self.audit().digests.values().cloned().collect())
    }

    async fn audit_anchor(&self) -> StoreResult<Anchor> {
        Ok(self.audit().anchor)
    }

    async fn audit_prune(&self, before_ms: i64) -> StoreResult<u64> {
        let mut log = self.audit();
        let n = log
            .rows
            .iter()
            .take_while(|r| r.entry.time_ms < before_ms)
            .count();
        if n == 0 {
            return Ok(0);
        }
        let last = log.rows[n - 1].clone();
        log.rows.drain(..n);
        log.digests.retain(|seq, _| *seq > last.seq);
        log.anchor = Anchor {
            after_seq: last.seq,
            hash: last.hash,
        };
        Ok(n as u64)
    }
}
