//! Parsing the claims of a signed request (header or presigned form), no secret needed.

use crate::encode::{decode_query, query_pairs, trim_ws};
use crate::error::echo;
use crate::key::Signature;
use crate::{
    ALGORITHM, MAX_AUTHORIZATION_LEN, MAX_EXPIRES_SECS, MAX_QUERY_AUTH_PARAM_LEN,
    MAX_SESSION_TOKEN_LEN, MAX_SIGNED_HEADERS, Request, SigV4Error, parse_amz_date,
};

pub(crate) const Q_ALGORITHM: &str = "X-Amz-Algorithm";
pub(crate) const Q_CREDENTIAL: &str = "X-Amz-Credential";
pub(crate) const Q_DATE: &str = "X-Amz-Date";
pub(crate) const Q_EXPIRES: &str = "X-Amz-Expires";
pub(crate) const Q_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
pub(crate) const Q_SIGNATURE: &str = "X-Amz-Signature";
pub(crate) const Q_TOKEN: &str = "X-Amz-Security-Token";
const Q_PARAMS: [&str; 7] = [
    Q_ALGORITHM,
    Q_CREDENTIAL,
    Q_DATE,
    Q_EXPIRES,
    Q_SIGNED_HEADERS,
    Q_SIGNATURE,
    Q_TOKEN,
];

/// Parsed credentials and claims of a signed request, before any secret is known.
#[derive(Clone)]
pub struct Parsed {
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// Scope date, `YYYYMMDD` (as claimed; [`crate::verify`] checks it).
    pub date: String,
    /// Scope region (not checked here: the caller checks it).
    pub region: String,
    /// Scope service (as claimed; [`crate::verify`] checks it).
    pub service: String,
    /// `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// `amz_date` as Unix milliseconds.
    pub timestamp_ms: i64,
    /// Signed header names, as listed (rules are checked by [`crate::verify`]).
    pub signed_headers: Vec<String>,
    /// `X-Amz-Security-Token`, from the header or (presigned) the query; always signed
    /// once [`crate::verify`] passes.
    pub session_token: Option<String>,
    /// Whether the presigned (query-string) form was used.
    pub presigned: bool,
    /// `X-Amz-Expires` in seconds; presigned only.
    pub expires_secs: Option<u64>,
    pub(crate) terminator: String,
    pub(crate) signature: Option<Signature>,
}

impl Parsed {
    /// The credential-scope terminator as sent (valid: `aws4_request`).
    pub fn terminator(&self) -> &str {
        &self.terminator
    }

    /// `date/region/service/terminator`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.credential_scope())
            .field("amz_date", &self.amz_date)
            .field("signed_headers", &self.signed_headers)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("presigned", &self.presigned)
            .field("expires_secs", &self.expires_secs)
            .finish_non_exhaustive()
    }
}

/// Parses a request's SigV4 claims: the `Authorization` header form or the
/// presigned query form (`X-Amz-Algorithm`... in the query); exactly one must be present.
pub fn parse(req: &Request) -> Result<Parsed, SigV4Error> {
    let mut auth = req.header_values("authorization");
    let first = auth.next();
    let has_query = query_pairs(req.query).any(|(k, _)| {
        let k = decode_query(k);
        [Q_ALGORITHM, Q_CREDENTIAL, Q_SIGNATURE]
            .iter()
            .any(|p| p.as_bytes() == &*k)
    });
    match (first, has_query) {
        (None, false) => Err(SigV4Error::MissingAuthenticationToken),
        (Some(_), true) => Err(SigV4Error::incomplete(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )),
        (Some(_), false) if auth.next().is_some() => Err(SigV4Error::incomplete(
            "Multiple 'Authorization' headers are not allowed.",
        )),
        (Some(value), false) => parse_header_form(req, value),
        (None, true) => parse_query_form(req),
    }
}

/// The single value of header `name`, trimmed; `Ok(None)` if absent.
fn single_header<'a>(req: &Request<'a>, name: &str) -> Result<Option<&'a str>, SigV4Error> {
    let mut it = req.header_values(name);
    let Some(v) = it.next() else { return Ok(None) };
    if it.next().is_some() {
        return Err(SigV4Error::incomplete(format!(
            "Multiple '{name}' headers are not allowed."
        )));
    }
    std::str::from_utf8(trim_ws(v))
        .map(Some)
        .map_err(|_| SigV4Error::incomplete(format!("The '{name}' header is not valid UTF-8.")))
}

