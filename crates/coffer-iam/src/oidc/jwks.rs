//! JSON Web Key Sets (RFC 7517) holding the signing keys of an OIDC issuer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::OidcError;

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Public key material of one JWK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwkKey {
    /// `kty: RSA`: big-endian modulus and exponent.
    Rsa {
        /// Modulus `n`.
        n: Vec<u8>,
        /// Exponent `e`.
        e: Vec<u8>,
    },
    /// `kty: EC`, `crv: P-256`: the uncompressed point `0x04 ‖ x ‖ y`.
    EcP256 {
        /// 65-byte uncompressed SEC1 point.
        point: Vec<u8>,
    },
}

/// One usable signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// `kid`, if any.
    pub kid: Option<String>,
    /// `alg`, if any (a key that names one is only used with it).
    pub alg: Option<String>,
    /// The key.
    pub key: JwkKey,
}

/// A parsed key set. Keys of other types (`OKP`, other curves) or with `use` other
/// than `sig` are skipped; a malformed RSA/P-256 key is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    /// The usable keys, in document order.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses `{"keys":[…]}`; at least one usable key is required.
    pub fn parse(json: &[u8]) -> Result<Self, OidcError> {
        if json.len() > MAX_JWKS_BYTES {
            return Err(OidcError::BadJwks("document too large".into()));
        }
        let doc: Value = serde_json::from_slice(json)
            .map_err(|e| OidcError::BadJwks(format!("not JSON: {e}")))?;
        let list = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| OidcError::BadJwks("no \"keys\" array".into()))?;
        let mut keys = Vec::new();
        for k in list {
            if let Some(jwk) = parse_key(k)? {
                keys.push(jwk);
            }
        }
        if keys.is_empty() {
            return Err(OidcError::BadJwks("no usable RS256/ES256 key".into()));
        }
        Ok(Self { keys })
    }
}

fn field<'a>(k: &'a Value, name: &str) -> Option<&'a str> {
    k.get(name).and_then(Value::as_str)
}

fn b64(k: &Value, name: &str) -> Result<Vec<u8>, OidcError> {
    let s = field(k, name).ok_or_else(|| OidcError::BadJwks(format!("key lacks \"{name}\"")))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| OidcError::BadJwks(format!("\"{name}\" is not base64url")))
}

fn parse_key(k: &Value) -> Result<Option<Jwk>, OidcError> {
    if field(k, "use").is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let key = match (field(k, "kty"), field(k, "crv")) {
        (Some("RSA"), _) => {
            let n = strip_zeros(b64(k, "n")?);
            let e = strip_zeros(b64(k, "e")?);
            if n.len() < 256 || n.len() > 1024 || e.is_empty() || e.len() > 4 {
                return Err(OidcError::BadJwks(
                    "RSA key must have a 2048–8192-bit modulus and a small exponent".into(),
                ));
            }
            JwkKey::Rsa { n, e }
        }
        (Some("EC"), Some("P-256")) => {
            let (x, y) = (b64(k, "x")?, b64(k, "y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err(OidcError::BadJwks(
                    "P-256 coordinates must be 32 bytes".into(),
                ));
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            JwkKey::EcP256 { point }
        }
        _ => return Ok(None),
    };
    Ok(Some(Jwk {
        kid: field(k, "kid").map(str::to_owned),
        alg: field(k, "alg").map(str::to_owned),
        key,
    }))
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let z = v.iter().take_while(|b| **b == 0).count();
    v.drain(..z);
    v
}
