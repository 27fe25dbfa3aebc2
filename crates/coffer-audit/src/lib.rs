//! Coffer's audit trail, the pure part: records in CloudTrail's format, redaction of
//! request and response elements, the hash chain that links records, Ed25519-signed digests
//! of the chain head, and verification of a stored log.
//!
//! The store appends [`AuditEntry`]s (a record's JSON plus the fields lookups filter on) and
//! links each to its predecessor with [`chain::link`]; [`verify::verify`] walks a stored log
//! and reports the first record that was modified, removed, reordered or truncated.

pub mod chain;
pub mod draft;
pub mod params;
pub mod record;
pub mod verify;

pub use chain::{AuditEntry, AuditRow, Digest, DigestSigner, GENESIS, link};
pub use draft::{AuditDraft, resource_of, secret_name_of};
pub use params::{HIDDEN, redact_elements, request_parameters_from_form};
pub use record::{Record, Resource, SessionContext, SessionIssuer, UserIdentity};
pub use verify::{Anchor, Problem, ProblemKind, Report, verify};
