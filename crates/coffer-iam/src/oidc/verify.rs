//! Compact-JWS verification of OIDC ID tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde_json::{Map, Value};

use super::{Jwk, JwkKey, Jwks, OidcError};

/// Longest token accepted.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// One trusted issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerConfig {
    /// Exact `iss` value, e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// Accepted audiences (client IDs); empty accepts any.
    pub audiences: Vec<String>,
    /// The issuer's signing keys.
    pub jwks: Jwks,
}

/// The verified claims of a token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `iss`.
    pub iss: String,
    /// `sub`.
    pub sub: String,
    /// `aud`, normalized to a list.
    pub aud: Vec<String>,
    /// `exp`, epoch seconds.
    pub exp: i64,
    /// `iat`, epoch seconds, if present.
    pub iat: Option<i64>,
    /// The whole payload.
    pub raw: Map<String, Value>,
}

impl Claims {
    /// Any claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }

    /// A claim as strings: a string gives one, an array its string/number/bool elements,
    /// a number or bool its JSON text; objects and null give none.
    pub fn claim_strings(&self, name: &str) -> Vec<String> {
        fn scalar(v: &Value) -> Option<String> {
            match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
        match self.raw.get(name) {
            Some(Value::Array(a)) => a.iter().filter_map(scalar).collect(),
            Some(v) => scalar(v).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// The prefix of the provider's IAM condition keys: the issuer without `https://`
    /// (`token.actions.githubusercontent.com`, so `…:sub`, `…:aud`).
    pub fn provider_key_prefix(&self) -> &str {
        self.iss.strip_prefix("https://").unwrap_or(&self.iss)
    }
}

/// Verifies `token` against the configured issuers at time `now_s` (epoch seconds),
/// tolerating `leeway_s` seconds of clock skew. Never panics.
pub fn verify(
    token: &str,
    issuers: &[IssuerConfig],
    now_s: i64,
    leeway_s: i64,
) -> Result<Claims, OidcError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(OidcError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(OidcError::Malformed(
            "expected three dot-separated parts".into(),
        ));
    };
    let header = json_object(h64, "header")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| OidcError::Malformed("header lacks alg".into()))?;
    if !matches!(alg, "RS256" | "ES256") {
        return Err(OidcError::UnsupportedAlgorithm(truncate(alg)));
    }
    if header.contains_key("crit") {
        return Err(OidcError::UnsupportedAlgorithm("crit".into()));
    }
    let payload = json_object(p64, "payload")?;
    let iss = payload
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(OidcError::MissingClaim("iss"))?;
    let issuer = issuers
        .iter()
        .find(|i| i.issuer == iss)
        .ok_or_else(|| OidcError::UnknownIssuer(truncate(iss)))?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(OidcError::Malformed("kid is not a string".into())),
    };
    let key = select_key(&issuer.jwks, alg, kid)?;
    let sig = URL_SAFE_NO_PAD
        .decode(s64)
        .map_err(|_| OidcError::Malformed("signature is not base64url".into()))?;
    let signed = &token.as_bytes()[..h64.len() + 1 + p64.len()];
    let ok = match &key.key {
        JwkKey::Rsa { n, e } => RsaPublicKeyComponents { n, e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, signed, &sig)
            .is_ok(),
        JwkKey::EcP256 { point } => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(signed, &sig)
            .is_ok(),
    };
    if !ok {
        return Err(OidcError::BadSignature);
    }
    check_claims(payload, issuer, now_s, leeway_s)
}

fn check_claims(
    raw: Map<String, Value>,
    issuer: &IssuerConfig,
    now_s: i64,
    leeway_s: i64,
) -> Result<Claims, OidcError> {
    let leeway = leeway_s.max(0);
    let exp = numeric_date(&raw, "exp")?.ok_or(OidcError::MissingClaim("exp"))?;
    if exp <= now_s.saturating_sub(leeway) {
        return Err(OidcError::Expired);
    }
    let iat = numeric_date(&raw, "iat")?;
    let nbf = numeric_date(&raw, "nbf")?;
    let latest = now_s.saturating_add(leeway);
    if nbf.is_some_and(|t| t > latest) || iat.is_some_and(|t| t > latest) {
        return Err(OidcError::NotYetValid);
    }
    let aud: Vec<String> = match raw.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or(OidcError::MissingClaim("aud"))?,
        None => Vec::new(),
        Some(_) => return Err(OidcError::MissingClaim("aud")),
    };
    if !issuer.audiences.is_empty() && !aud.iter().any(|a| issuer.audiences.contains(a)) {
        return Err(OidcError::AudienceMismatch);
    }
    let sub = raw
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(OidcError::MissingClaim("sub"))?
        .to_owned();
    Ok(Claims {
        iss: issuer.issuer.clone(),
        sub,
        aud,
        exp,
        iat,
        raw,
    })
}

/// Picks the verification key: by `kid` when the header has one, else the only key
/// usable with `alg`. Keys of the wrong type, or naming another `alg`, never match.
fn select_key<'a>(jwks: &'a Jwks, alg: &str, kid: Option<&str>) -> Result<&'a Jwk, OidcError> {
    let usable = |k: &&Jwk| {
        let type_ok = matches!(
            (&k.key, alg),
            (JwkKey::Rsa { .. }, "RS256") | (JwkKey::EcP256 { .. }, "ES256")
        );
        type_ok && k.alg.as_deref().is_none_or(|a| a == alg)
    };
    let mut candidates = jwks.keys.iter().filter(usable);
    match kid {
        Some(kid) => candidates
            .find(|k| k.kid.as_deref() == Some(kid))
            .ok_or(OidcError::UnknownKey),
        None => match (candidates.next(), candidates.next()) {
            (Some(k), None) => Ok(k),
            _ => Err(OidcError::UnknownKey),
        },
    }
}

fn json_object(part: &str, what: &str) -> Result<Map<String, Value>, OidcError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| OidcError::Malformed(format!("{what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(OidcError::Malformed(format!("{what} is not a JSON object"))),
    }
}

/// A NumericDate claim (integer or fractional seconds) as whole seconds.
fn numeric_date(raw: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, OidcError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or(OidcError::MissingClaim(name)),
        Some(_) => Err(OidcError::MissingClaim(name)),
    }
}

/// Caps attacker-controlled text echoed into error messages.
fn truncate(s: &str) -> String {
    s.chars().take(128).collect()
}
