//! Amazon EventBridge event patterns: parse and validate a pattern once, then match it
//! against any number of JSON events.
//!
//! Semantics (those of EventBridge and its open-source engine, aws/event-ruler):
//!
//! - A pattern is a non-empty JSON object. Fields at one level are ANDed; the values in a
//!   field's array are ORed. A field's value is either a nested object (a sub-pattern) or a
//!   non-empty array of match values: strings, numbers, `true`, `false`, `null`, or
//!   one-operator objects (`prefix`, `suffix`, `equals-ignore-case`, `wildcard`,
//!   `anything-but`, `numeric`, `exists`, `cidr`).
//! - When the event's value is an array, the field matches if any element does; arrays of
//!   objects are matched element by element, so fields from different elements of the same
//!   array never combine into one match.
//! - Numbers compare numerically (`3.0` equals `3`); strings never equal numbers.
//! - `exists` looks at leaf values only: a field holding an object (or an empty array)
//!   does not "exist", and a missing field matches `{"exists": false}`.
//! - `anything-but` needs the field to be present and matches every leaf value that is not
//!   excluded, whatever its type (a number is "anything but" a string prefix).
//! - `"$or": [{..}, {..}]` (at least two objects) ORs sub-patterns at its level; inside
//!   `$or` operator names cannot be used as field names.
//! - Limits: pattern text ≤ [`MAX_PATTERN_BYTES`], JSON nesting ≤ [`MAX_PATTERN_DEPTH`],
//!   numeric operands within ±[`NUMERIC_LIMIT`].

mod compile;
mod leaf;
mod text;

use serde_json::Value;
use std::str::FromStr;

pub(crate) use text::Glob;

use leaf::Matcher;

/// Largest accepted pattern text, in bytes.
pub const MAX_PATTERN_BYTES: usize = 4096;
/// Deepest accepted JSON nesting of a pattern document (objects and arrays, the
/// outermost object counting as 1).
pub const MAX_PATTERN_DEPTH: usize = 32;
/// Numeric operands (`numeric` and numeric `anything-but`) must lie in `[-5e9, 5e9]`.
pub const NUMERIC_LIMIT: f64 = 5.0e9;

/// Why a pattern was refused. `path` is the dotted field path where the problem is
/// (`<root>` for the top level).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern text is longer than [`MAX_PATTERN_BYTES`].
    #[error("event pattern is {len} bytes; the limit is {max}")]
    TooLarge {
        /// Length of the text.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The pattern nests deeper than [`MAX_PATTERN_DEPTH`].
    #[error("event pattern nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The text is not JSON.
    #[error("event pattern is not valid JSON: {0}")]
    Json(String),
    /// The pattern is JSON but not an object.
    #[error("event pattern must be a JSON object")]
    NotAnObject,
    /// An object with no fields (including the whole pattern `{}`).
    #[error("{path}: empty objects are not allowed")]
    EmptyObject {
        /// Where.
        path: String,
    },
    /// A field whose array of match values is empty.
    #[error("{path}: empty arrays are not allowed")]
    EmptyArray {
        /// Where.
        path: String,
    },
    /// A field whose value is a scalar instead of an object or an array.
    #[error("{path}: value must be an object or an array of match values")]
    NotObjectOrArray {
        /// Where.
        path: String,
    },
    /// An element of a field's array is itself an array.
    #[error("{path}: match values must be strings, numbers, true, false, null or operator objects")]
    BadMatchValue {
        /// Where.
        path: String,
    },
    /// An operator object with zero or several keys.
    #[error("{path}: a match expression must have exactly one operator")]
    OperatorCount {
        /// Where.
        path: String,
    },
    /// An operator name that EventBridge does not know.
    #[error("{path}: unknown operator \"{op}\"")]
    UnknownOperator {
        /// Where.
        path: String,
        /// The unknown name.
        op: String,
    },
    /// A known operator with an operand of the wrong shape or value.
    #[error("{path}: invalid \"{op}\" operand: {reason}")]
    BadOperand {
        /// Where.
        path: String,
        /// The operator.
        op: String,
        /// What is wrong.
        reason: String,
    },
    /// A malformed `$or`.
    #[error("{path}: invalid $or: {reason}")]
    BadOr {
        /// Where.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An operator name used as a field name inside `$or`.
    #[error("{path}: \"{name}\" is an operator name and cannot be a field name inside $or")]
    ReservedNameInOr {
        /// Where.
        path: String,
        /// The field name.
        name: String,
    },
}

/// A compiled event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: Node,
}

/// One object level of a pattern: every field must match and, for each `$or`, one of its
/// alternatives.
#[derive(Debug, Clone)]
struct Node {
    fields: Vec<(String, Field)>,
    ors: Vec<Vec<Node>>,
}

#[derive(Debug, Clone)]
enum Field {
    Nested(Node),
    Leaf(Vec<Matcher>),
}

impl Pattern {
    /// Parses and validates pattern text (size, JSON, depth, syntax).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.len() > MAX_PATTERN_BYTES {
            return Err(PatternError::TooLarge {
                len: text.len(),
                max: MAX_PATTERN_BYTES,
            });
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            if e.to_string().contains("recursion limit") {
                PatternError::TooDeep {
                    max: MAX_PATTERN_DEPTH,
                }
            } else {
                PatternError::Json(e.to_string())
            }
        })?;
        Self::from_value(&value)
    }

    /// Validates and compiles an already-parsed pattern (depth and syntax; the byte limit
    /// applies to text only).
    pub fn from_value(value: &Value) -> Result<Self, PatternError> {
        if depth(value) > MAX_PATTERN_DEPTH {
            return Err(PatternError::TooDeep {
                max: MAX_PATTERN_DEPTH,
            });
        }
        Ok(Pattern {
            root: compile::root(value)?,
        })
    }

    /// Whether `event` matches. An event that is not an object has no fields, so only
    /// patterns made of `{"exists": false}` match it.
    pub fn matches(&self, event: &Value) -> bool {
        match_node(&self.root, Some(event))
    }
}

impl FromStr for Pattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::parse(s)
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn match_node(node: &Node, value: Option<&Value>) -> bool {
    if let Some(Value::Array(items)) = value {
        // Array consistency: the whole sub-pattern must match within one element.
        return if items.is_empty() {
            match_node(node, None)
        } else {
            items.iter().any(|item| match_node(node, Some(item)))
        };
    }
    let object = match value {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    node.fields.iter().all(|(name, field)| {
        let child = object.and_then(|m| m.get(name));
        match field {
            Field::Nested(inner) => match_node(inner, child),
            Field::Leaf(matchers) => match_leaf(matchers, child),
        }
    }) && node
        .ors
        .iter()
        .all(|alternatives| alternatives.iter().any(|alt| match_node(alt, value)))
}

fn match_leaf(matchers: &[Matcher], value: Option<&Value>) -> bool {
    matchers.iter().any(|m| match m {
        Matcher::Exists(wanted) => has_leaf(value) == *wanted,
        other => any_leaf(value, &|leaf| other.matches(leaf)),
    })
}

/// Scalars (including `null`) are leaves; arrays are looked through; objects are not
/// leaves.
fn has_leaf(value: Option<&Value>) -> bool {
    any_leaf(value, &|_| true)
}

fn any_leaf(value: Option<&Value>, f: &dyn Fn(&Value) -> bool) -> bool {
    match value {
        None | Some(Value::Object(_)) => false,
        Some(Value::Array(items)) => items.iter().any(|i| any_leaf(Some(i), f)),
        Some(scalar) => f(scalar),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod validation_tests;