fn parse_header_form(req: &Request, value: &[u8]) -> Result<Parsed, SigV4Error> {
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(SigV4Error::incomplete(format!(
            "Authorization header is too long (more than {MAX_AUTHORIZATION_LEN} bytes)."
        )));
    }
    let value = std::str::from_utf8(trim_ws(value))
        .map_err(|_| SigV4Error::incomplete("Authorization header is not valid UTF-8."))?;
    let (alg, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    if alg != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm(echo(alg)));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(SigV4Error::incomplete(format!(
                "'{}' not a valid key=value pair (missing equal-sign) in Authorization header.",
                echo(part)
            )));
        };
        let slot = match k.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(v.trim()).is_some() {
            return Err(SigV4Error::incomplete(format!(
                "Authorization header has more than one '{}' parameter.",
                k.trim()
            )));
        }
    }
    let amz_date = single_header(req, "x-amz-date")?;
    let mut missing = String::new();
    for (name, present) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed.is_some()),
    ] {
        if !present {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if amz_date.is_none() {
        missing.push_str("Authorization header requires existence of a 'X-Amz-Date' header. ");
    }
    let (Some(credential), Some(signed), Some(signature), Some(amz_date)) =
        (credential, signed, signature, amz_date)
    else {
        return Err(SigV4Error::incomplete(missing.trim_end()));
    };
    let token = single_header(req, "x-amz-security-token")?;
    build(credential, signed, signature, amz_date, token, None)
}

fn parse_query_form(req: &Request) -> Result<Parsed, SigV4Error> {
    let mut vals: [Option<String>; 7] = Default::default();
    for (k, v) in query_pairs(req.query) {
        let k = decode_query(k);
        let Some(i) = Q_PARAMS.iter().position(|p| p.as_bytes() == &*k) else {
            continue;
        };
        let name = Q_PARAMS[i];
        let v = decode_query(v);
        let max = if name == Q_TOKEN {
            MAX_SESSION_TOKEN_LEN
        } else {
            MAX_QUERY_AUTH_PARAM_LEN
        };
        if v.len() > max {
            return Err(SigV4Error::incomplete(format!(
                "Query-string parameter '{name}' is too long."
            )));
        }
        let v = String::from_utf8(v.into_owned()).map_err(|_| {
            SigV4Error::incomplete(format!(
                "Query-string parameter '{name}' is not valid UTF-8."
            ))
        })?;
        if vals[i].replace(v).is_some() {
            return Err(SigV4Error::incomplete(format!(
                "Query-string parameter '{name}' appears more than once."
            )));
        }
    }
    let [alg, credential, date, expires, signed, signature, token] = vals;
    if let Some(alg) = &alg
        && alg != ALGORITHM
    {
        return Err(SigV4Error::UnsupportedAlgorithm(echo(alg)));
    }
    let (Some(_), Some(credential), Some(date), Some(expires), Some(signed), Some(signature)) =
        (&alg, &credential, &date, &expires, &signed, &signature)
    else {
        let present = [&alg, &credential, &date, &signed, &signature, &expires];
        let names = [
            Q_ALGORITHM,
            Q_CREDENTIAL,
            Q_DATE,
            Q_SIGNED_HEADERS,
            Q_SIGNATURE,
            Q_EXPIRES,
        ];
        let msg: Vec<String> = names
            .iter()
            .zip(present)
            .filter(|(_, p)| p.is_none())
            .map(|(n, _)| {
                format!(
                    "AWS query-string parameters must include '{n}'. Re-examine the query-string parameters."
                )
            })
            .collect();
        return Err(SigV4Error::incomplete(msg.join(" ")));
    };
    let secs = parse_expires(expires)?;
    let token = match (token, single_header(req, "x-amz-security-token")?) {
        (Some(_), Some(_)) => {
            return Err(SigV4Error::incomplete(
                "X-Amz-Security-Token must not be both a query-string parameter and a header.",
            ));
        }
        (q, h) => q.or(h.map(str::to_owned)),
    };
    build(
        credential,
        signed,
        signature,
        date,
        token.as_deref(),
        Some(secs),
    )
}

fn parse_expires(s: &str) -> Result<u64, SigV4Error> {
    s.parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_EXPIRES_SECS).contains(n) && s.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            SigV4Error::incomplete(format!(
                "X-Amz-Expires must be a whole number of seconds from 1 to {MAX_EXPIRES_SECS}, not '{}'.",
                echo(s)
            ))
        })
}

fn build(
    credential: &str,
    signed: &str,
    signature: &str,
    amz_date: &str,
    token: Option<&str>,
    expires_secs: Option<u64>,
) -> Result<Parsed, SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = parts[..] else {
        return Err(SigV4Error::incomplete(format!(
            "Credential should have 5 slash-separated parts (access key id, date, region, service, aws4_request), not {}.",
            parts.len()
        )));
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err(SigV4Error::incomplete(
            "Credential should not have an empty slash-separated part.",
        ));
    }
    let timestamp_ms = parse_amz_date(amz_date).ok_or_else(|| {
        SigV4Error::incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            echo(amz_date)
        ))
    })?;
    let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
    if signed_headers.len() > MAX_SIGNED_HEADERS {
        return Err(SigV4Error::incomplete(format!(
            "Too many signed headers: {} (at most {MAX_SIGNED_HEADERS}).",
            signed_headers.len()
        )));
    }
    if token.is_some_and(|t| t.len() > MAX_SESSION_TOKEN_LEN) {
        return Err(SigV4Error::incomplete("X-Amz-Security-Token is too long."));
    }
    Ok(Parsed {
        access_key_id: akid.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        amz_date: amz_date.to_owned(),
        timestamp_ms,
        signed_headers,
        session_token: token.map(str::to_owned),
        presigned: expires_secs.is_some(),
        expires_secs,
        terminator: terminator.to_owned(),
        signature: Signature::from_hex(signature),
    })
}
