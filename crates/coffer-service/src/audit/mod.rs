//! The audit trail, service side: records committed with the writes they describe, the
//! group-commit writer for everything else, service events, signed digests, verification
//! and CloudTrail's LookupEvents.

pub mod identity;
pub mod lookup;
pub mod writer;

use std::collections::HashMap;
use std::sync::Arc;

use coffer_audit::{AuditEntry, AuditRow, Digest, DigestSigner, Record, Report, UserIdentity};
use coffer_protocol::{ApiError, ErrorCode};

use crate::ApiResult;
use coffer_store::{Store, StoreError};
use serde::Serialize;
use serde_json::Value;

pub use identity::user_identity;
pub use writer::{AuditCounters, AuditError, AuditMode, AuditWriter};

use crate::{Caller, Service};

/// Key-derivation label of the digest-signing key (derived from the root key, so every node
/// holds the same key and nothing more is stored).
const SIGNING_LABEL: &[u8] = b"coffer/audit-signing/v1";
/// Meta key prefix under which the public halves of signing keys are kept, by key id.
pub const PUBLIC_KEY_PREFIX: &str = "audit.public-key.";
/// Records read per batch by verification and sinks.
pub const PAGE: usize = 2_000;

impl Service {
    /// The audit writer.
    pub fn audit_writer(&self) -> &Arc<AuditWriter> {
        &self.audit
    }

    /// Replaces the audit writer with one in `mode` (at start-up).
    pub fn with_audit_mode(mut self, mode: AuditMode) -> Self {
        self.audit = Arc::new(AuditWriter::new(Arc::clone(&self.store), mode));
        self
    }

    /// The record to commit with a write whose response will be `response`, or `None`
    /// when the call is not audited (tests, audit off) or its record is already written.
    pub(crate) fn audit_for_commit<T: Serialize>(
        &self,
        caller: &Caller,
        response: &T,
    ) -> Option<AuditEntry> {
        if self.audit.mode() == AuditMode::Off {
            return None;
        }
        let draft = caller.audit.as_ref().filter(|d| !d.is_committed())?;
        let value = serde_json::to_value(response).ok();
        Some(draft.success(value.as_ref()))
    }

