//! Percent-encoding, path normalization, query and header-value canonicalization.

use std::borrow::Cow;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends `bytes` RFC 3986-encoded (unreserved kept, `/` kept if `keep_slash`).
pub(crate) fn encode_into(out: &mut Vec<u8>, bytes: &[u8], keep_slash: bool) {
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// RFC 3986-encodes `s` as a query key or value (`/` encoded too).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    encode_into(&mut out, s.as_bytes(), false);
    // Only ASCII is ever written, so this never falls back.
    String::from_utf8(out).unwrap_or_default()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes a query component; `+` means space; malformed escapes stay literal.
pub(crate) fn decode_query(raw: &str) -> Cow<'_, [u8]> {
    let b = raw.as_bytes();
    if !b.iter().any(|&c| c == b'%' || c == b'+') {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'+' {
            out.push(b' ');
        } else if c == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            )
        {
            out.push(h << 4 | l);
            i += 2;
        } else {
            out.push(c);
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Splits a raw query string into raw `(key, value)` pairs; empty pieces are skipped.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Canonical query string: decode, re-encode, sort by key then value, join with `&`.
/// A pair whose decoded key is `skip` (e.g. `X-Amz-Signature`) is left out.
pub(crate) fn canonical_query(query: &str, skip: Option<&str>, out: &mut Vec<u8>) {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (k, v) in query_pairs(query) {
        let key = decode_query(k);
        if skip.is_some_and(|s| s.as_bytes() == &*key) {
            continue;
        }
        let mut ek = Vec::with_capacity(key.len());
        encode_into(&mut ek, &key, false);
        let mut ev = Vec::with_capacity(v.len());
        encode_into(&mut ev, &decode_query(v), false);
        pairs.push((ek, ev));
    }
    pairs.sort_unstable();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(v);
    }
}

/// How the canonical URI treats the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UriPathMode {
    /// Remove `.`/`..` segments and empty segments (repeated slashes); every
    /// service but S3 does this. The default.
    #[default]
    Normalize,
    /// Use the path as sent (S3 style; the suite's `*-unnormalized` cases).
    AsIs,
}

/// Canonical URI: (normalized) raw path, each byte but unreserved and `/`
/// percent-encoded. The raw path is already encoded on the wire, so this is
/// the "double encoding" non-S3 services use (`%3D` becomes `%253D`).
pub(crate) fn canonical_uri(path: &str, mode: UriPathMode, out: &mut Vec<u8>) {
    match mode {
        UriPathMode::AsIs => {
            if path.is_empty() {
                out.push(b'/');
            } else {
                encode_into(out, path.as_bytes(), true);
            }
        }
        UriPathMode::Normalize => {
            let mut segs: Vec<&str> = Vec::new();
            for seg in path.split('/') {
                match seg {
                    "" | "." => {}
                    ".." => {
                        segs.pop();
                    }
                    s => segs.push(s),
                }
            }
            for s in &segs {
                out.push(b'/');
                encode_into(out, s.as_bytes(), false);
            }
            if segs.is_empty() || path.ends_with('/') {
                out.push(b'/');
            }
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Appends a header value trimmed, with each inner whitespace run (folded
/// lines included) collapsed to one space.
pub(crate) fn canonical_header_value(value: &[u8], out: &mut Vec<u8>) {
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        if is_ws(b) {
            pending_space = started;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b);
            started = true;
        }
    }
}

/// Trims ASCII whitespace from both ends.
pub(crate) fn trim_ws(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| !is_ws(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|&b| !is_ws(b)).map_or(start, |e| e + 1);
    &v[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(p: &str, mode: UriPathMode) -> String {
        let mut out = Vec::new();
        canonical_uri(p, mode, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn normalizes_paths() {
        let n = UriPathMode::Normalize;
        assert_eq!(uri("", n), "/");
        assert_eq!(uri("/", n), "/");
        assert_eq!(uri("//", n), "/");
        assert_eq!(uri("/./", n), "/");
        assert_eq!(uri("/..", n), "/");
        assert_eq!(uri("/a/b/../c", n), "/a/c");
        assert_eq!(uri("//example//", n), "/example/");
        assert_eq!(uri("/a b/%3D@", n), "/a%20b/%253D%40");
        assert_eq!(uri("//x", UriPathMode::AsIs), "//x");
        assert_eq!(uri("", UriPathMode::AsIs), "/");
    }

    #[test]
    fn decodes_and_canonicalizes_queries() {
        assert_eq!(&*decode_query("a%2Fb+c%zz%4"), b"a/b c%zz%4");
        let mut out = Vec::new();
        canonical_query(
            "b=2&a=%7e&&a=1&c&X-Amz-Signature=x",
            Some("X-Amz-Signature"),
            &mut out,
        );
        assert_eq!(String::from_utf8(out).unwrap(), "a=1&a=~&b=2&c=");
    }

    #[test]
    fn trims_header_values() {
        let mut out = Vec::new();
        canonical_header_value(b"  a \t b\n   c  ", &mut out);
        assert_eq!(out, b"a b c");
        assert_eq!(trim_ws(b" \t x y \r"), b"x y");
        assert_eq!(trim_ws(b"   "), b"");
    }
}
