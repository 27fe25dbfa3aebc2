//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format.
//!
//! One [`Metrics`] per [`AppState`](crate::AppState) (no process-global registry), so
//! several servers in one process keep separate counts. Request metrics are recorded by
//! [`Metrics::observe`]; the store gauges (`coffer_secrets`, `coffer_secret_versions`,
//! `coffer_secrets_pending_deletion`) and `coffer_sealed` are refreshed at scrape time by
//! [`Metrics::refresh`], the store counts at most once per [`STATS_TTL`].
//!
//! Label values are bounded: services and operations come from fixed lists (anything else
//! is `unknown`), outcomes are four words, and error codes must look like a wire error
//! code (else `other`), which callers take from their closed error enums.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use coffer_store::{Store, StoreStats};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long a scrape reuses the store counts of the previous one.
pub const STATS_TTL: Duration = Duration::from_secs(5);

/// Upper bounds (seconds) of `coffer_request_duration_seconds`: 50 µs to 5 s in 1-2.5-5
/// steps.
pub const DURATION_BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

/// The `service` label values [`Metrics::observe`] accepts (others become `unknown`).
pub const SERVICES: &[&str] = &["secretsmanager", "iam", "sts", "admin", "cloudtrail", "kms"];

/// `CofferAdmin.*` operations.
const ADMIN_OPERATIONS: &[&str] = &["CreateAccount", "Seal", "MigrateSeal"];

/// STS actions Coffer answers.
const STS_OPERATIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "GetCallerIdentity",
    "GetSessionToken",
];

/// IAM actions Coffer answers (the dispatch list of `coffer_service::Service::iam_call`).
const IAM_OPERATIONS: &[&str] = &[
    "AddUserToGroup",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "AttachUserPolicy",
    "CreateAccessKey",
    "CreateGroup",
    "CreatePolicy",
    "CreateRole",
    "CreateUser",
    "DeleteAccessKey",
    "DeleteGroup",
    "DeleteGroupPolicy",
    "DeletePolicy",
    "DeleteRole",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DeleteUser",
    "DeleteUserPermissionsBoundary",
    "DeleteUserPolicy",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "GetAccessKeyLastUsed",
    "GetGroup",
    "GetGroupPolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "GetRole",
    "GetRolePolicy",
    "GetUser",
    "GetUserPolicy",
    "ListAccessKeys",
    "ListAttachedGroupPolicies",
    "ListAttachedRolePolicies",
    "ListAttachedUserPolicies",
    "ListGroupPolicies",
    "ListGroups",
    "ListGroupsForUser",
    "ListPolicies",
    "ListRolePolicies",
    "ListRoleTags",
    "ListRoles",
    "ListUserPolicies",
    "ListUserTags",
    "ListUsers",
    "PutGroupPolicy",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "PutUserPermissionsBoundary",
    "PutUserPolicy",
    "RemoveUserFromGroup",
    "SimulatePrincipalPolicy",
    "TagRole",
    "TagUser",
    "UntagRole",
    "UntagUser",
    "UpdateAccessKey",
    "UpdateAssumeRolePolicy",
];

/// Error codes that are the server's fault besides those of [`coffer_protocol::ErrorCode`]
/// with a 5xx status (the Query protocol's codes).
const SERVER_ERROR_CODES: &[&str] = &["ServiceFailure", "InternalFailure", "ServiceUnavailable"];

/// Longest error code kept as a label value.
const MAX_ERROR_CODE: usize = 64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    service: &'static str,
    operation: &'static str,
    outcome: &'static str,
    error_code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    service: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabels {
    sink: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Outcome of one rotation, for `coffer_rotations_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The rotation finished and the new version is AWSCURRENT.
    Succeeded,
    /// The rotation failed.
    Failed,
}

impl RotationOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// Outcome of writing one audit record, for `coffer_audit_records_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// The record was written.
    Written,
    /// Writing the record failed.
    Failed,
}

impl AuditOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Written => "written",
            Self::Failed => "failed",
        }
    }
}

