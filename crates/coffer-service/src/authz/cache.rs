//! Caches of compiled policies: per principal (validated by the account's IAM revision)
//! and per resource-policy text.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use coffer_policy::Policy;
use coffer_protocol::{ApiError, ErrorCode};

use super::PrincipalPolicies;
use super::identity::Entity;

/// How often a node re-reads an account's IAM revision to see other nodes' changes.
pub(crate) const REVISION_CHECK: Duration = Duration::from_secs(1);
/// Bound on each map (cleared wholesale when exceeded).
const MAX_ENTRIES: usize = 10_000;

/// Cached policies of one entity: the IAM revision they were built at, and the policies.
type PrincipalEntry = (u64, Arc<PrincipalPolicies>);

/// Compiled-policy caches. Shared by clones of a `Service`.
#[derive(Default)]
pub struct AuthzCache {
    /// account → (IAM revision, when it was read).
    revisions: RwLock<HashMap<String, (u64, Instant)>>,
    /// account → entity → (revision the entry was built at, policies). Nested so a
    /// lookup borrows its keys instead of allocating.
    principals: RwLock<HashMap<String, HashMap<Entity, PrincipalEntry>>>,
    /// resource-policy text → compiled policy.
    resource: RwLock<HashMap<String, Arc<Policy>>>,
}

impl std::fmt::Debug for AuthzCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthzCache(..)")
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl AuthzCache {
    /// The account's revision if it was read within [`REVISION_CHECK`].
    pub(crate) fn fresh_revision(&self, account: &str) -> Option<u64> {
        read(&self.revisions)
            .get(account)
            .filter(|(_, at)| at.elapsed() < REVISION_CHECK)
            .map(|(rev, _)| *rev)
    }

    /// Records a revision just read from the store.
    pub(crate) fn note_revision(&self, account: &str, revision: u64) {
        let mut map = write(&self.revisions);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(account.to_owned(), (revision, Instant::now()));
    }

    /// Cached policies of `entity` if built at `revision`.
    pub(crate) fn principal(
        &self,
        account: &str,
        entity: &Entity,
        revision: u64,
    ) -> Option<Arc<PrincipalPolicies>> {
        read(&self.principals)
            .get(account)?
            .get(entity)
            .filter(|(rev, _)| *rev == revision)
            .map(|(_, p)| Arc::clone(p))
    }

    /// Stores policies built at `revision`.
    pub(crate) fn put_principal(
        &self,
        account: &str,
        entity: Entity,
        revision: u64,
        policies: Arc<PrincipalPolicies>,
    ) {
        let mut map = write(&self.principals);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.entry(account.to_owned())
            .or_default()
            .insert(entity, (revision, policies));
    }

    /// Forgets an account's revision (after an IAM write on this node), so the next
    /// request re-reads it and rebuilds stale entries.
    pub fn invalidate(&self, account: &str) {
        write(&self.revisions).remove(account);
    }

    /// The compiled form of a resource policy.
    pub(crate) fn resource_policy(&self, text: &str) -> Result<Arc<Policy>, ApiError> {
        self.compiled(text, 20_480, "The secret's stored resource policy")
    }

    /// The compiled form of a KMS key policy (up to 32 KiB).
    pub(crate) fn key_policy(&self, text: &str) -> Result<Arc<Policy>, ApiError> {
        self.compiled(text, 32_768, "The key's stored key policy")
    }

    fn compiled(&self, text: &str, limit: usize, what: &str) -> Result<Arc<Policy>, ApiError> {
        if let Some(p) = read(&self.resource).get(text) {
            return Ok(Arc::clone(p));
        }
        let policy = Arc::new(Policy::parse_with_limit(text, limit).map_err(|e| {
            ApiError::new(
                ErrorCode::InternalServiceError,
                format!("{what} cannot be read: {e}"),
            )
        })?);
        let mut map = write(&self.resource);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(text.to_owned(), Arc::clone(&policy));
        Ok(policy)
    }
}
