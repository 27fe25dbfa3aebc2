//! Canonical request and string to sign.

use ring::digest::{SHA256, digest};

use crate::encode::{canonical_header_value, canonical_query, canonical_uri};
use crate::parse::Q_SIGNATURE;
use crate::{ALGORITHM, Parsed, Request, SigV4Error, UriPathMode};

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest(&SHA256, data))
}

/// Writes the canonical request into `out`.
pub(crate) fn write_canonical<S: AsRef<str>>(
    req: &Request,
    signed_headers: &[S],
    presigned: bool,
    payload_hash_hex: &str,
    mode: UriPathMode,
    out: &mut Vec<u8>,
) -> Result<(), SigV4Error> {
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    canonical_uri(req.path, mode, out);
    out.push(b'\n');
    canonical_query(req.query, presigned.then_some(Q_SIGNATURE), out);
    out.push(b'\n');
    for name in signed_headers {
        let name = name.as_ref();
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut any = false;
        for v in req.header_values(name) {
            if any {
                out.push(b',');
            }
            canonical_header_value(v, out);
            any = true;
        }
        if !any {
            return Err(SigV4Error::SignedHeaders(format!(
                "Header '{name}' is listed in SignedHeaders but is not present in the request."
            )));
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        out.extend_from_slice(name.as_ref().as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(payload_hash_hex.as_bytes());
    Ok(())
}

/// The string to sign for a canonical request under `amz_date` and `scope`.
pub(crate) fn write_string_to_sign(amz_date: &str, scope: &str, canonical: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical)
    )
}

/// The canonical request of `req` as `parsed` claims it was signed, path normalized.
/// The payload hash is always the hex SHA-256 of the body.
pub fn canonical_request(req: &Request, parsed: &Parsed) -> Result<String, SigV4Error> {
    canonical_request_with(req, parsed, UriPathMode::Normalize)
}

/// [`canonical_request`] with an explicit path mode.
pub fn canonical_request_with(
    req: &Request,
    parsed: &Parsed,
    mode: UriPathMode,
) -> Result<String, SigV4Error> {
    let mut out = Vec::with_capacity(256);
    write_canonical(
        req,
        &parsed.signed_headers,
        parsed.presigned,
        &sha256_hex(req.body),
        mode,
        &mut out,
    )?;
    String::from_utf8(out).map_err(|_| {
        SigV4Error::SignedHeaders("A signed header value is not valid UTF-8.".to_owned())
    })
}

/// The string to sign: algorithm, `X-Amz-Date`, credential scope, hex SHA-256 of the canonical request.
pub fn string_to_sign(parsed: &Parsed, canonical_request: &str) -> String {
    write_string_to_sign(
        &parsed.amz_date,
        &parsed.credential_scope(),
        canonical_request.as_bytes(),
    )
}
