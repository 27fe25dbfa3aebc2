//! String helpers for the pattern operators: case folding, wildcards, CIDR blocks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Case folding used by every `equals-ignore-case` form: per-character Unicode lowercase.
pub(super) fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// `s` equals the folded operand `p` ignoring case (no allocation).
pub(super) fn eq_ignore_case(s: &str, p: &str) -> bool {
    s.chars().flat_map(char::to_lowercase).eq(p.chars())
}

/// `s` starts with the folded operand `p` ignoring case.
pub(super) fn prefix_ignore_case(s: &str, p: &str) -> bool {
    let mut it = s.chars().flat_map(char::to_lowercase);
    p.chars().all(|c| it.next() == Some(c))
}

/// `s` ends with the folded operand `p` ignoring case.
pub(super) fn suffix_ignore_case(s: &str, p: &str) -> bool {
    let mut it = s.chars().rev().flat_map(|c| c.to_lowercase().rev());
    p.chars().rev().all(|c| it.next() == Some(c))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Byte(u8),
    Star,
}

/// A glob where `*` matches any run of characters (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
}

impl Glob {
    /// EventBridge `wildcard` syntax: `*` is a wildcard, `\*` a literal star, `\\` a
    /// literal backslash; any other escape and consecutive wildcards are refused.
    pub(super) fn parse_escaped(p: &str) -> Result<Glob, String> {
        let mut toks = Vec::with_capacity(p.len());
        let mut bytes = p.bytes();
        while let Some(b) = bytes.next() {
            match b {
                b'*' => {
                    if toks.last() == Some(&Tok::Star) {
                        return Err("consecutive wildcard characters are not allowed".into());
                    }
                    toks.push(Tok::Star);
                }
                b'\\' => match bytes.next() {
                    Some(e @ (b'*' | b'\\')) => toks.push(Tok::Byte(e)),
                    _ => {
                        return Err("a backslash may only escape '*' or another backslash".into());
                    }
                },
                other => toks.push(Tok::Byte(other)),
            }
        }
        Ok(Glob { toks })
    }

    /// Plain glob (used for ARN lists): every `*` is a wildcard, no escapes.
    pub(crate) fn parse_plain(p: &str) -> Glob {
        let mut toks: Vec<Tok> = Vec::with_capacity(p.len());
        for b in p.bytes() {
            let t = if b == b'*' { Tok::Star } else { Tok::Byte(b) };
            if !(t == Tok::Star && toks.last() == Some(&Tok::Star)) {
                toks.push(t);
            }
        }
        Glob { toks }
    }

    /// Whether the whole of `s` matches. Linear backtracking over the last star, so
    /// O(len(s) × len(pattern)) at worst. Byte-wise, which is exact for UTF-8 since a
    /// star can only stop at positions where the next literal byte matches.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let s = s.as_bytes();
        let p = &self.toks;
        let (mut i, mut j) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while i < s.len() {
            match p.get(j) {
                Some(Tok::Byte(b)) if *b == s[i] => {
                    i += 1;
                    j += 1;
                }
                Some(Tok::Star) => {
                    star = Some((j, i));
                    j += 1;
                }
                _ => match star {
                    Some((sj, si)) => {
                        j = sj + 1;
                        i = si + 1;
                        star = Some((sj, si + 1));
                    }
                    None => return false,
                },
            }
        }
        p[j..].iter().all(|t| *t == Tok::Star)
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cidr {
    v6: bool,
    network: u128,
    mask: u128,
}

impl Cidr {
    /// `a.b.c.d/n` (n ≤ 32) or `ipv6/n` (n ≤ 128). Host bits are ignored.
    pub(super) fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, len) = s
            .split_once('/')
            .ok_or_else(|| format!("\"{s}\" is not in address/prefix-length form"))?;
        let bits: u32 = match len.parse() {
            Ok(b) if !len.starts_with('+') => b,
            _ => return Err(format!("bad prefix length \"{len}\"")),
        };
        let (v6, value, width) = if let Ok(a) = addr.parse::<Ipv4Addr>() {
            (false, u128::from(u32::from(a)), 32)
        } else if let Ok(a) = addr.parse::<Ipv6Addr>() {
            (true, u128::from(a), 128)
        } else {
            return Err(format!("\"{addr}\" is not an IPv4 or IPv6 address"));
        };
        if bits > width {
            return Err(format!("prefix length {bits} exceeds {width}"));
        }
        let mask = if bits == 0 {
            0
        } else {
            (u128::MAX << (width - bits)) & width_mask(width)
        };
        Ok(Cidr {
            v6,
            network: value & mask,
            mask,
        })
    }

    /// Whether the text is an address of the same family inside the network.
    pub(super) fn contains_text(&self, s: &str) -> bool {
        match s.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) if !self.v6 => u128::from(u32::from(a)) & self.mask == self.network,
            Ok(IpAddr::V6(a)) if self.v6 => u128::from(a) & self.mask == self.network,
            _ => false,
        }
    }
}

fn width_mask(width: u32) -> u128 {
    if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_cases() {
        let g = |p: &str| Glob::parse_escaped(p).unwrap();
        assert!(g("*/lib/*").matches("/usr/lib/x.so"));
        assert!(g("a*b*c").matches("abc"));
        assert!(g("a*b*c").matches("aXbYbZc"));
        assert!(!g("a*b*c").matches("aXbYbZ"));
        assert!(g("*").matches(""));
        assert!(g(r"a\*b").matches("a*b"));
        assert!(!g(r"a\*b").matches("axb"));
        assert!(g(r"a\\b").matches(r"a\b"));
        assert!(g("héllo*").matches("héllo wörld"));
        assert!(Glob::parse_escaped("a**").is_err());
        assert!(Glob::parse_escaped(r"a\b").is_err());
        assert!(Glob::parse_escaped("a\\").is_err());
        assert!(
            Glob::parse_plain("arn:aws:iam::*:role/**breakglass")
                .matches("arn:aws:iam::111122223333:role/ops/breakglass")
        );
        assert!(
            !Glob::parse_plain("arn:aws:iam::*:role/breakglass")
                .matches("arn:aws:iam::111122223333:role/breakglass2")
        );
    }

    #[test]
    fn ignore_case_helpers() {
        assert!(eq_ignore_case("EventBridge", &fold("eventbridge")));
        assert!(prefix_ignore_case("EVENTBRIDGE", &fold("EventB")));
        assert!(suffix_ignore_case("file.PNG", &fold(".png")));
        assert!(!suffix_ignore_case("png", &fold(".png")));
        assert!(!prefix_ignore_case("ev", &fold("event")));
    }

    #[test]
    fn cidr_cases() {
        let c = Cidr::parse("10.0.0.0/24").unwrap();
        assert!(c.contains_text("10.0.0.255"));
        assert!(!c.contains_text("10.0.1.0"));
        assert!(!c.contains_text("::ffff:10.0.0.1"));
        let c = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c.contains_text("2001:db8:ffff::1"));
        assert!(!c.contains_text("2001:db9::1"));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains_text("8.8.8.8"));
        assert!(Cidr::parse("::/0").unwrap().contains_text("::1"));
        assert!(
            Cidr::parse("10.0.0.1/32")
                .unwrap()
                .contains_text("10.0.0.1")
        );
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/+8",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }
}
