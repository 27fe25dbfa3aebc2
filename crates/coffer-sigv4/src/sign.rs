//! Client-side signing: header form ([`sign`]) and presigned query form ([`presign`]).

use crate::canonical::{sha256_hex, write_canonical, write_string_to_sign};
use crate::encode::{decode_query, encode_component, query_pairs};
use crate::parse::{
    Q_ALGORITHM, Q_CREDENTIAL, Q_DATE, Q_EXPIRES, Q_SIGNATURE, Q_SIGNED_HEADERS, Q_TOKEN,
};
use crate::{
    ALGORITHM, MAX_EXPIRES_SECS, Request, SigV4Error, TERMINATOR, UriPathMode, derive_signing_key,
    parse_amz_date,
};

/// Credentials, scope and time for signing.
#[derive(Clone, Copy, Default)]
pub struct SigningParams<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token, sent as `X-Amz-Security-Token` and signed.
    pub session_token: Option<&'a str>,
    /// Region, e.g. `us-east-1`.
    pub region: &'a str,
    /// Service, e.g. `secretsmanager`.
    pub service: &'a str,
    /// Signing time, `YYYYMMDDTHHMMSSZ` (see [`crate::format_amz_date`]).
    pub amz_date: &'a str,
    /// Further request headers to sign (beyond `host`, `x-amz-*` and `content-type`).
    pub extra_signed_headers: &'a [&'a str],
    /// Path handling; the default, `Normalize`, is what every service but S3 expects.
    pub path_mode: UriPathMode,
}

impl std::fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("amz_date", &self.amz_date)
            .finish_non_exhaustive()
    }
}

/// Headers to add to a request signed by [`sign`].
#[derive(Clone)]
pub struct SignedHeaders {
    /// `Authorization` header value.
    pub authorization: String,
    /// `X-Amz-Date` header value.
    pub x_amz_date: String,
    /// `X-Amz-Security-Token` header value, if a session token was given.
    pub x_amz_security_token: Option<String>,
    /// The signed header list, e.g. `content-type;host;x-amz-date;x-amz-target`.
    pub signed_headers: String,
    /// The hex signature.
    pub signature: String,
}

impl SignedHeaders {
    /// The `(name, value)` headers to add to the request, in order.
    pub fn headers(&self) -> Vec<(&'static str, &str)> {
        let mut h = vec![("x-amz-date", self.x_amz_date.as_str())];
        if let Some(t) = &self.x_amz_security_token {
            h.push(("x-amz-security-token", t.as_str()));
        }
        h.push(("authorization", self.authorization.as_str()));
        h
    }
}

impl std::fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("authorization", &self.authorization)
            .field("x_amz_date", &self.x_amz_date)
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

fn err(msg: impl Into<String>) -> SigV4Error {
    SigV4Error::Sign(msg.into())
}

/// Sorted, unique, lowercase names to sign: `host`, `x-amz-*`, `content-type`, extras.
fn names_to_sign(headers: &[(&str, &[u8])], extra: &[&str]) -> Result<Vec<String>, SigV4Error> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| n == "host" || n == "content-type" || n.starts_with("x-amz-"))
        .collect();
    for e in extra {
        let e = e.to_ascii_lowercase();
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&e)) {
            return Err(err(format!(
                "extra signed header '{e}' is not in the request"
            )));
        }
        names.push(e);
    }
    if !names.iter().any(|n| n == "host") {
        return Err(err("the request has no 'host' header"));
    }
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

fn check_params(p: &SigningParams) -> Result<(), SigV4Error> {
    if parse_amz_date(p.amz_date).is_none() {
        return Err(err("amz_date is not YYYYMMDDTHHMMSSZ"));
    }
    for (what, v) in [
        ("access_key_id", p.access_key_id),
        ("region", p.region),
        ("service", p.service),
    ] {
        if v.is_empty() || v.contains('/') {
            return Err(err(format!("{what} must be non-empty and contain no '/'")));
        }
    }
    Ok(())
}

fn scope(p: &SigningParams) -> String {
    format!(
        "{}/{}/{}/{TERMINATOR}",
        &p.amz_date[..8],
        p.region,
        p.service
    )
}

