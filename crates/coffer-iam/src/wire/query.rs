//! Parsing of `application/x-www-form-urlencoded` Query requests.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::error::IamError;

/// Most parameters accepted in one request.
pub const MAX_PARAMS: usize = 1000;
/// Largest `N` accepted in `Prefix.member.N`.
const MAX_MEMBER_INDEX: usize = 1000;

/// A request that could not be decoded or lacks/misuses a parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Bad percent-encoding or invalid UTF-8.
    #[error("malformed query string: {0}")]
    Malformed(String),
    /// More than [`MAX_PARAMS`] parameters.
    #[error("too many parameters (at most {MAX_PARAMS})")]
    TooManyParameters,
    /// The same key appeared twice.
    #[error("duplicate parameter {0}")]
    DuplicateParameter(String),
    /// A required parameter is absent.
    #[error("missing parameter {0}")]
    MissingParameter(String),
    /// A parameter's value has the wrong type (integer, boolean).
    #[error("invalid value for {name}: {message}")]
    InvalidValue {
        /// Parameter name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// `Prefix.member.N` indices are not exactly `1..=len`.
    #[error("list {0} has a missing or invalid member index")]
    BadListIndex(String),
}

impl From<WireError> for IamError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Malformed(_) | WireError::TooManyParameters => {
                IamError::MalformedQueryString(e.to_string())
            }
            WireError::MissingParameter(name) => IamError::constraint(&name, None, "not be null"),
            WireError::DuplicateParameter(_) | WireError::BadListIndex(_) => {
                IamError::InvalidParameterValue(e.to_string())
            }
            WireError::InvalidValue { .. } => IamError::ValidationError(e.to_string()),
        }
    }
}

/// A decoded Query request: every `key=value` pair, keys unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRequest {
    params: BTreeMap<String, String>,
}

impl QueryRequest {
    /// Decodes a form body and/or URL query string (GET). A key present in both is a
    /// duplicate. The caller enforces the body size limit.
    pub fn parse(body: &[u8], query_string: Option<&str>) -> Result<Self, WireError> {
        let mut params = BTreeMap::new();
        let body = std::str::from_utf8(body)
            .map_err(|_| WireError::Malformed("body is not UTF-8".into()))?;
        for source in [body, query_string.unwrap_or("")] {
            for pair in source.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let (k, v) = (decode(k)?, decode(v)?);
                if params.len() >= MAX_PARAMS {
                    return Err(WireError::TooManyParameters);
                }
                if params.contains_key(&k) {
                    return Err(WireError::DuplicateParameter(k));
                }
                params.insert(k, v);
            }
        }
        Ok(Self { params })
    }

    /// Builds a request from decoded pairs (tests, internal callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, WireError> {
        let mut params = BTreeMap::new();
        for (k, v) in pairs {
            let k = k.into();
            if params.len() >= MAX_PARAMS {
                return Err(WireError::TooManyParameters);
            }
            if params.insert(k.clone(), v.into()).is_some() {
                return Err(WireError::DuplicateParameter(k));
            }
        }
        Ok(Self { params })
    }

    /// `Action`, if present.
    pub fn action(&self) -> Option<&str> {
        self.get("Action")
    }

    /// `Version`, if present.
    pub fn version(&self) -> Option<&str> {
        self.get("Version")
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A parameter that must be present.
    pub fn required(&self, name: &str) -> Result<&str, WireError> {
        self.get(name)
            .ok_or_else(|| WireError::MissingParameter(name.to_owned()))
    }

    /// An optional integer parameter.
    pub fn get_i64(&self, name: &str) -> Result<Option<i64>, WireError> {
        self.get(name).map(|v| parse_i64(name, v)).transpose()
    }

    /// An optional boolean parameter (`true`/`false`, any case).
    pub fn get_bool(&self, name: &str) -> Result<Option<bool>, WireError> {
        self.get(name).map(|v| parse_bool(name, v)).transpose()
    }

    /// All parameters, sorted by key.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Scalar list `Prefix.member.N`, ordered by `N` (see [`QueryStruct::list`]).
    pub fn list(&self, prefix: &str) -> Result<Vec<&str>, WireError> {
        self.root().list(prefix)
    }

    /// Structure list `Prefix.member.N.Field…` (see [`QueryStruct::structs`]).
    pub fn structs(&self, prefix: &str) -> Result<Vec<QueryStruct<'_>>, WireError> {
        self.root().structs(prefix)
    }

    /// `Prefix.member.N.Key` / `.Value` pairs. A member without `Key` is an error;
    /// a missing `Value` is the empty string.
    pub fn tags(&self, prefix: &str) -> Result<Vec<(String, String)>, WireError> {
        self.root().tags(prefix)
    }

    /// The whole request as one struct, for the generic accessors.
    pub fn root(&self) -> QueryStruct<'_> {
        QueryStruct {
            fields: self.params().collect(),
        }
    }
}

