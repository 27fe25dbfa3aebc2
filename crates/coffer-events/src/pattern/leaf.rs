//! Matchers for one leaf (scalar) value of an event.

use super::text::{Cidr, Glob, eq_ignore_case, fold, prefix_ignore_case, suffix_ignore_case};
use serde_json::{Number, Value};

/// One element of a field's array of match values.
#[derive(Debug, Clone)]
pub(super) enum Matcher {
    /// A string, number, `true`, `false` or `null` given literally.
    Exact(Value),
    Prefix(String),
    /// Operand already case-folded.
    PrefixIgnoreCase(String),
    Suffix(String),
    /// Operand already case-folded.
    SuffixIgnoreCase(String),
    /// Operand already case-folded.
    EqualsIgnoreCase(String),
    Wildcard(Glob),
    AnythingBut(Exclusion),
    Numeric(Range),
    Cidr(Cidr),
    /// Handled by the caller: it looks at the presence of leaves, not at one leaf.
    Exists(bool),
}

/// What an `anything-but` excludes.
#[derive(Debug, Clone)]
pub(super) enum Exclusion {
    /// Strings, or numbers (compared numerically).
    Values(Vec<Value>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    /// Case-folded.
    IgnoreCase(Vec<String>),
    Wildcards(Vec<Glob>),
}

/// A numeric interval; each bound is `(value, inclusive)`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Range {
    pub(super) lower: Option<(f64, bool)>,
    pub(super) upper: Option<(f64, bool)>,
}

impl Range {
    fn contains(&self, x: f64) -> bool {
        let above = match self.lower {
            None => true,
            Some((b, true)) => x >= b,
            Some((b, false)) => x > b,
        };
        let below = match self.upper {
            None => true,
            Some((b, true)) => x <= b,
            Some((b, false)) => x < b,
        };
        above && below
    }
}

impl Matcher {
    /// Whether one scalar leaf matches. `Exists` is never true here.
    pub(super) fn matches(&self, leaf: &Value) -> bool {
        match self {
            Matcher::Exact(want) => scalar_eq(want, leaf),
            Matcher::Prefix(p) => leaf.as_str().is_some_and(|s| s.starts_with(p.as_str())),
            Matcher::PrefixIgnoreCase(p) => leaf.as_str().is_some_and(|s| prefix_ignore_case(s, p)),
            Matcher::Suffix(p) => leaf.as_str().is_some_and(|s| s.ends_with(p.as_str())),
            Matcher::SuffixIgnoreCase(p) => leaf.as_str().is_some_and(|s| suffix_ignore_case(s, p)),
            Matcher::EqualsIgnoreCase(p) => leaf.as_str().is_some_and(|s| eq_ignore_case(s, p)),
            Matcher::Wildcard(g) => leaf.as_str().is_some_and(|s| g.matches(s)),
            Matcher::AnythingBut(ex) => !ex.excludes(leaf),
            Matcher::Numeric(r) => leaf
                .as_number()
                .and_then(Number::as_f64)
                .is_some_and(|x| r.contains(x)),
            Matcher::Cidr(c) => leaf.as_str().is_some_and(|s| c.contains_text(s)),
            Matcher::Exists(_) => false,
        }
    }
}

impl Exclusion {
    fn excludes(&self, leaf: &Value) -> bool {
        match self {
            Exclusion::Values(vs) => vs.iter().any(|v| scalar_eq(v, leaf)),
            Exclusion::Prefixes(ps) => leaf
                .as_str()
                .is_some_and(|s| ps.iter().any(|p| s.starts_with(p.as_str()))),
            Exclusion::Suffixes(ps) => leaf
                .as_str()
                .is_some_and(|s| ps.iter().any(|p| s.ends_with(p.as_str()))),
            Exclusion::IgnoreCase(ps) => leaf
                .as_str()
                .is_some_and(|s| ps.iter().any(|p| eq_ignore_case(s, p))),
            Exclusion::Wildcards(gs) => leaf
                .as_str()
                .is_some_and(|s| gs.iter().any(|g| g.matches(s))),
        }
    }
}

/// Folds an operand once at compile time.
pub(super) fn folded(s: &str) -> String {
    fold(s)
}

/// Equality of two scalars: numbers numerically (`3.0 == 3`), everything else exactly.
pub(crate) fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_eq(x, y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

fn number_eq(a: &Number, b: &Number) -> bool {
    // Integers exactly (account ids and other large integers stay distinct); anything
    // involving a fraction or an exponent as f64.
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
