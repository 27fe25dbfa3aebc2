//! Server-side verification of a parsed request.

use crate::canonical::{sha256_hex, write_canonical, write_string_to_sign};
use crate::{
    DEFAULT_MAX_SKEW_MS, MAX_EXPIRES_SECS, Parsed, Request, SigV4Error, SigningKey, TERMINATOR,
    UriPathMode, format_amz_date,
};

/// What the server accepts.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Current time, Unix milliseconds.
    pub now_ms: i64,
    /// Allowed clock skew in milliseconds (default 15 minutes).
    pub max_skew_ms: i64,
    /// The service name the credential scope must carry, e.g. `secretsmanager`.
    pub service: &'static str,
    /// Whether the presigned (query-string) form is accepted.
    pub allow_presigned: bool,
}

impl Policy {
    /// 15-minute skew, presigned requests allowed.
    pub fn new(now_ms: i64, service: &'static str) -> Self {
        Self {
            now_ms,
            max_skew_ms: DEFAULT_MAX_SKEW_MS,
            service,
            allow_presigned: true,
        }
    }
}

/// Verifies `req` against `parsed` with path normalization (every service but S3).
///
/// Checks, in order: presigned allowed, scope (date = `X-Amz-Date`'s date,
/// service, terminator), time window, signed-header rules, `x-amz-content-sha256`,
/// then the signature in constant time. The region is NOT checked.
pub fn verify(
    req: &Request,
    parsed: &Parsed,
    key: &SigningKey,
    policy: &Policy,
) -> Result<(), SigV4Error> {
    verify_with(req, parsed, key, policy, UriPathMode::Normalize)
}

/// [`verify`] with an explicit path mode.
pub fn verify_with(
    req: &Request,
    parsed: &Parsed,
    key: &SigningKey,
    policy: &Policy,
    mode: UriPathMode,
) -> Result<(), SigV4Error> {
    if parsed.presigned && !policy.allow_presigned {
        return Err(SigV4Error::incomplete(
            "Query-string (presigned) authentication is not supported; use the Authorization header.",
        ));
    }
    check_scope(parsed, policy)?;
    check_time(parsed, policy)?;
    check_signed_headers(req, parsed)?;
    let payload_hash = sha256_hex(req.body);
    let mut claimed = req.header_values("x-amz-content-sha256");
    if let Some(v) = claimed.next()
        && (claimed.next().is_some() || crate::encode::trim_ws(v) != payload_hash.as_bytes())
    {
        return Err(SigV4Error::PayloadHashMismatch);
    }
    let mut canonical = Vec::with_capacity(512);
    write_canonical(
        req,
        &parsed.signed_headers,
        parsed.presigned,
        &payload_hash,
        mode,
        &mut canonical,
    )?;
    let sts = write_string_to_sign(&parsed.amz_date, &parsed.credential_scope(), &canonical);
    let computed = key.sign(sts.as_bytes());
    match &parsed.signature {
        Some(given) if computed.ct_eq(given) => Ok(()),
        _ => Err(SigV4Error::SignatureMismatch {
            presigned: parsed.presigned,
        }),
    }
}

fn check_scope(parsed: &Parsed, policy: &Policy) -> Result<(), SigV4Error> {
    let amz_day = parsed.amz_date.get(..8).unwrap_or_default();
    if parsed.date != amz_day {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: crate::error::echo(&parsed.date),
            amz_day: amz_day.to_owned(),
            amz_date: parsed.amz_date.clone(),
        });
    }
    if parsed.service != policy.service {
        return Err(SigV4Error::WrongService {
            expected: policy.service.to_owned(),
        });
    }
    if parsed.terminator != TERMINATOR {
        return Err(SigV4Error::BadTerminator(crate::error::echo(
            &parsed.terminator,
        )));
    }
    Ok(())
}

fn describe_ms(ms: i64) -> String {
    if ms % 60_000 == 0 {
        format!("{} min.", ms / 60_000)
    } else {
        format!("{} sec.", ms / 1000)
    }
}

fn check_time(parsed: &Parsed, policy: &Policy) -> Result<(), SigV4Error> {
    let (now, t, skew) = (
        policy.now_ms,
        parsed.timestamp_ms,
        policy.max_skew_ms.max(0),
    );
    let fmt = format_amz_date;
    if now.saturating_add(skew) < t {
        return Err(SigV4Error::NotYetCurrent(format!(
            "Signature not yet current: {} is still later than {} ({} + {})",
            parsed.amz_date,
            fmt(now.saturating_add(skew)),
            fmt(now),
            describe_ms(skew)
        )));
    }
    let window = match (parsed.presigned, parsed.expires_secs) {
        (false, _) => skew,
        (true, Some(secs)) if (1..=MAX_EXPIRES_SECS).contains(&secs) => {
            // In range, so the conversion and product cannot overflow.
            i64::try_from(secs).unwrap_or(0) * 1000
        }
        (true, _) => {
            return Err(SigV4Error::incomplete(format!(
                "X-Amz-Expires must be from 1 to {MAX_EXPIRES_SECS} seconds."
            )));
        }
    };
    if t.saturating_add(window) < now {
        return Err(SigV4Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - {})",
            parsed.amz_date,
            fmt(now.saturating_sub(window)),
            fmt(now),
            describe_ms(window)
        )));
    }
    Ok(())
}

fn is_lower_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

fn check_signed_headers(req: &Request, parsed: &Parsed) -> Result<(), SigV4Error> {
    let list = &parsed.signed_headers;
    for (i, name) in list.iter().enumerate() {
        if !is_lower_token(name) {
            return Err(SigV4Error::SignedHeaders(format!(
                "SignedHeaders contains '{}', which is not a lowercase header name.",
                crate::error::echo(name)
            )));
        }
        if i > 0 && list[i - 1] >= *name {
            return Err(SigV4Error::SignedHeaders(format!(
                "SignedHeaders must be sorted and unique, but '{name}' follows '{}'.",
                list[i - 1]
            )));
        }
    }
    if list.binary_search_by(|n| n.as_str().cmp("host")).is_err() {
        return Err(SigV4Error::SignedHeaders(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    for name in list {
        if req.header_values(name).next().is_none() {
            return Err(SigV4Error::SignedHeaders(format!(
                "Header '{name}' is listed in SignedHeaders but is not present in the request."
            )));
        }
    }
    for (name, _) in req.headers {
        let is_amz = name
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("x-amz-"));
        if is_amz && !list.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return Err(SigV4Error::SignedHeaders(format!(
                "'{}' must be a 'SignedHeader' in the AWS Authorization.",
                crate::error::echo(&name.to_ascii_lowercase())
            )));
        }
    }
    Ok(())
}
