//! Shared server state, cloned into every request.

use crate::auth::AuthCache;
use crate::config::ServerConfig;
use coffer_service::{SealManager, Service};
use std::sync::Arc;

/// Everything a request handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The operations.
    pub service: Service,
    /// Seal state.
    pub seal: Arc<SealManager>,
    /// Access-key and signing-key cache.
    pub auth: Arc<AuthCache>,
    /// Settings.
    pub config: Arc<ServerConfig>,
}

impl AppState {
    /// Builds the state.
    pub fn new(service: Service, seal: Arc<SealManager>, config: ServerConfig) -> Self {
        Self {
            service,
            seal,
            auth: Arc::new(AuthCache::default()),
            config: Arc::new(config),
        }
    }
}
