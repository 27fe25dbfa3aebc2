//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and the
//! literal escapes `${*}`, `${?}`, `${$}`. Only parsed for `Version: 2012-10-17`.

use std::borrow::Cow;

/// Something that can resolve a (lowercase) context key to a single value.
pub(crate) trait Vars {
    /// The single value of `key_lower`; `None` when absent or multi-valued.
    fn var(&self, key_lower: &str) -> Option<&str>;
}

/// A variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Var {
    /// Key name, lowercase.
    pub(crate) key: Box<str>,
    /// Key name as written.
    pub(crate) display: Box<str>,
    /// `'default'` value, used when the key is absent.
    pub(crate) default: Option<Box<str>>,
}

impl Var {
    /// The value this variable resolves to, if any.
    pub(crate) fn resolve<'a>(&'a self, vars: &'a dyn Vars) -> Option<&'a str> {
        vars.var(&self.key).or(self.default.as_deref())
    }
}

/// One piece of a template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text as written (may contain wildcards).
    Text(Box<str>),
    /// A literal character from `${*}`, `${?}` or `${$}`.
    Esc(char),
    /// A variable.
    Var(Var),
}

/// Split `s` into parts; returns `None` when it contains no `${...}` at all.
pub(crate) fn parse_template(s: &str) -> Option<Vec<Part>> {
    if !s.contains("${") {
        return None;
    }
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        let Some(part) = parse_inner(inner) else {
            // Not a variable: keep "${" literally and continue after it.
            text.push_str(&rest[..start + 2]);
            rest = after;
            continue;
        };
        text.push_str(&rest[..start]);
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut text).into()));
        }
        parts.push(part);
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text.into()));
    }
    if parts.iter().all(|p| matches!(p, Part::Text(_))) {
        return None;
    }
    Some(parts)
}

fn parse_inner(inner: &str) -> Option<Part> {
    let t = inner.trim();
    match t {
        "*" => return Some(Part::Esc('*')),
        "?" => return Some(Part::Esc('?')),
        "$" => return Some(Part::Esc('$')),
        _ => {}
    }
    let (key, default) = match t.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(Box::<str>::from(d)))
        }
        None => (t, None),
    };
    let (ns, name) = key.split_once(':')?;
    let ok_ns = !ns.is_empty() && ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ok_name = !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || "${}'".contains(c));
    if !ok_ns || !ok_name {
        return None;
    }
    Some(Part::Var(Var {
        key: key.to_ascii_lowercase().into(),
        display: key.into(),
        default,
    }))
}

/// Substitute variables; `None` when some variable cannot be resolved.
pub(crate) fn resolve<'a>(parts: &'a [Part], vars: &'a dyn Vars) -> Option<Cow<'a, str>> {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Esc(c) => out.push(*c),
            Part::Var(v) => out.push_str(v.resolve(vars)?),
        }
    }
    Some(Cow::Owned(out))
}

/// Keys of variables in `parts` that cannot be resolved.
pub(crate) fn missing<'a>(parts: &'a [Part], vars: &dyn Vars) -> impl Iterator<Item = &'a Var> {
    parts.iter().filter_map(move |p| match p {
        Part::Var(v) if v.resolve(vars).is_none() => Some(v),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct M(HashMap<&'static str, &'static str>);
    impl Vars for M {
        fn var(&self, k: &str) -> Option<&str> {
            self.0.get(k).copied()
        }
    }

    #[test]
    fn plain_text_has_no_template() {
        assert!(parse_template("arn:aws:x:::a/*").is_none());
        assert!(parse_template("${not a var}").is_none());
        assert!(parse_template("${unterminated").is_none());
    }

    #[test]
    fn variables_defaults_and_escapes() {
        let m = M(HashMap::from([("aws:username", "alice")]));
        let p =
            parse_template("home/${aws:username}/${aws:PrincipalTag/team, 'none'}${*}").unwrap();
        assert_eq!(resolve(&p, &m).unwrap(), "home/alice/none*");
        let p = parse_template("${ AWS:UserName }").unwrap();
        assert_eq!(resolve(&p, &m).unwrap(), "alice");
        let p = parse_template("${aws:userid}").unwrap();
        assert!(resolve(&p, &m).is_none());
        assert_eq!(missing(&p, &m).count(), 1);
        let p = parse_template("a${$}{b}${?}").unwrap();
        assert_eq!(resolve(&p, &m).unwrap(), "a${b}?");
    }
}
