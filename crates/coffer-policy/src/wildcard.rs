//! Compiled wildcard patterns: `*` matches any sequence, `?` exactly one character.
//! Patterns may contain policy variables whose values are matched literally.

use crate::variables::{Part, Var, Vars};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(Box<str>),
    One,
    Star,
    /// A variable and its index among the pattern's variables.
    Var(Var, usize),
}

/// Variables resolved once per match (the first few; later ones are looked up per visit).
const VAR_CACHE: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `*` alone.
    Any,
    /// No wildcard, no variable.
    Exact(Box<str>),
    /// General pattern.
    Glob(Box<[Seg]>),
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    kind: Kind,
    /// ASCII case-insensitive (literals stored lowercase).
    ci: bool,
}

fn push_text(segs: &mut Vec<Seg>, lit: &mut String, text: &str, ci: bool) {
    for c in text.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    segs.push(Seg::Lit(std::mem::take(lit).into()));
                }
                if c == '?' {
                    segs.push(Seg::One);
                } else if segs.last() != Some(&Seg::Star) {
                    segs.push(Seg::Star);
                }
            }
            _ if ci => lit.push(c.to_ascii_lowercase()),
            _ => lit.push(c),
        }
    }
}

impl Pattern {
    /// Compile plain text (no variables).
    pub(crate) fn new(text: &str, ci: bool) -> Pattern {
        Pattern::from_parts(&[Part::Text(text.into())], ci)
    }

    /// Compile a template; variable values and escapes are literal.
    pub(crate) fn from_parts(parts: &[Part], ci: bool) -> Pattern {
        let mut segs = Vec::new();
        let mut lit = String::new();
        for p in parts {
            match p {
                Part::Text(t) => push_text(&mut segs, &mut lit, t, ci),
                Part::Esc(c) if ci => lit.push(c.to_ascii_lowercase()),
                Part::Esc(c) => lit.push(*c),
                Part::Var(v) => {
                    if !lit.is_empty() {
                        segs.push(Seg::Lit(std::mem::take(&mut lit).into()));
                    }
                    let idx = segs.iter().filter(|s| matches!(s, Seg::Var(..))).count();
                    segs.push(Seg::Var(v.clone(), idx));
                }
            }
        }
        if !lit.is_empty() {
            segs.push(Seg::Lit(lit.into()));
        }
        let kind = match segs.as_slice() {
            [Seg::Star] => Kind::Any,
            [] => Kind::Exact("".into()),
            [Seg::Lit(l)] => Kind::Exact(l.clone()),
            _ => Kind::Glob(segs.into()),
        };
        Pattern { kind, ci }
    }

    /// The literal text if the pattern has no wildcard and no variable.
    pub(crate) fn exact(&self) -> Option<&str> {
        match &self.kind {
            Kind::Exact(l) => Some(l),
            _ => None,
        }
    }

    /// Whether the pattern has variables.
    pub(crate) fn has_vars(&self) -> bool {
        matches!(&self.kind, Kind::Glob(s) if s.iter().any(|s| matches!(s, Seg::Var(..))))
    }

    /// Match `s`. `None` when a variable cannot be resolved.
    pub(crate) fn matches(&self, s: &str, vars: &dyn Vars) -> Option<bool> {
        match &self.kind {
            Kind::Any => Some(true),
            Kind::Exact(l) => Some(eq(s.as_bytes(), l.as_bytes(), self.ci)),
            Kind::Glob(segs) => {
                let mut cache: [&str; VAR_CACHE] = [""; VAR_CACHE];
                for seg in segs.iter() {
                    if let Seg::Var(v, i) = seg {
                        let val = v.resolve(vars)?;
                        if *i < VAR_CACHE {
                            cache[*i] = val;
                        }
                    }
                }
                Some(glob(segs, s, self.ci, vars, &cache))
            }
        }
    }

    /// Match a pattern without variables (variables never resolve).
    pub(crate) fn matches_plain(&self, s: &str) -> bool {
        self.matches(s, &NoVars).unwrap_or(false)
    }
}

/// A resolver with no values.
pub(crate) struct NoVars;
impl Vars for NoVars {
    fn var(&self, _: &str) -> Option<&str> {
        None
    }
}

fn eq(a: &[u8], b: &[u8], ci: bool) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn starts_at(s: &[u8], at: usize, lit: &[u8], ci: bool) -> bool {
    s.len() - at >= lit.len() && eq(&s[at..at + lit.len()], lit, ci)
}