/// One member of a structure list: its fields keyed by the remainder after
/// `Prefix.member.N.` — nested lists stay reachable (`ContextKeyValues.member.1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryStruct<'a> {
    fields: BTreeMap<&'a str, &'a str>,
}

impl<'a> QueryStruct<'a> {
    /// The raw field map.
    pub fn fields(&self) -> &BTreeMap<&'a str, &'a str> {
        &self.fields
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.fields.get(name).copied()
    }

    /// A field that must be present.
    pub fn required(&self, name: &str) -> Result<&'a str, WireError> {
        self.get(name)
            .ok_or_else(|| WireError::MissingParameter(name.to_owned()))
    }

    /// Scalar list `prefix.member.N`. `prefix=` with an empty value (botocore's encoding
    /// of an empty list) and absence both give `[]`. Indices must be exactly `1..=len`.
    pub fn list(&self, prefix: &str) -> Result<Vec<&'a str>, WireError> {
        let members = self.members(prefix)?;
        members
            .into_iter()
            .map(|m| {
                if m.len() == 1
                    && let Some(v) = m.get("")
                {
                    return Ok(*v);
                }
                Err(WireError::BadListIndex(prefix.to_owned()))
            })
            .collect()
    }

    /// Structure list `prefix.member.N.Field`: one [`QueryStruct`] per `N`, in order.
    pub fn structs(&self, prefix: &str) -> Result<Vec<QueryStruct<'a>>, WireError> {
        let members = self.members(prefix)?;
        members
            .into_iter()
            .map(|m| {
                if m.contains_key("") {
                    return Err(WireError::BadListIndex(prefix.to_owned()));
                }
                Ok(QueryStruct { fields: m })
            })
            .collect()
    }

    /// `prefix.member.N.Key` / `.Value` pairs.
    pub fn tags(&self, prefix: &str) -> Result<Vec<(String, String)>, WireError> {
        self.structs(prefix)?
            .iter()
            .map(|s| {
                let key = s
                    .get("Key")
                    .ok_or_else(|| WireError::MissingParameter(format!("{prefix}.Key")))?;
                Ok((key.to_owned(), s.get("Value").unwrap_or("").to_owned()))
            })
            .collect()
    }

    /// Groups `prefix.member.N[.rest]` by `N`; each map is keyed by `rest` (`""` for a
    /// scalar member).
    fn members(&self, prefix: &str) -> Result<Vec<BTreeMap<&'a str, &'a str>>, WireError> {
        let head = format!("{prefix}.member.");
        let mut by_index: BTreeMap<usize, BTreeMap<&'a str, &'a str>> = BTreeMap::new();
        for (key, value) in self
            .fields
            .range::<str, _>((Bound::Included(head.as_str()), Bound::Unbounded))
        {
            let Some(rest) = key.strip_prefix(head.as_str()) else {
                break;
            };
            let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
            let bad = || WireError::BadListIndex(prefix.to_owned());
            if index.is_empty()
                || index.starts_with('0')
                || !index.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            let n: usize = index.parse().map_err(|_| bad())?;
            if n > MAX_MEMBER_INDEX {
                return Err(bad());
            }
            by_index.entry(n).or_default().insert(field, value);
        }
        if by_index.is_empty() {
            return match self.get(prefix) {
                Some(v) if !v.is_empty() => Err(WireError::BadListIndex(prefix.to_owned())),
                _ => Ok(Vec::new()),
            };
        }
        if by_index.keys().copied().ne(1..=by_index.len()) {
            return Err(WireError::BadListIndex(prefix.to_owned()));
        }
        Ok(by_index.into_values().collect())
    }
}

fn parse_i64(name: &str, v: &str) -> Result<i64, WireError> {
    v.trim().parse().map_err(|_| WireError::InvalidValue {
        name: name.to_owned(),
        message: format!("'{v}' is not an integer"),
    })
}

fn parse_bool(name: &str, v: &str) -> Result<bool, WireError> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(WireError::InvalidValue {
            name: name.to_owned(),
            message: format!("'{v}' is not a boolean"),
        }),
    }
}

/// Form-decodes one key or value: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn decode(s: &str) -> Result<String, WireError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
                match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Err(WireError::Malformed("bad percent-escape".into())),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| WireError::Malformed("parameter is not UTF-8".into()))
}
