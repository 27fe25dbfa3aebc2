//! Opaque, tamper-checked paging tokens: base64url(JSON) of a cursor.

use base64::Engine;
use coffer_protocol::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

fn engine() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// Encodes a cursor.
pub(crate) fn encode<T: Serialize>(cursor: &T) -> String {
    engine().encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// Decodes a cursor or fails with `InvalidNextTokenException`.
pub(crate) fn decode<T: DeserializeOwned>(token: &str) -> Result<T, ApiError> {
    let bad = || {
        ApiError::new(
            ErrorCode::InvalidNextTokenException,
            "The NextToken value is invalid.",
        )
    };
    if token.is_empty() || token.len() > 4096 {
        return Err(bad());
    }
    let bytes = engine().decode(token).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// A position in a sorted listing: the sort key and ARN (or version id) of the last item
/// returned, plus a digest of the query so a token can't be replayed against another one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Cursor {
    /// Sort key of the last item (numbers rendered zero-padded so string order works).
    pub k: String,
    /// Tie-breaker id of the last item.
    pub id: String,
    /// Query digest.
    pub q: String,
}

/// Zero-padded rendering of an i64 sort key that sorts as a string.
pub(crate) fn num_key(v: i64) -> String {
    format!("{:020}", (v as i128 + i64::MAX as i128 + 1) as u128)
}

/// Decodes the `NextToken` of a listing whose query digest is `digest`: the (sort key, id)
/// of the last item already returned, or None on the first page.
pub(crate) fn resume_after(
    token: Option<&str>,
    digest: &str,
) -> Result<Option<(String, String)>, ApiError> {
    let Some(t) = token else { return Ok(None) };
    let c: Cursor = decode(t)?;
    if c.q != digest {
        return Err(ApiError::new(
            ErrorCode::InvalidNextTokenException,
            "The NextToken does not belong to this query.",
        ));
    }
    Ok(Some((c.k, c.id)))
}