/// Offset of the first occurrence of `lit` in `s` (ASCII case-insensitively if `ci`).
fn find(s: &str, lit: &str, ci: bool) -> Option<usize> {
    // Needles are short (ARN fragments): a first-byte scan beats a two-way searcher's setup.
    let (b, l) = (s.as_bytes(), lit.as_bytes());
    let first = *l.first()?;
    if ci {
        (0..b.len()).find(|&i| b[i].eq_ignore_ascii_case(&first) && starts_at(b, i, l, true))
    } else {
        let mut from = 0;
        while let Some(off) = b[from..].iter().position(|&c| c == first) {
            if starts_at(b, from + off, l, false) {
                return Some(from + off);
            }
            from += off + 1;
        }
        None
    }
}

fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn var_value<'a>(
    v: &'a Var,
    i: usize,
    vars: &'a dyn Vars,
    cache: &[&'a str; VAR_CACHE],
) -> &'a str {
    if i < VAR_CACHE {
        cache[i]
    } else {
        v.resolve(vars).unwrap_or("")
    }
}

fn glob<'a>(
    segs: &'a [Seg],
    text: &str,
    ci: bool,
    vars: &'a dyn Vars,
    cache: &[&'a str; VAR_CACHE],
) -> bool {
    let s = text.as_bytes();
    let (mut pi, mut si) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    loop {
        if pi < segs.len() {
            let advanced = match &segs[pi] {
                Seg::Star if pi + 1 == segs.len() => return true,
                Seg::Star => {
                    back = Some((pi + 1, si));
                    pi += 1;
                    continue;
                }
                Seg::One if si < s.len() => {
                    si = (si + char_len(s[si])).min(s.len());
                    true
                }
                Seg::One => false,
                Seg::Lit(l) => {
                    let ok = starts_at(s, si, l.as_bytes(), ci);
                    if ok {
                        si += l.len();
                    }
                    ok
                }
                Seg::Var(v, i) => {
                    let val = var_value(v, *i, vars, cache).as_bytes();
                    let ok = starts_at(s, si, val, ci);
                    if ok {
                        si += val.len();
                    }
                    ok
                }
            };
            if advanced {
                pi += 1;
                continue;
            }
        } else if si == s.len() {
            return true;
        }
        // Backtrack: let the latest `*` absorb one more character, jumping straight to the
        // next place where the literal after it can start.
        match back {
            Some((bp, bs)) if bs < s.len() => {
                let mut ns = (bs + char_len(s[bs])).min(s.len());
                let next_lit = match segs.get(bp) {
                    Some(Seg::Lit(l)) => Some(&**l),
                    Some(Seg::Var(v, i)) => Some(var_value(v, *i, vars, cache)),
                    _ => None,
                };
                if let Some(l) = next_lit.filter(|l| !l.is_empty()) {
                    match text.get(ns..).and_then(|rest| find(rest, l, ci)) {
                        Some(off) => ns += off,
                        None => return false,
                    }
                }
                back = Some((bp, ns));
                pi = bp;
                si = ns;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::parse_template;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p, false).matches_plain(s)
    }

    #[test]
    fn basics() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abcd"));
        assert!(!m("abc", "ABC"));
        assert!(m("a*c", "abbbc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "acb"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b*", "xxbxxaxx"));
        assert!(m("a**b", "ab"));
        assert!(m("??", "éé"));
        assert!(!m("???", "éé"));
        assert!(m("arn:*:secret:app/*", "arn:x:secret:app/db"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("*x", "xxxx"));
    }

    #[test]
    fn case_insensitive() {
        let p = Pattern::new("SecretsManager:Get*", true);
        assert!(p.matches_plain("secretsmanager:GetSecretValue"));
        assert!(p.matches_plain("SECRETSMANAGER:GETSECRETVALUE"));
        assert!(!p.matches_plain("secretsmanager:PutSecretValue"));
        assert!(Pattern::new("a:B", true).matches_plain("A:b"));
    }

    struct One(&'static str);
    impl Vars for One {
        fn var(&self, k: &str) -> Option<&str> {
            (k == "aws:username").then_some(self.0)
        }
    }

    #[test]
    fn variable_values_are_literal() {
        let parts = parse_template("home/${aws:username}/*").unwrap();
        let p = Pattern::from_parts(&parts, false);
        assert!(p.has_vars());
        assert_eq!(p.matches("home/bob/x", &One("bob")), Some(true));
        assert_eq!(p.matches("home/bob/x", &One("b*")), Some(false));
        assert_eq!(p.matches("home/b*/x", &One("b*")), Some(true));
        assert_eq!(p.matches("home/b*/x", &NoVars), None);
        let esc = Pattern::from_parts(&parse_template("a${*}b").unwrap(), false);
        assert_eq!(esc.matches("a*b", &NoVars), Some(true));
        assert_eq!(esc.matches("axb", &NoVars), Some(false));
    }
}