/// The server's metrics and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<OperationLabels, Histogram, fn() -> Histogram>,
    secrets: Gauge,
    versions: Gauge,
    pending_deletion: Gauge,
    sealed: Gauge,
    rotations: Family<OutcomeLabels, Counter>,
    audit_records: Family<OutcomeLabels, Counter>,
    audit_lag: Family<SinkLabels, Gauge>,
    /// When the store gauges were last refreshed.
    stats_at: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered (counters at 0, gauges at 0).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("coffer");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "API requests by service, operation and outcome (success, client_error, server_error, denied)",
            requests.clone(),
        );
        let durations =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register_with_unit(
            "request_duration",
            "Time from reading the request to the response, by service and operation",
            Unit::Seconds,
            durations.clone(),
        );
        let secrets = Gauge::default();
        registry.register(
            "secrets",
            "Secrets stored, including those scheduled for deletion",
            secrets.clone(),
        );
        let versions = Gauge::default();
        registry.register(
            "secret_versions",
            "Versions of all stored secrets",
            versions.clone(),
        );
        let pending_deletion = Gauge::default();
        registry.register(
            "secrets_pending_deletion",
            "Secrets scheduled for deletion and not yet purged",
            pending_deletion.clone(),
        );
        let rotations = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "rotations",
            "Secret rotations by outcome (succeeded, failed)",
            rotations.clone(),
        );
        for r in [RotationOutcome::Succeeded, RotationOutcome::Failed] {
            drop(rotations.get_or_create(&OutcomeLabels { outcome: r.label() }));
        }
        let audit_records = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "audit_records",
            "Audit records by outcome (written, failed)",
            audit_records.clone(),
        );
        for a in [AuditOutcome::Written, AuditOutcome::Failed] {
            drop(audit_records.get_or_create(&OutcomeLabels { outcome: a.label() }));
        }
        let audit_lag = Family::<SinkLabels, Gauge>::default();
        registry.register(
            "audit_sink_lag_records",
            "Audit records not yet delivered to each sink",
            audit_lag.clone(),
        );
        let sealed = Gauge::default();
        registry.register(
            "sealed",
            "1 while the server is sealed, 0 when unsealed",
            sealed.clone(),
        );
        registry.register(
            "build",
            "Coffer build information",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Self {
            registry,
            requests,
            durations,
            secrets,
            versions,
            pending_deletion,
            sealed,
            rotations,
            audit_records,
            audit_lag,
            stats_at: Mutex::new(None),
        }
    }

    /// Records one API request: `service` is one of [`SERVICES`], `operation` the
    /// operation's name (or Query `Action`), `error_code` the wire error code if the request
    /// failed, `elapsed` its duration. Unknown services and operations count as `unknown`.
    pub fn observe(
        &self,
        service: &str,
        operation: &str,
        error_code: Option<&str>,
        elapsed: Duration,
    ) {
        let service = SERVICES
            .iter()
            .find(|s| **s == service)
            .copied()
            .unwrap_or("unknown");
        let operation = known_operation(service, operation);
        let (outcome, error_code) = match error_code {
            None => ("success", String::new()),
            Some(code) => (outcome_of(code), bounded_code(code)),
        };
        self.requests
            .get_or_create(&RequestLabels {
                service,
                operation,
                outcome,
                error_code,
            })
            .inc();
        self.durations
            .get_or_create(&OperationLabels { service, operation })
            .observe(elapsed.as_secs_f64());
    }

    /// [`Metrics::observe`] for the JSON endpoint: `CofferAdmin.<Op>` is service `admin`,
    /// anything else `secretsmanager` with the operation after `secretsmanager.`.
    pub fn observe_target(&self, target: &str, error_code: Option<&str>, elapsed: Duration) {
        let kms = target.strip_prefix(coffer_service::kms::TARGET_PREFIX);
        let (service, operation) = match target.strip_prefix(crate::api::ADMIN_PREFIX) {
            Some(op) => ("admin", op),
            None if kms.is_some() => ("kms", kms.unwrap_or("")),
            None => (
                "secretsmanager",
                target
                    .strip_prefix(coffer_protocol::TARGET_PREFIX)
                    .unwrap_or(""),
            ),
        };
        self.observe(service, operation, error_code, elapsed);
    }

    /// [`Metrics::observe`] for the Query endpoint: service `sts` if the request was
    /// answered as STS or names an STS action (an STS call refused before its signature
    /// was verified), else `iam`; the operation is the `Action`.
    pub fn observe_query(
        &self,
        sts: bool,
        action: Option<&str>,
        error_code: Option<&str>,
        elapsed: Duration,
    ) {
        let action = action.unwrap_or("");
        let service = if sts || STS_OPERATIONS.contains(&action) {
            "sts"
        } else {
            "iam"
        };
        self.observe(service, action, error_code, elapsed);
    }

    /// Counts one finished rotation.
    pub fn rotation(&self, outcome: RotationOutcome) {
        self.rotations
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Counts one audit record written or lost.
    pub fn audit(&self, outcome: AuditOutcome) {
        self.audit_records
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Brings `coffer_audit_records_total` up to the audit writer's running totals
    /// (`written`, `failed`), counting only what was added since the last call.
    pub fn sync_audit(&self, written: u64, failed: u64) {
        for (outcome, total) in [
            (AuditOutcome::Written, written),
            (AuditOutcome::Failed, failed),
        ] {
            let c = self.audit_records.get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            });
            let seen = c.get();
            if total > seen {
                c.inc_by(total - seen);
            }
        }
    }

    /// Sets how many audit records `sink` has not yet delivered.
    pub fn set_audit_sink_lag(&self, sink: &str, lag: u64) {
        self.audit_lag
            .get_or_create(&SinkLabels {
                sink: sink.to_owned(),
            })
            .set(i64::try_from(lag).unwrap_or(i64::MAX));
    }

    /// Sets the store gauges from `stats`.
    pub fn set_store_stats(&self, stats: StoreStats) {
        let g = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.secrets.set(g(stats.secrets));
        self.versions.set(g(stats.versions));
        self.pending_deletion.set(g(stats.pending_deletion));
    }

    /// Scrape-time gauges: `coffer_sealed` from `unsealed`, and the store counts from
    /// `store` unless they were read less than [`STATS_TTL`] ago. A store error keeps the
    /// previous counts and is returned (the scrape can still be served).
    pub async fn refresh(
        &self,
        store: &dyn Store,
        unsealed: bool,
    ) -> coffer_store::StoreResult<()> {
        self.sealed.set(i64::from(!unsealed));
        let now = Instant::now();
        {
            let mut at = self.stats_at.lock().unwrap_or_else(|e| e.into_inner());
            if at.is_some_and(|t| now.duration_since(t) < STATS_TTL) {
                return Ok(());
            }
            // Claimed before the read so concurrent scrapes do not all query the store.
            *at = Some(now);
        }
        match store.stats().await {
            Ok(stats) => {
                self.set_store_stats(stats);
                Ok(())
            }
            Err(e) => {
                // Retry on the next scrape.
                *self.stats_at.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Err(e)
            }
        }
    }

    /// The registry in the OpenMetrics text format (see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// `operation` if it is an operation of `service`, else `unknown`.
