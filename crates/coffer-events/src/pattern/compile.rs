//! Pattern JSON → compiled [`Node`] tree, with EventBridge's validation.

use super::leaf::{Exclusion, Matcher, Range, folded};
use super::text::{Cidr, Glob};
use super::{Field, NUMERIC_LIMIT, Node, PatternError};
use serde_json::{Map, Value};

/// Operator names, which cannot be field names inside `$or`.
const OPERATORS: [&str; 9] = [
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
    "exact",
];

pub(super) fn root(value: &Value) -> Result<Node, PatternError> {
    match value {
        Value::Object(m) => object(m, &mut Vec::new(), false),
        _ => Err(PatternError::NotAnObject),
    }
}

fn show(path: &[String]) -> String {
    if path.is_empty() {
        "<root>".to_string()
    } else {
        path.join(".")
    }
}

fn object(
    m: &Map<String, Value>,
    path: &mut Vec<String>,
    in_or: bool,
) -> Result<Node, PatternError> {
    if m.is_empty() {
        return Err(PatternError::EmptyObject { path: show(path) });
    }
    let mut node = Node {
        fields: Vec::with_capacity(m.len()),
        ors: Vec::new(),
    };
    for (name, value) in m {
        if name == "$or" {
            node.ors.push(or(value, path)?);
            continue;
        }
        if in_or && OPERATORS.contains(&name.as_str()) {
            return Err(PatternError::ReservedNameInOr {
                path: show(path),
                name: name.clone(),
            });
        }
        path.push(name.clone());
        let field = match value {
            Value::Object(inner) => Field::Nested(object(inner, path, in_or)?),
            Value::Array(items) => Field::Leaf(leaf_values(items, path)?),
            _ => return Err(PatternError::NotObjectOrArray { path: show(path) }),
        };
        path.pop();
        node.fields.push((name.clone(), field));
    }
    Ok(node)
}

fn or(value: &Value, path: &mut Vec<String>) -> Result<Vec<Node>, PatternError> {
    let bad = |path: &[String], reason: &str| PatternError::BadOr {
        path: show(path),
        reason: reason.to_string(),
    };
    let Value::Array(items) = value else {
        return Err(bad(path, "must be an array of objects"));
    };
    if items.len() < 2 {
        return Err(bad(path, "needs at least 2 objects"));
    }
    let mut alternatives = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(m) => alternatives.push(object(m, path, true)?),
            _ => return Err(bad(path, "only objects are allowed in the array")),
        }
    }
    Ok(alternatives)
}

fn leaf_values(items: &[Value], path: &[String]) -> Result<Vec<Matcher>, PatternError> {
    if items.is_empty() {
        return Err(PatternError::EmptyArray { path: show(path) });
    }
    items
        .iter()
        .map(|item| match item {
            Value::Object(m) => operator(m, path),
            Value::Array(_) => Err(PatternError::BadMatchValue { path: show(path) }),
            scalar => Ok(Matcher::Exact(scalar.clone())),
        })
        .collect()
}

fn operator(m: &Map<String, Value>, path: &[String]) -> Result<Matcher, PatternError> {
    let mut entries = m.iter();
    let (Some((op, arg)), None) = (entries.next(), entries.next()) else {
        return Err(PatternError::OperatorCount { path: show(path) });
    };
    let bad = |reason: &str| PatternError::BadOperand {
        path: show(path),
        op: op.clone(),
        reason: reason.to_string(),
    };
    Ok(match op.as_str() {
        "prefix" | "suffix" => {
            let prefix = op == "prefix";
            match arg {
                Value::String(s) if prefix => Matcher::Prefix(s.clone()),
                Value::String(s) => Matcher::Suffix(s.clone()),
                Value::Object(inner) => {
                    let s = single(inner, "equals-ignore-case")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            bad("must be a string or {\"equals-ignore-case\": string}")
                        })?;
                    if prefix {
                        Matcher::PrefixIgnoreCase(folded(s))
                    } else {
                        Matcher::SuffixIgnoreCase(folded(s))
                    }
                }
                _ => return Err(bad("must be a string or {\"equals-ignore-case\": string}")),
            }
        }
        "equals-ignore-case" => {
            Matcher::EqualsIgnoreCase(folded(arg.as_str().ok_or_else(|| bad("must be a string"))?))
        }
        "exact" => Matcher::Exact(Value::String(
            arg.as_str()
                .ok_or_else(|| bad("must be a string"))?
                .to_string(),
        )),
        "wildcard" => Matcher::Wildcard(
            Glob::parse_escaped(arg.as_str().ok_or_else(|| bad("must be a string"))?)
                .map_err(|e| bad(&e))?,
        ),
        "anything-but" => Matcher::AnythingBut(anything_but(arg).map_err(|e| bad(&e))?),
        "numeric" => Matcher::Numeric(numeric(arg).map_err(|e| bad(&e))?),
        "exists" => Matcher::Exists(arg.as_bool().ok_or_else(|| bad("must be true or false"))?),
        "cidr" => Matcher::Cidr(
            Cidr::parse(arg.as_str().ok_or_else(|| bad("must be a string"))?)
                .map_err(|e| bad(&e))?,
        ),
        _ => {
            return Err(PatternError::UnknownOperator {
                path: show(path),
                op: op.clone(),
            });
        }
    })
}

