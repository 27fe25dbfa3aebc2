//! Coffer's domain: the vocabulary every other crate speaks.
//!
//! Pure code only — no I/O, no async. The service layer combines these types with a
//! store and a keyring; the store persists them as they are defined here.

pub mod arn;
pub mod clock;
pub mod error;
pub mod filter;
pub mod labels;
pub mod model;
pub mod password;
pub mod validate;

pub use arn::SecretArn;
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use error::CoreError;
pub use model::{SealedValue, SecretRecord, SecretState, Tag, ValueKind, VersionRecord};

/// The staging label of the current version.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// The staging label of the previous current version.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
/// The staging label of a version being rotated in.
pub const AWSPENDING: &str = "AWSPENDING";