    /// Notes that the caller's record went into the store with its write.
    pub(crate) fn audit_committed(&self, caller: &Caller) {
        if let Some(d) = &caller.audit {
            d.mark_committed();
            self.audit
                .counters()
                .written
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Records an event Coffer itself caused (rotation outcome, purge at the end of the
    /// recovery window) as CloudTrail does: `eventType` `AwsServiceEvent`.
    pub async fn record_service_event(
        &self,
        account_id: &str,
        region: &str,
        event_name: &str,
        resource_arns: &[&str],
        details: Value,
    ) -> Result<(), AuditError> {
        let entry = self.service_event(account_id, region, event_name, resource_arns, details);
        self.audit.record(entry).await
    }

    /// The entry of a service event (see [`Service::record_service_event`]), to commit
    /// with the change it describes.
    pub(crate) fn service_event(
        &self,
        account_id: &str,
        region: &str,
        event_name: &str,
        resource_arns: &[&str],
        details: Value,
    ) -> AuditEntry {
        self.service_event_of(
            "secretsmanager.amazonaws.com",
            account_id,
            region,
            event_name,
            resource_arns,
            details,
        )
    }

    /// A KMS service event (a scheduled key deletion carried out).
    pub(crate) fn kms_service_event(
        &self,
        account_id: &str,
        region: &str,
        event_name: &str,
        key_arn: &str,
    ) -> AuditEntry {
        self.service_event_of(
            "kms.amazonaws.com",
            account_id,
            region,
            event_name,
            &[key_arn],
            serde_json::json!({"reason": "the key's waiting period ended"}),
        )
    }

    /// Whether (and how) calls are audited.
    pub(crate) fn audit_mode(&self) -> AuditMode {
        self.audit.mode()
    }

    fn service_event_of(
        &self,
        source: &'static str,
        account_id: &str,
        region: &str,
        event_name: &str,
        resource_arns: &[&str],
        details: Value,
    ) -> AuditEntry {
        let mut r = Record::new(source, event_name);
        r.event_type = "AwsServiceEvent".to_owned();
        r.user_identity = UserIdentity {
            kind: "AWSService".to_owned(),
            invoked_by: Some(source.to_owned()),
            ..Default::default()
        };
        let now = self.now_ms();
        r.event_time = coffer_iam::wire::format_timestamp(now);
        r.aws_region = region.to_owned();
        r.source_ip_address = source.to_owned();
        r.user_agent = source.to_owned();
        r.event_id = uuid::Uuid::new_v4().to_string();
        r.request_id = r.event_id.clone();
        r.read_only = false;
        r.recipient_account_id = account_id.to_owned();
        r.resources = resource_arns
            .iter()
            .filter_map(|a| coffer_audit::resource_of(a))
            .collect();
        r.service_event_details = Some(details);
        coffer_audit::draft::entry(&r, now)
    }

    /// The digest-signing key, derived from the root key (sealed server: unavailable).
    pub fn audit_signer(&self) -> ApiResult<DigestSigner> {
        let root = self.keyring.root()?;
        let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"coffer-audit");
        let prk = salt.extract(root.expose_bytes());
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        prk.expand(&[SIGNING_LABEL], Seed)
            .and_then(|okm| okm.fill(seed.as_mut()))
            .map_err(|_| ApiError::internal())?;
        Ok(DigestSigner::from_seed(seed))
    }

    /// Signs the chain head if records were added since the last digest; returns the
    /// digest written, if any. Also publishes the signing key's public half.
    pub async fn write_audit_digest(&self) -> ApiResult<Option<Digest>> {
        let signer = self.audit_signer()?;
        let store = &self.store;
        let key_meta = format!("{PUBLIC_KEY_PREFIX}{}", signer.key_id());
        if store
            .get_meta(&key_meta)
            .await
            .map_err(crate::convert::store)?
            .is_none()
        {
            store
                .put_meta(&key_meta, hex::encode(signer.public_key()).as_bytes())
                .await
                .map_err(crate::convert::store)?;
        }
        let (seq, head) = store.audit_head().await.map_err(crate::convert::store)?;
        let last = store
            .audit_digests()
            .await
            .map_err(crate::convert::store)?
            .last()
            .map_or(0, |d| d.seq);
        if seq == 0 || seq <= last {
            return Ok(None);
        }
        let digest = signer.sign(seq, &head, self.now_ms());
        store
            .put_audit_digest(&digest)
            .await
            .map_err(crate::convert::store)?;
        Ok(Some(digest))
    }

    /// Removes records older than `days` days (retention). Returns how many went.
    pub async fn prune_audit(&self, days: u32) -> ApiResult<u64> {
        let before = self.now_ms() - i64::from(days) * 86_400_000;
        self.store
            .audit_prune(before)
            .await
            .map_err(crate::convert::store)
    }
}

/// Output length marker for HKDF.
struct Seed;

impl ring::hkdf::KeyType for Seed {
    fn len(&self) -> usize {
        32
    }
}

/// Verifies the whole stored log of `store` against its chain and its digests, with the
/// public keys published in the store plus `pinned` (hex) keys the operator trusts.
/// Works on a sealed or stopped server: only public keys are needed.
pub async fn verify_log(store: &dyn Store, pinned: &[Vec<u8>]) -> Result<Report, StoreError> {
    let mut keys: HashMap<String, Vec<u8>> = HashMap::new();
    for k in pinned {
        keys.insert(coffer_audit::chain::key_fingerprint(k), k.clone());
    }
    if pinned.is_empty() {
        for d in store.audit_digests().await? {
            if keys.contains_key(&d.key_id) {
                continue;
            }
            if let Some(raw) = store
                .get_meta(&format!("{PUBLIC_KEY_PREFIX}{}", d.key_id))
                .await?
                && let Ok(k) = hex::decode(&raw)
                && coffer_audit::chain::key_fingerprint(&k) == d.key_id
            {
                keys.insert(d.key_id.clone(), k);
            }
        }
    }
    let digests = store.audit_digests().await?;
    let anchor = store.audit_anchor().await?;
    let rows = all_rows(store, anchor.after_seq).await?;
    Ok(coffer_audit::verify(rows, &digests, anchor, &keys))
}

/// Every record after `after`, read in pages.
async fn all_rows(store: &dyn Store, mut after: u64) -> Result<Vec<AuditRow>, StoreError> {
    let mut out = Vec::new();
    loop {
        let page = store.audit_range(after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(out);
        };
        after = last.seq;
        out.extend(page);
    }
}

/// The error a fail-closed call gets when its record cannot be written.
pub fn unavailable(e: &AuditError) -> ApiError {
    tracing::error!(error = %e, "refusing a call whose audit record could not be written");
    ApiError::new(
        ErrorCode::InternalServiceError,
        "The audit log is unavailable; the request was not completed.",
    )
}
