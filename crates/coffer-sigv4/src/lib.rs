//! AWS Signature Version 4: verification (server) and signing (clients), pure and I/O-free.
//!
//! Server flow: [`parse`] the request (no secret needed), look up the secret
//! for [`Parsed::access_key_id`], check [`Parsed::region`], get a (cached)
//! [`derive_signing_key`], then [`verify`] against a [`Policy`].
//!
//! Client flow: [`sign`] (header form) or [`presign`] (query form).
//!
//! ```
//! use coffer_sigv4::*;
//!
//! let base: Vec<(&str, &[u8])> = vec![
//!     ("host", b"localhost:8443"),
//!     ("content-type", b"application/x-amz-json-1.1"),
//!     ("x-amz-target", b"secretsmanager.ListSecrets"),
//! ];
//! let req = Request { method: "POST", path: "/", query: "", headers: &base, body: b"{}" };
//! let params = SigningParams {
//!     access_key_id: "AKID",
//!     secret_access_key: "secret",
//!     region: "us-east-1",
//!     service: "secretsmanager",
//!     amz_date: "20251106T132608Z",
//!     ..Default::default()
//! };
//! let signed = sign(&req, &params)?;
//! let mut headers = base.clone();
//! headers.extend(signed.headers().into_iter().map(|(k, v)| (k, v.as_bytes())));
//! let req = Request { headers: &headers, ..req };
//!
//! // Server side.
//! let parsed = parse(&req)?;
//! assert_eq!(parsed.access_key_id, "AKID");
//! let key = derive_signing_key("secret", &parsed.date, &parsed.region, &parsed.service);
//! let now = parse_amz_date("20251106T133000Z").unwrap();
//! verify(&req, &parsed, &key, &Policy::new(now, "secretsmanager"))?;
//! # Ok::<(), SigV4Error>(())
//! ```

mod canonical;
mod encode;
mod error;
mod key;
mod parse;
mod sign;
mod time;
mod verify;

pub use canonical::{canonical_request, canonical_request_with, string_to_sign};
pub use encode::UriPathMode;
pub use error::SigV4Error;
pub use key::{SigningKey, derive_signing_key};
pub use parse::{Parsed, parse};
pub use sign::{SignedHeaders, SigningParams, presign, sign};
pub use time::{format_amz_date, parse_amz_date};
pub use verify::{Policy, verify, verify_with};

/// The only supported algorithm.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The credential-scope terminator.
pub const TERMINATOR: &str = "aws4_request";
/// Longest accepted `Authorization` header, in bytes.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;
/// Most signed headers accepted.
pub const MAX_SIGNED_HEADERS: usize = 64;
/// Longest accepted presigned auth query parameter (decoded), session token aside.
pub const MAX_QUERY_AUTH_PARAM_LEN: usize = 4096;
/// Longest accepted session token, in bytes.
pub const MAX_SESSION_TOKEN_LEN: usize = 16 * 1024;
/// Longest presigned validity (`X-Amz-Expires`), in seconds: one week.
pub const MAX_EXPIRES_SECS: u64 = 604_800;
/// Default allowed clock skew: 15 minutes.
pub const DEFAULT_MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// A request as seen on the wire, borrowed.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// Raw path as sent, without the query, e.g. `/`.
    pub path: &'a str,
    /// Raw query string without `?`; may be empty.
    pub query: &'a str,
    /// Headers in wire order: names in any case, raw values, duplicates allowed.
    /// Must include `host` (for HTTP/2, synthesize it from `:authority`).
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The request body.
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// Values of every header named `name` (case-insensitive), in wire order.
    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}