/// The value of `m` if `m` has exactly the one key `key`.
fn single<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if m.len() == 1 { m.get(key) } else { None }
}

fn anything_but(arg: &Value) -> Result<Exclusion, String> {
    match arg {
        Value::String(_) => Ok(Exclusion::Values(vec![arg.clone()])),
        Value::Number(_) => {
            check_number(arg)?;
            Ok(Exclusion::Values(vec![arg.clone()]))
        }
        Value::Array(items) => {
            if items.is_empty() {
                return Err("the list must not be empty".into());
            }
            let strings = items.iter().all(Value::is_string);
            let numbers = items.iter().all(Value::is_number);
            if !strings && !numbers {
                return Err("the list must hold only strings or only numbers".into());
            }
            if numbers {
                for item in items {
                    check_number(item)?;
                }
            }
            Ok(Exclusion::Values(items.clone()))
        }
        Value::Object(m) => {
            let mut entries = m.iter();
            let (Some((op, inner)), None) = (entries.next(), entries.next()) else {
                return Err("a nested expression must have exactly one operator".into());
            };
            let list = strings(inner)
                .ok_or_else(|| format!("\"{op}\" inside anything-but needs a string or a non-empty list of strings"))?;
            match op.as_str() {
                "prefix" | "suffix" => {
                    if list.iter().any(|s| s.is_empty()) {
                        return Err(format!("an empty {op} is not allowed"));
                    }
                    let owned = list.iter().map(|s| s.to_string()).collect();
                    Ok(if op == "prefix" {
                        Exclusion::Prefixes(owned)
                    } else {
                        Exclusion::Suffixes(owned)
                    })
                }
                "equals-ignore-case" => Ok(Exclusion::IgnoreCase(
                    list.iter().map(|s| folded(s)).collect(),
                )),
                "wildcard" => Ok(Exclusion::Wildcards(
                    list.iter()
                        .map(|s| Glob::parse_escaped(s))
                        .collect::<Result<_, _>>()?,
                )),
                other => Err(format!("unsupported anything-but expression \"{other}\"")),
            }
        }
        _ => Err("must be a string, a number, a list of them, or a prefix/suffix/equals-ignore-case/wildcard object".into()),
    }
}

/// A string, or a non-empty array of strings.
fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn check_number(v: &Value) -> Result<f64, String> {
    let x = v.as_f64().ok_or_else(|| format!("{v} is not a number"))?;
    if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&x) {
        return Err(format!("{v} is outside [-5e9, 5e9]"));
    }
    Ok(x)
}

/// `["=", x]`, `[op, x]` for `<`, `<=`, `>`, `>=`, or `[">"|">=", lo, "<"|"<=", hi]`.
fn numeric(arg: &Value) -> Result<Range, String> {
    let Value::Array(items) = arg else {
        return Err("must be an array like [\">\", 0, \"<=\", 5]".into());
    };
    let op = |i: usize| -> Result<&str, String> {
        items
            .get(i)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("element {i} must be an operator (=, <, <=, >, >=)"))
    };
    let num = |i: usize| -> Result<f64, String> {
        check_number(items.get(i).ok_or("an operator needs a number after it")?)
    };
    let first = op(0)?;
    let x = num(1)?;
    let mut range = match first {
        "=" => Range {
            lower: Some((x, true)),
            upper: Some((x, true)),
        },
        ">" | ">=" => Range {
            lower: Some((x, first == ">=")),
            upper: None,
        },
        "<" | "<=" => Range {
            lower: None,
            upper: Some((x, first == "<=")),
        },
        other => return Err(format!("unknown numeric operator \"{other}\"")),
    };
    match items.len() {
        2 => Ok(range),
        4 => {
            if range.upper.is_some() {
                return Err(
                    "two comparisons must be a lower bound (> or >=) then an upper bound (< or <=)"
                        .into(),
                );
            }
            let second = op(2)?;
            let y = num(3)?;
            if second != "<" && second != "<=" {
                return Err(
                    "two comparisons must be a lower bound (> or >=) then an upper bound (< or <=)"
                        .into(),
                );
            }
            if y <= x {
                return Err(format!(
                    "empty range: the upper bound {y} is not above the lower bound {x}"
                ));
            }
            range.upper = Some((y, second == "<="));
            Ok(range)
        }
        _ => Err("must hold one or two comparisons".into()),
    }
}