fn known_operation(service: &str, operation: &str) -> &'static str {
    let find = |list: &[&'static str]| list.iter().find(|o| **o == operation).copied();
    match service {
        "secretsmanager" => coffer_protocol::Operation::from_name(operation).map(|o| o.name()),
        "admin" => find(ADMIN_OPERATIONS),
        "iam" => find(IAM_OPERATIONS),
        "sts" => find(STS_OPERATIONS),
        _ => None,
    }
    .unwrap_or("unknown")
}

/// `denied`, `server_error` or `client_error` for a failed request's error code.
fn outcome_of(code: &str) -> &'static str {
    if code == "AccessDeniedException" || code == "AccessDenied" {
        "denied"
    } else if SERVER_ERROR_CODES.contains(&code)
        || coffer_protocol::ErrorCode::parse(code).is_some_and(|c| c.status() >= 500)
    {
        "server_error"
    } else {
        "client_error"
    }
}

/// The code itself if it looks like a wire error code (ASCII letters and digits, at most
/// [`MAX_ERROR_CODE`] long), else `other`.
fn bounded_code(code: &str) -> String {
    if !code.is_empty()
        && code.len() <= MAX_ERROR_CODE
        && code.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        code.to_owned()
    } else {
        "other".to_owned()
    }
}

#[cfg(test)]
mod tests;
