//! Webhook signatures: `X-Coffer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<body>"`, keyed with the target's secret.

use ring::hmac;

/// Name of the HTTP header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Coffer-Signature";

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The header is not `t=<integer>,v1=<hex>[,v1=<hex>…]`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is further than the tolerance from now (replay protection).
    #[error("signature timestamp {t} is more than {tolerance_secs} s from now ({now})")]
    OutsideTolerance {
        /// The signed timestamp.
        t: i64,
        /// The verifier's clock.
        now: i64,
        /// The accepted difference.
        tolerance_secs: i64,
    },
    /// No `v1` value is the HMAC of this body and timestamp under this secret.
    #[error("signature does not match")]
    Mismatch,
}

fn key(secret: &[u8]) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret)
}

fn message(t: i64, body: &[u8]) -> Vec<u8> {
    let t = t.to_string();
    let mut m = Vec::with_capacity(t.len() + 1 + body.len());
    m.extend_from_slice(t.as_bytes());
    m.push(b'.');
    m.extend_from_slice(body);
    m
}

/// The header value for `body` signed at `t` (unix seconds).
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let tag = hmac::sign(&key(secret), &message(t, body));
    format!("t={t},v1={}", hex::encode(tag.as_ref()))
}

/// Checks a header value: well formed, `t` within `tolerance_secs` of `now` (either
/// direction), and one of its `v1` values (several are allowed, for key rotation) the
/// HMAC of `"<t>.<body>"`, compared in constant time.
pub fn verify(
    secret: &[u8],
    header_value: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignError> {
    let mut t: Option<i64> = None;
    let mut tags: Vec<Vec<u8>> = Vec::new();
    for part in header_value.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(SignError::Malformed)?;
        match k {
            "t" => {
                if t.is_some() || v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(SignError::Malformed);
                }
                t = Some(v.parse().map_err(|_| SignError::Malformed)?);
            }
            "v1" => tags.push(hex::decode(v).map_err(|_| SignError::Malformed)?),
            _ => {} // unknown schemes are ignored, as newer senders may add them
        }
    }
    let t = t.ok_or(SignError::Malformed)?;
    if tags.is_empty() {
        return Err(SignError::Malformed);
    }
    if now.abs_diff(t) > tolerance_secs.unsigned_abs() {
        return Err(SignError::OutsideTolerance {
            t,
            now,
            tolerance_secs,
        });
    }
    let key = key(secret);
    let msg = message(t, body);
    if tags.iter().any(|tag| hmac::verify(&key, &msg, tag).is_ok()) {
        Ok(())
    } else {
        Err(SignError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_key";
    const BODY: &[u8] = br#"{"version":"0","detail-type":"Secret Created"}"#;
    const T: i64 = 1_795_789_219;

    #[test]
    fn known_value() {
        // Computed independently: ring's HMAC over the concatenated message.
        let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, SECRET));
        ctx.update(b"1795789219.");
        ctx.update(BODY);
        let expected = hex::encode(ctx.sign().as_ref());
        assert_eq!(sign(SECRET, T, BODY), format!("t=1795789219,v1={expected}"));
        // RFC 4231 test case 2 pins the primitive itself ("Jefe", "what do ya want for nothing?").
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, b"Jefe"),
            b"what do ya want for nothing?",
        );
        assert_eq!(
            hex::encode(tag.as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // End to end against a message built by hand.
        let header = sign(b"Jefe", 0, b"x");
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, b"Jefe"), b"0.x");
        assert_eq!(header, format!("t=0,v1={}", hex::encode(tag.as_ref())));
    }

    #[test]
    fn round_trip_and_rejections() {
        let h = sign(SECRET, T, BODY);
        assert_eq!(verify(SECRET, &h, BODY, T, 300), Ok(()));
        assert_eq!(verify(SECRET, &h, BODY, T + 300, 300), Ok(()));
        assert_eq!(verify(SECRET, &h, BODY, T - 300, 300), Ok(()));
        assert_eq!(
            verify(SECRET, &h, b"{\"version\":\"1\"}", T, 300),
            Err(SignError::Mismatch)
        );
        assert_eq!(verify(b"other", &h, BODY, T, 300), Err(SignError::Mismatch));
        assert!(matches!(
            verify(SECRET, &h, BODY, T + 301, 300),
            Err(SignError::OutsideTolerance { .. })
        ));
        assert!(matches!(
            verify(SECRET, &h, BODY, T - 301, 300),
            Err(SignError::OutsideTolerance { .. })
        ));
        // Replaying the signature with a fresh timestamp does not verify.
        let forged = h.replace("t=1795789219", "t=1795789500");
        assert_eq!(
            verify(SECRET, &forged, BODY, T + 281, 300),
            Err(SignError::Mismatch)
        );
        // Several v1 values: any one may match (secret rotation); spaces tolerated.
        let v1 = h.split_once("v1=").unwrap().1;
        let multi = format!("t={T}, v1={}, v1={v1}, v0=ignored", "00".repeat(32));
        assert_eq!(verify(SECRET, &multi, BODY, T, 300), Ok(()));
    }

    #[test]
    fn malformed_headers() {
        let v1 = "ab".repeat(32);
        for bad in [
            String::new(),
            "garbage".into(),
            format!("v1={v1}"),
            format!("t=,v1={v1}"),
            format!("t=-5,v1={v1}"),
            format!("t=12x,v1={v1}"),
            format!("t=1,t=1,v1={v1}"),
            "t=1".into(),
            "t=1,v1=zz".into(),
            format!("t=99999999999999999999,v1={v1}"),
        ] {
            assert_eq!(
                verify(SECRET, &bad, BODY, 1, 300),
                Err(SignError::Malformed),
                "{bad}"
            );
        }
    }
}
