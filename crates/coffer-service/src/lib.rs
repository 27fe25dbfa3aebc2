//! Coffer's use cases: one async function per Secrets Manager operation.
//!
//! A [`Service`] owns a [`Store`](coffer_store::Store), a [`Keyring`] (root key and KMS key
//! material, in memory only) and a [`Clock`](coffer_core::Clock). It knows nothing about
//! HTTP: the server authenticates the caller, builds a [`Caller`] and calls in here. Every
//! operation returns the protocol's output shape or an [`ApiError`].

pub mod accounts;
pub mod audit;
pub mod authz;
pub mod controls;
mod convert;
pub mod iam;
pub mod keyring;
pub mod kms;
mod ops;
mod paging;
mod resolve;
pub mod seal;
pub mod sts;

use coffer_core::Clock;
use coffer_protocol::ApiError;
use coffer_store::Store;
use std::sync::Arc;

pub use authz::identity::{Entity, Identity, SessionFacts};
pub use authz::{Access, AuthzCache};
pub use keyring::Keyring;
pub use ops::password::random_password;
pub use seal::{RootKeyService, SealManager, SealStatus};

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Account the credentials belong to.
    pub account_id: String,
    /// Region from the request's credential scope.
    pub region: String,
    /// Who is calling.
    pub identity: Arc<Identity>,
    /// Access key used.
    pub access_key_id: String,
    /// The client's IP address (`aws:SourceIp`).
    pub source_ip: Option<String>,
    /// True when the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// The call's audit record in progress (`None`: not audited, e.g. internal calls).
    pub audit: Option<Arc<coffer_audit::AuditDraft>>,
}

impl Caller {
    /// The account root of `account_id` calling in `region` (tests and tools).
    pub fn root(account_id: &str, region: &str, access_key_id: &str) -> Caller {
        Caller {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            identity: Arc::new(Identity::root(account_id)),
            access_key_id: access_key_id.to_owned(),
            source_ip: None,
            secure_transport: false,
            audit: None,
        }
    }

    /// The principal's ARN.
    pub fn principal_arn(&self) -> &str {
        &self.identity.principal.arn
    }
}

/// Result of a service call.
pub type ApiResult<T> = Result<T, ApiError>;

/// The Secrets Manager service over a store, a keyring and a clock.
#[derive(Debug, Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    /// Writers of one secret queue here (sharded by ARN) instead of racing each other into
    /// optimistic-concurrency retries; retries remain for writers on other nodes.
    write_locks: Arc<[tokio::sync::Mutex<()>]>,
    /// Compiled-policy caches.
    authz: Arc<AuthzCache>,
    /// Bumped whenever an access key is deactivated or deleted, so authentication caches
    /// drop what they hold.
    key_epoch: Arc<std::sync::atomic::AtomicU64>,
    /// Last recorded use (minute) per (key, service, region), to skip redundant writes.
    key_use: Arc<std::sync::Mutex<KeyUses>>,
    /// OIDC issuers trusted by AssumeRoleWithWebIdentity.
    oidc: Arc<std::sync::RwLock<Vec<coffer_iam::oidc::IssuerConfig>>>,
    /// Writes audit records that are not part of a write's transaction.
    audit: Arc<audit::AuditWriter>,
    /// Detective and preventive controls settings (`None`: defaults).
    controls: Arc<std::sync::RwLock<Option<Arc<controls::ControlsConfig>>>>,
}

/// Last recorded uses of access keys: key id → (service, region, minute).
type KeyUses = std::collections::HashMap<String, Vec<(String, String, i64)>>;

/// Number of write-lock shards.
const WRITE_SHARDS: usize = 64;

impl Service {
    /// Builds a service.
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, clock: Arc<dyn Clock>) -> Self {
        let write_locks = (0..WRITE_SHARDS)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        Self {
            keyring,
            clock,
            write_locks,
            authz: Arc::default(),
            key_epoch: Arc::default(),
            key_use: Arc::default(),
            oidc: Arc::default(),
            audit: Arc::new(audit::AuditWriter::new(
                Arc::clone(&store),
                audit::AuditMode::default(),
            )),
            store,
            controls: Arc::default(),
        }
    }

    /// Serializes in-process writers of the secret `arn`.
    pub(crate) async fn write_lock(&self, arn: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        arn.hash(&mut h);
        self.write_locks[(h.finish() as usize) % self.write_locks.len()]
            .lock()
            .await
    }
    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
    /// The policy caches (the server clears an account's entries after IAM changes).
    pub fn authz_cache(&self) -> &Arc<AuthzCache> {
        &self.authz
    }
    /// Changes whenever an access key is deactivated or deleted on this node.
    pub fn key_epoch(&self) -> u64 {
        self.key_epoch.load(std::sync::atomic::Ordering::Acquire)
    }
    /// The keyring.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }
    /// Now, per the service's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
