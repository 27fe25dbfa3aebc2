//! OIDC web identity tokens for `AssumeRoleWithWebIdentity`: JWKS parsing and JWT
//! verification (RS256 and ES256 only). Nothing here touches the network: the server is
//! configured with each issuer's JWKS document.

mod jwks;
mod verify;

pub use jwks::{Jwk, JwkKey, Jwks, MAX_JWKS_BYTES};
pub use verify::{Claims, IssuerConfig, MAX_TOKEN_BYTES, verify};

use crate::error::IamError;

/// Why a web identity token (or a JWKS) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The JWKS document is unusable (configuration error).
    #[error("invalid JWKS: {0}")]
    BadJwks(String),
    /// The token is longer than [`MAX_TOKEN_BYTES`].
    #[error("token is too large")]
    TooLarge,
    /// Not a compact JWS with base64url JSON header and payload.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// `alg` is not RS256 or ES256 (`none`, `HS256`, …), or `crit` is present.
    #[error("unsupported token algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// `iss` matches no configured issuer.
    #[error("no OpenID Connect provider found for issuer {0}")]
    UnknownIssuer(String),
    /// No key of the issuer matches `kid`/`alg`.
    #[error("no matching signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("invalid token signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("token is expired")]
    Expired,
    /// `nbf` or `iat` lies in the future.
    #[error("token is not yet valid")]
    NotYetValid,
    /// `aud` shares no value with the issuer's configured audiences.
    #[error("incorrect token audience")]
    AudienceMismatch,
    /// A required claim is missing or has the wrong type.
    #[error("missing or invalid claim {0}")]
    MissingClaim(&'static str),
    /// A claim was rejected by a caller-side rule (maps to `IDPRejectedClaim`).
    #[error("{0}")]
    RejectedClaim(String),
}

impl From<OidcError> for IamError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Expired => IamError::ExpiredToken("Token expired".into()),
            OidcError::AudienceMismatch => {
                IamError::InvalidIdentityToken("Incorrect token audience".into())
            }
            OidcError::RejectedClaim(m) => IamError::IdpRejectedClaim(m),
            OidcError::BadJwks(_) => {
                IamError::InvalidIdentityToken("The identity provider is misconfigured".into())
            }
            other => IamError::InvalidIdentityToken(capitalize(&other.to_string())),
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
