//! Coffer's use cases: one async function per Secrets Manager operation.
//!
//! A [`Service`] owns a [`Store`](coffer_store::Store), a [`Keyring`] (root key and KMS key
//! material, in memory only) and a [`Clock`](coffer_core::Clock). It knows nothing about
//! HTTP: the server authenticates the caller, builds a [`Caller`] and calls in here. Every
//! operation returns the protocol's output shape or an [`ApiError`].

pub mod accounts;
mod convert;
pub mod keyring;
mod ops;
mod paging;
mod resolve;
pub mod seal;

use coffer_core::Clock;
use coffer_protocol::ApiError;
use coffer_store::Store;
use std::sync::Arc;

pub use keyring::Keyring;
pub use ops::password::random_password;
pub use seal::{SealManager, SealStatus};

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Account the credentials belong to.
    pub account_id: String,
    /// Region from the request's credential scope.
    pub region: String,
    /// ARN of the principal (account root for now).
    pub principal_arn: String,
    /// Access key used.
    pub access_key_id: String,
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
}

/// Number of write-lock shards.
const WRITE_SHARDS: usize = 64;

impl Service {
    /// Builds a service.
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, clock: Arc<dyn Clock>) -> Self {
        let write_locks = (0..WRITE_SHARDS)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        Self {
            store,
            keyring,
            clock,
            write_locks,
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
    /// The keyring.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }
    /// Now, per the service's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
