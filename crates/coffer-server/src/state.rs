//! Shared server state, cloned into every request.

use crate::auth::AuthCache;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
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
    /// Request id source.
    pub request_ids: Arc<RequestIds>,
    /// Audit event id source.
    pub event_ids: Arc<RequestIds>,
    /// Prometheus metrics of this server.
    pub metrics: Arc<Metrics>,
    /// Rule changes made on this node, for the event dispatcher.
    pub events: Arc<crate::events::EventsSignal>,
}

/// Unique request ids in UUID form without a random-number syscall per request: a random
/// v4 UUID chosen at start, with a counter mixed into its low 64 bits (version and variant
/// bits untouched).
#[derive(Debug)]
pub struct RequestIds {
    base: u128,
    next: std::sync::atomic::AtomicU64,
}

impl Default for RequestIds {
    fn default() -> Self {
        Self {
            base: uuid::Uuid::new_v4().as_u128(),
            next: Default::default(),
        }
    }
}

impl RequestIds {
    /// The next id.
    pub fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & ((1 << 62) - 1);
        uuid::Uuid::from_u128(self.base ^ u128::from(n)).to_string()
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(service: Service, seal: Arc<SealManager>, config: ServerConfig) -> Self {
        Self {
            service,
            seal,
            auth: Arc::new(AuthCache::default()),
            config: Arc::new(config),
            request_ids: Arc::new(RequestIds::default()),
            event_ids: Arc::new(RequestIds::default()),
            metrics: Arc::new(Metrics::new()),
            events: Arc::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_uuids_v4() {
        let ids = RequestIds::default();
        let a: Vec<String> = (0..1000).map(|_| ids.next_id()).collect();
        let set: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(set.len(), a.len());
        for id in &a {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 4);
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        }
    }
}

/// The connection a request arrived on (`aws:SourceIp`, `aws:SecureTransport`).
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Client address.
    pub ip: std::net::IpAddr,
    /// True over TLS.
    pub tls: bool,
}
