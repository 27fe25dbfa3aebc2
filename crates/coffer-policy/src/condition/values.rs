//! Typed value parsing for condition operators: numbers, dates, IP/CIDR, base64, bools.
//! Every parser returns `None` on malformed input; nothing here panics.

/// Parse a number (integer or decimal, optional exponent); rejects `inf`/`NaN`.
pub(crate) fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `true`/`false`, case-insensitive.
pub(crate) fn boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &str, n: usize) -> Option<i64> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parse an ISO 8601 date / date-time (UTC if no zone) or epoch seconds into
/// nanoseconds since the Unix epoch.
pub(crate) fn date(s: &str) -> Option<i128> {
    let s = s.trim();
    let body = s.strip_prefix('-').unwrap_or(s);
    if !body.is_empty() && body.len() <= 15 && body.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i128 = body.parse().ok()?;
        let secs = if s.starts_with('-') { -secs } else { secs };
        return Some(secs * 1_000_000_000);
    }
    if !s.is_ascii() || s.len() < 10 {
        return None;
    }
    let (d, rest) = s.split_at(10);
    let b = d.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, da) = (
        digits(&d[0..4], 4)?,
        digits(&d[5..7], 2)?,
        digits(&d[8..10], 2)?,
    );
    if !(1..=12).contains(&mo) || da < 1 || da > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, da) as i128;
    let mut nanos = days * 86_400 * 1_000_000_000;
    if rest.is_empty() {
        return Some(nanos);
    }
    let t = rest.strip_prefix(['T', 't', ' '])?;
    // Split off the zone designator.
    let (clock, zone) = match t.find(['Z', 'z', '+', '-']) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, f),
        None => (clock, ""),
    };
    let mut it = hms.split(':');
    let h = digits(it.next()?, 2)?;
    let mi = digits(it.next()?, 2)?;
    let se = match it.next() {
        Some(x) => digits(x, 2)?,
        None => 0,
    };
    if it.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    nanos += ((h * 3600 + mi * 60 + se) as i128) * 1_000_000_000;
    if !frac.is_empty() {
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let f: i128 = frac.parse().ok()?;
        nanos += f * 10i128.pow(9 - frac.len() as u32);
    }
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let z = &z[1..];
            let (zh, zm) = match z.split_once(':') {
                Some((a, b)) => (digits(a, 2)?, digits(b, 2)?),
                None if z.len() == 4 => (digits(&z[..2], 2)?, digits(&z[2..], 2)?),
                None => (digits(z, 2)?, 0),
            };
            if zh > 23 || zm > 59 {
                return None;
            }
            sign * (zh * 3600 + zm * 60)
        }
    };
    Some(nanos - (offset as i128) * 1_000_000_000)
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    pub(crate) v6: bool,
    addr: u128,
    pub(crate) prefix: u8,
}

fn ip(s: &str) -> Option<(bool, u128)> {
    match s.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => Some((false, u32::from(a) as u128)),
        std::net::IpAddr::V6(a) => Some((true, u128::from(a))),
    }
}

fn mask(v6: bool, prefix: u8) -> u128 {
    let bits = if v6 { 128 } else { 32 };
    if prefix == 0 {
        0
    } else {
        let full: u128 = if v6 { u128::MAX } else { u32::MAX as u128 };
        full & (full << (bits - prefix as u32))
    }
}

impl Cidr {
    /// Parse `a.b.c.d/n`, `x::y/n` or a bare address (/32 or /128).
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let (v6, addr) = ip(a)?;
        let max = if v6 { 128 } else { 32 };
        let prefix = match p {
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok()?
            }
            Some(_) => return None,
            None => max,
        };
        if prefix > max {
            return None;
        }
        Some(Cidr {
            v6,
            addr: addr & mask(v6, prefix),
            prefix,
        })
    }

    /// Whether the address `s` (bare IP) is inside this network.
    pub(crate) fn contains(&self, s: &str) -> bool {
        let s = s.trim();
        let a = s.split_once('/').map_or(s, |(a, _)| a);
        match ip(a) {
            Some((v6, addr)) if v6 == self.v6 => addr & mask(v6, self.prefix) == self.addr,
            _ => false,
        }
    }
}

/// Decode standard base64 (padding optional, whitespace not allowed).
pub(crate) fn base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if s.len() % 4 == 1 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number("42"), Some(42.0));
        assert_eq!(number("-1.5"), Some(-1.5));
        assert_eq!(number("1e3"), Some(1000.0));
        assert_eq!(number("inf"), None);
        assert_eq!(number("NaN"), None);
        assert_eq!(number(""), None);
        assert_eq!(number("12a"), None);
    }

    #[test]
    fn dates() {
        let a = date("2026-11-25T12:00:00Z").unwrap();
        assert_eq!(date("2026-11-25T13:00:00+01:00"), Some(a));
        assert_eq!(date("2026-11-25T07:00:00-0500"), Some(a));
        assert_eq!(date("2026-11-25T12:00Z"), Some(a));
        assert_eq!(date("2026-11-25T12:00:00.000Z"), Some(a));
        assert_eq!(date("1970-01-01"), Some(0));
        assert_eq!(date("0"), Some(0));
        assert_eq!(date("1795608000"), Some(a));
        assert!(date("2026-11-25T12:00:00.5Z").unwrap() > a);
        assert_eq!(date("2026-02-30"), None);
        assert_eq!(
            date("2024-02-29"),
            Some(date("2024-03-01").unwrap() - 86_400_000_000_000)
        );
        assert_eq!(date("2026-13-01"), None);
        assert_eq!(date("2026-11-25T25:00:00Z"), None);
        assert_eq!(date("yesterday"), None);
        assert_eq!(date("2026-11-25T12:00:00Q"), None);
        assert_eq!(date("é"), None);
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains("203.0.113.7"));
        assert!(!c.contains("203.0.114.7"));
        assert!(!c.contains("2001:db8::1"));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("1.2.3.4"));
        assert!(Cidr::parse("10.1.2.3").unwrap().contains("10.1.2.3"));
        assert!(!Cidr::parse("10.1.2.3").unwrap().contains("10.1.2.4"));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5"));
        assert!(!v6.contains("2001:db9::5"));
        assert!(Cidr::parse("::/0").unwrap().contains("::1"));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("10.0.0/8"), None);
        assert_eq!(Cidr::parse("10.0.0.0/"), None);
        assert!(!c.contains("garbage"));
    }

    #[test]
    fn base64_and_bool() {
        assert_eq!(base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64("a!"), None);
        assert_eq!(boolean("TRUE"), Some(true));
        assert_eq!(boolean("no"), None);
    }
}
