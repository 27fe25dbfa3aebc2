//! IAM and STS for Coffer: domain entities, the AWS Query wire format (form-encoded
//! requests, XML responses), AWS-managed policies, OIDC web-identity token verification
//! and STS session-credential formats.
//!
//! Everything here is pure: no I/O, no async, no clock (callers pass `now`). Randomness
//! is used only by the explicit ID/key generators.

pub mod error;
pub mod managed;
pub mod model;
pub mod oidc;
pub mod session;
pub mod wire;

pub use error::IamError;
