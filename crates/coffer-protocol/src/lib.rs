//! The AWS JSON 1.1 wire model of Secrets Manager, shared by the server and Coffer's clients.
//!
//! - [`Operation`]: the `X-Amz-Target` dispatch key.
//! - [`shapes`]: request and response bodies (PascalCase JSON, epoch-second timestamps,
//!   base64 blobs), field names exactly as in botocore's `secretsmanager` model.
//! - [`ApiError`]: every failure as AWS renders it (`__type`, `message`, HTTP status).

pub mod error;
pub mod operation;
pub mod shapes;

pub use error::{ApiError, ErrorCode};
pub use operation::Operation;

/// Content type of every request and response body.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Prefix of `X-Amz-Target` for Secrets Manager operations.
pub const TARGET_PREFIX: &str = "secretsmanager.";
/// SigV4 signing name of the service.
pub const SIGNING_NAME: &str = "secretsmanager";