/// Computes the hex signature of `req` over `names`.
fn signature(
    req: &Request,
    names: &[String],
    presigned: bool,
    p: &SigningParams,
) -> Result<String, SigV4Error> {
    let mut canonical = Vec::with_capacity(512);
    write_canonical(
        req,
        names,
        presigned,
        &sha256_hex(req.body),
        p.path_mode,
        &mut canonical,
    )?;
    let sts = write_string_to_sign(p.amz_date, &scope(p), &canonical);
    let key = derive_signing_key(p.secret_access_key, &p.amz_date[..8], p.region, p.service);
    Ok(key.sign(sts.as_bytes()).to_hex())
}

/// Signs `req` in the header form.
///
/// `req.headers` must contain `host` and must not already contain
/// `authorization`, `x-amz-date` or `x-amz-security-token`. Signs `host`,
/// `x-amz-date`, every `x-amz-*` header, `content-type` if present, and
/// `params.extra_signed_headers`. Adds no `x-amz-content-sha256`.
/// Send the request with [`SignedHeaders::headers`] added.
pub fn sign(req: &Request, params: &SigningParams) -> Result<SignedHeaders, SigV4Error> {
    check_params(params)?;
    for n in ["authorization", "x-amz-date", "x-amz-security-token"] {
        if req.header_values(n).next().is_some() {
            return Err(err(format!("the request already has an '{n}' header")));
        }
    }
    let mut headers: Vec<(&str, &[u8])> = req.headers.to_vec();
    headers.push(("x-amz-date", params.amz_date.as_bytes()));
    if let Some(t) = params.session_token {
        headers.push(("x-amz-security-token", t.as_bytes()));
    }
    let names = names_to_sign(&headers, params.extra_signed_headers)?;
    let full = Request {
        headers: &headers,
        ..*req
    };
    let sig = signature(&full, &names, false, params)?;
    let signed_headers = names.join(";");
    Ok(SignedHeaders {
        authorization: format!(
            "{ALGORITHM} Credential={}/{}, SignedHeaders={signed_headers}, Signature={sig}",
            params.access_key_id,
            scope(params)
        ),
        x_amz_date: params.amz_date.to_owned(),
        x_amz_security_token: params.session_token.map(str::to_owned),
        signed_headers,
        signature: sig,
    })
}

/// Presigns `req` in the query form; returns the new full query string
/// (existing query, then the `X-Amz-*` parameters, `X-Amz-Signature` last).
///
/// Signs `host`, every `x-amz-*` header, `content-type` if present, and
/// `params.extra_signed_headers`; the session token goes in the query.
pub fn presign(
    req: &Request,
    params: &SigningParams,
    expires_secs: u64,
) -> Result<String, SigV4Error> {
    check_params(params)?;
    if !(1..=MAX_EXPIRES_SECS).contains(&expires_secs) {
        return Err(err(format!("expires_secs must be 1..={MAX_EXPIRES_SECS}")));
    }
    if req.header_values("authorization").next().is_some() {
        return Err(err("the request already has an 'authorization' header"));
    }
    let taken = [
        Q_ALGORITHM,
        Q_CREDENTIAL,
        Q_DATE,
        Q_EXPIRES,
        Q_SIGNED_HEADERS,
        Q_SIGNATURE,
        Q_TOKEN,
    ];
    if query_pairs(req.query).any(|(k, _)| taken.iter().any(|t| t.as_bytes() == &*decode_query(k)))
    {
        return Err(err(
            "the query already has X-Amz-* authentication parameters",
        ));
    }
    let names = names_to_sign(req.headers, params.extra_signed_headers)?;
    let mut query = req.query.to_owned();
    let credential = format!("{}/{}", params.access_key_id, scope(params));
    let expires = expires_secs.to_string();
    let signed = names.join(";");
    let mut add = |k: &str, v: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(k);
        query.push('=');
        query.push_str(&encode_component(v));
    };
    add(Q_ALGORITHM, ALGORITHM);
    add(Q_CREDENTIAL, &credential);
    add(Q_DATE, params.amz_date);
    add(Q_SIGNED_HEADERS, &signed);
    add(Q_EXPIRES, &expires);
    if let Some(t) = params.session_token {
        add(Q_TOKEN, t);
    }
    let sig = signature(
        &Request {
            query: &query,
            ..*req
        },
        &names,
        true,
        params,
    )?;
    query.push_str(&format!("&{Q_SIGNATURE}={sig}"));
    Ok(query)
}
