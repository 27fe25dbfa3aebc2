//! Compiled condition values: typed forms precomputed at parse time, resolved per request.

use super::{Cidr, Family, values};
use crate::context::RequestContext;
use crate::variables::{self, Part};
use crate::wildcard::Pattern;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Typed {
    /// Not precomputed (string families, or value has variables).
    Dynamic,
    /// Malformed for the operator's type.
    Bad,
    Num(f64),
    Date(i128),
    Ip(Cidr),
    Bin(Vec<u8>),
    Bool(bool),
    Pat(Pattern),
    Arn(Vec<Pattern>),
}

/// One policy value of a condition clause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CondValue {
    pub(crate) raw: String,
    pub(crate) parts: Option<Vec<Part>>,
    pub(crate) typed: Typed,
}

/// Split an ARN pattern on `:` outside `${...}` into at most 6 pieces.
fn split_arn(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    let b = s.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'{' if i > 0 && b[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 && out.len() < 5 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

pub(crate) fn compile_value(raw: String, family: Family, vars: bool) -> CondValue {
    let parts = if vars {
        variables::parse_template(&raw)
    } else {
        None
    };
    let typed = match family {
        Family::Like => Typed::Pat(match &parts {
            Some(p) => Pattern::from_parts(p, false),
            None => Pattern::new(&raw, false),
        }),
        Family::Arn => Typed::Arn(
            split_arn(&raw)
                .into_iter()
                .map(
                    |piece| match vars.then(|| variables::parse_template(piece)).flatten() {
                        Some(p) => Pattern::from_parts(&p, false),
                        None => Pattern::new(piece, false),
                    },
                )
                .collect(),
        ),
        Family::Str | Family::StrCi => Typed::Dynamic,
        _ if parts.is_some() => Typed::Dynamic,
        f => parse_typed(f, &raw),
    };
    CondValue { raw, parts, typed }
}

fn parse_typed(family: Family, s: &str) -> Typed {
    let t = match family {
        Family::Num(_) => values::number(s).map(Typed::Num),
        Family::Date(_) => values::date(s).map(Typed::Date),
        Family::Ip => Cidr::parse(s).map(Typed::Ip),
        Family::Binary => values::base64(s).map(Typed::Bin),
        Family::Bool | Family::Null => values::boolean(s).map(Typed::Bool),
        _ => Some(Typed::Dynamic),
    };
    t.unwrap_or(Typed::Bad)
}

impl CondValue {
    pub(crate) fn text<'a>(&'a self, ctx: &'a RequestContext) -> Option<Cow<'a, str>> {
        match &self.parts {
            None => Some(Cow::Borrowed(&self.raw)),
            Some(p) => variables::resolve(p, ctx),
        }
    }

    fn typed<'a>(&'a self, family: Family, ctx: &RequestContext) -> Option<Cow<'a, Typed>> {
        match &self.typed {
            Typed::Dynamic => Some(Cow::Owned(parse_typed(family, &self.text(ctx)?))),
            t => Some(Cow::Borrowed(t)),
        }
    }

    /// Does request value `r` match this policy value? `None`: unresolvable variable.
    pub(crate) fn matches(&self, family: Family, r: &str, ctx: &RequestContext) -> Option<bool> {
        Some(match family {
            Family::Str => *self.text(ctx)? == *r,
            Family::StrCi => {
                let p = self.text(ctx)?;
                p.chars()
                    .flat_map(char::to_lowercase)
                    .eq(r.chars().flat_map(char::to_lowercase))
            }
            Family::Like => match &self.typed {
                Typed::Pat(p) => p.matches(r, ctx)?,
                _ => false,
            },
            Family::Arn => match &self.typed {
                Typed::Arn(pieces) => {
                    let mut ok = true;
                    let mut req = r.splitn(pieces.len(), ':');
                    for p in pieces {
                        match req.next() {
                            Some(x) => ok &= p.matches(x, ctx)?,
                            None => ok = false,
                        }
                    }
                    ok
                }
                _ => false,
            },
            f => match (f, &*self.typed(f, ctx)?) {
                (Family::Num(c), Typed::Num(p)) => values::number(r).is_some_and(|x| c.test(x, *p)),
                (Family::Date(c), Typed::Date(p)) => values::date(r).is_some_and(|x| c.test(x, *p)),
                (Family::Ip, Typed::Ip(c)) => c.contains(r),
                (Family::Binary, Typed::Bin(b)) => values::base64(r).is_some_and(|x| x == *b),
                (Family::Bool, Typed::Bool(b)) => values::boolean(r) == Some(*b),
                _ => false,
            },
        })
    }

    pub(crate) fn resolvable(&self, ctx: &RequestContext) -> bool {
        match (&self.parts, &self.typed) {
            (_, Typed::Arn(pieces)) => pieces.iter().all(|p| p.matches("", ctx).is_some()),
            (Some(p), _) => variables::missing(p, ctx).next().is_none(),
            (None, _) => true,
        }
    }
}
