//! `Filters` of `ListSecrets` and `BatchGetSecretValue`.
//!
//! Semantics, from the API model's `Filter` documentation:
//!
//! | key              | match                                  |
//! |------------------|----------------------------------------|
//! | `description`    | prefix, not case-sensitive             |
//! | `name`           | prefix, case-sensitive                 |
//! | `tag-key`        | prefix, case-sensitive, any tag        |
//! | `tag-value`      | prefix, case-sensitive, any tag        |
//! | `primary-region` | prefix, case-sensitive                 |
//! | `owning-service` | prefix, case-sensitive (Coffer secrets have no owning service) |
//! | `all`            | every word of the value prefixes some word of some attribute, not case-sensitive |
//!
//! A value starting with `!` is negated. Within one filter a secret matches when (there is
//! no positive value, or some positive value matches) and no negated value matches; all
//! filters must match.

use crate::{CoreError, SecretRecord};

/// Most filters in one request.
pub const MAX_FILTERS: usize = 10;
/// Most values in one filter.
pub const MAX_VALUES: usize = 10;
/// Longest filter value, in characters.
pub const MAX_VALUE_LEN: usize = 512;

/// The attribute a filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterKey {
    /// `description`: prefix, not case-sensitive.
    Description,
    /// `name`: prefix, case-sensitive.
    Name,
    /// `tag-key`: prefix of any tag key, case-sensitive.
    TagKey,
    /// `tag-value`: prefix of any tag value, case-sensitive.
    TagValue,
    /// `primary-region`: prefix, case-sensitive.
    PrimaryRegion,
    /// `owning-service`: prefix, case-sensitive.
    OwningService,
    /// `all`: word search over every attribute, not case-sensitive.
    All,
}

impl FilterKey {
    /// Every key, in the order AWS lists them.
    pub const ALL: [FilterKey; 7] = [
        Self::Description,
        Self::Name,
        Self::TagKey,
        Self::TagValue,
        Self::PrimaryRegion,
        Self::OwningService,
        Self::All,
    ];

    /// The wire name (`tag-key`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Description => "description",
            Self::Name => "name",
            Self::TagKey => "tag-key",
            Self::TagValue => "tag-value",
            Self::PrimaryRegion => "primary-region",
            Self::OwningService => "owning-service",
            Self::All => "all",
        }
    }

    /// Inverse of [`FilterKey::as_str`] (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One validated filter. Values keep their leading `!` when negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The attribute filtered on.
    pub key: FilterKey,
    /// The values, as given (1–10).
    pub values: Vec<String>,
}

fn enum_set() -> String {
    let names: Vec<&str> = FilterKey::ALL.iter().map(|k| k.as_str()).collect();
    format!("[{}]", names.join(", "))
}

fn value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " :_@/+=.-!".contains(c)
}

/// Validates raw `(Key, Values)` pairs into [`Filter`]s: at most 10 filters, a known key,
/// 1–10 values each, each value at most 512 characters matching
/// `^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$`.
pub fn parse_filters(raw: &[(String, Vec<String>)]) -> Result<Vec<Filter>, CoreError> {
    if raw.len() > MAX_FILTERS {
        return Err(CoreError::param(format!(
            "1 validation error detected: Value at 'filters' failed to satisfy constraint: \
             Member must have length less than or equal to {MAX_FILTERS}"
        )));
    }
    raw.iter()
        .enumerate()
        .map(|(i, (key, values))| {
            let n = i + 1;
            let key = FilterKey::parse(key).ok_or_else(|| {
                CoreError::param(format!(
                    "1 validation error detected: Value '{key}' at 'filters.{n}.member.key' \
                     failed to satisfy constraint: Member must satisfy enum value set: {}",
                    enum_set()
                ))
            })?;
            if values.is_empty() || values.len() > MAX_VALUES {
                let rule = if values.is_empty() {
                    "greater than or equal to 1".to_string()
                } else {
                    format!("less than or equal to {MAX_VALUES}")
                };
                return Err(CoreError::param(format!(
                    "1 validation error detected: Value at 'filters.{n}.member.values' \
                     failed to satisfy constraint: Member must have length {rule}"
                )));
            }
            for value in values {
                if value.chars().count() > MAX_VALUE_LEN {
                    return Err(CoreError::param(format!(
                        "1 validation error detected: Value at 'filters.{n}.member.values' \
                         failed to satisfy constraint: Member must have length less than or \
                         equal to {MAX_VALUE_LEN}"
                    )));
                }
                if !value.chars().all(value_char) {
                    return Err(CoreError::param(format!(
                        "1 validation error detected: Value at 'filters.{n}.member.values' \
                         failed to satisfy constraint: Member must satisfy regular expression \
                         pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$"
                    )));
                }
            }
            Ok(Filter {
                key,
                values: values.clone(),
            })
        })
        .collect()
}

/// True when `secret` passes every filter (an empty list passes everything).
pub fn matches(secret: &SecretRecord, filters: &[Filter]) -> bool {
    filters.iter().all(|f| filter_matches(secret, f))
}

fn filter_matches(secret: &SecretRecord, filter: &Filter) -> bool {
    let mut any_positive = false;
    let mut positive_hit = false;
    for value in &filter.values {
        match value.strip_prefix('!') {
            Some(term) => {
                if term_matches(secret, filter.key, term) {
                    return false;
                }
            }
            None => {
                any_positive = true;
                positive_hit = positive_hit || term_matches(secret, filter.key, value);
            }
        }
    }
    !any_positive || positive_hit
}

fn term_matches(secret: &SecretRecord, key: FilterKey, term: &str) -> bool {
    match key {
        FilterKey::Description => secret
            .description
            .as_deref()
            .is_some_and(|d| starts_with_ci(d, term)),
        FilterKey::Name => secret.name.starts_with(term),
        FilterKey::TagKey => secret.tags.iter().any(|t| t.key.starts_with(term)),
        FilterKey::TagValue => secret.tags.iter().any(|t| t.value.starts_with(term)),
        FilterKey::PrimaryRegion => secret.region.starts_with(term),
        FilterKey::OwningService => false,
        FilterKey::All => all_matches(secret, term),
    }
}

/// Case-insensitive prefix test (Unicode lowercase on both sides).
fn starts_with_ci(haystack: &str, prefix: &str) -> bool {
    haystack.to_lowercase().starts_with(&prefix.to_lowercase())
}

/// `all`: every whitespace-separated word of `term` is a case-insensitive prefix of some
/// word of some attribute — name, description, tag keys, tag values, region. An attribute's
/// words are its runs of alphanumeric characters, plus the whole attribute.
fn all_matches(secret: &SecretRecord, term: &str) -> bool {
    let attributes: Vec<String> = std::iter::once(secret.name.as_str())
        .chain(secret.description.as_deref())
        .chain(
            secret
                .tags
                .iter()
                .flat_map(|t| [t.key.as_str(), t.value.as_str()]),
        )
        .chain(std::iter::once(secret.region.as_str()))
        .map(str::to_lowercase)
        .collect();
    term.split_whitespace().all(|word| {
        let word = word.to_lowercase();
        attributes.iter().any(|attr| {
            attr.starts_with(&word)
                || attr
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| !w.is_empty() && w.starts_with(&word))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tag;

    fn secret() -> SecretRecord {
        SecretRecord {
            arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db/main-AbCdEf".into(),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            name: "prod/db/main".into(),
            description: Some("Main Postgres credentials".into()),
            kms_key_id: None,
            tags: vec![
                Tag {
                    key: "Environment".into(),
                    value: "Production".into(),
                },
                Tag {
                    key: "team".into(),
                    value: "payments-core".into(),
                },
            ],
            created_ms: 0,
            last_changed_ms: 0,
            last_accessed_ms: None,
            deleted_ms: None,
            deletion_ms: None,
            revision: 1,
            extra: serde_json::Value::Null,
        }
    }

    fn f(key: FilterKey, values: &[&str]) -> Filter {
        Filter {
            key,
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn raw(key: &str, values: &[&str]) -> (String, Vec<String>) {
        (
            key.to_string(),
            values.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn table() {
        use FilterKey::*;
        let s = secret();
        let mut bare = secret();
        bare.description = None;
        bare.tags.clear();
        let cases: &[(FilterKey, &[&str], bool)] = &[
            // description: prefix, case-insensitive
            (Description, &["Main"], true),
            (Description, &["main post"], true),
            (Description, &["MAIN"], true),
            (Description, &["Postgres"], false),
            (Description, &["!main"], false),
            (Description, &["!Postgres"], true),
            (Description, &[""], true),
            // name: prefix, case-sensitive
            (Name, &["prod/"], true),
            (Name, &["prod/db/main"], true),
            (Name, &["Prod"], false),
            (Name, &["db"], false),
            (Name, &["prod/db/main/x"], false),
            (Name, &["!prod"], false),
            (Name, &["!dev"], true),
            // tag-key: prefix, case-sensitive, any tag
            (TagKey, &["Env"], true),
            (TagKey, &["te"], true),
            (TagKey, &["env"], false),
            (TagKey, &["Production"], false),
            (TagKey, &["!team"], false),
            (TagKey, &["!owner"], true),
            // tag-value: prefix, case-sensitive, any tag
            (TagValue, &["Prod"], true),
            (TagValue, &["payments"], true),
            (TagValue, &["prod"], false),
            (TagValue, &["core"], false),
            (TagValue, &["!payments"], false),
            // primary-region
            (PrimaryRegion, &["eu-"], true),
            (PrimaryRegion, &["eu-west-1"], true),
            (PrimaryRegion, &["EU"], false),
            (PrimaryRegion, &["us-east-1"], false),
            (PrimaryRegion, &["!us"], true),
            // owning-service: Coffer secrets have none
            (OwningService, &["rds"], false),
            (OwningService, &[""], false),
            (OwningService, &["!rds"], true),
            // all: word prefixes, case-insensitive, across attributes
            (All, &["postgres"], true),
            (All, &["POSTGRES"], true),
            (All, &["db"], true),
            (All, &["prod/db"], true), // whole-attribute prefix
            (All, &["core"], true),    // word of a tag value
            (All, &["environ"], true), // tag key
            (All, &["west"], true),    // region word
            (All, &["main credentials"], true),
            (All, &["main mysql"], false),
            (All, &["gres"], false), // not a word prefix
            (All, &["!postgres"], false),
            (All, &["!mysql"], true),
            (All, &["!main mysql"], true),
            (All, &[""], true),
        ];
        for (key, values, want) in cases {
            assert_eq!(matches(&s, &[f(*key, values)]), *want, "{key:?} {values:?}");
        }
        // Secrets without a description or tags.
        assert!(!matches(&bare, &[f(Description, &[""])]));
        assert!(matches(&bare, &[f(Description, &["!x"])]));
        assert!(!matches(&bare, &[f(TagKey, &["Env"])]));
        assert!(matches(&bare, &[f(TagValue, &["!Prod"])]));
        assert!(!matches(&bare, &[f(All, &["postgres"])]));
        assert!(matches(&bare, &[f(All, &["main"])]));
    }

    #[test]
    fn mixed_values_in_one_filter() {
        use FilterKey::*;
        let s = secret();
        // Any positive value may match.
        assert!(matches(&s, &[f(Name, &["dev/", "prod/"])]));
        assert!(!matches(&s, &[f(Name, &["dev/", "test/"])]));
        // A matching negation vetoes a matching positive.
        assert!(!matches(&s, &[f(Name, &["prod/", "!prod/db"])]));
        assert!(matches(&s, &[f(Name, &["prod/", "!prod/cache"])]));
        // Negations alone: none may match.
        assert!(matches(&s, &[f(TagKey, &["!owner", "!cost"])]));
        assert!(!matches(&s, &[f(TagKey, &["!owner", "!team"])]));
        // Positive misses, negation irrelevant.
        assert!(!matches(&s, &[f(Name, &["dev/", "!x"])]));
    }

    #[test]
    fn filters_combine_with_and() {
        use FilterKey::*;
        let s = secret();
        assert!(matches(&s, &[]));
        assert!(matches(
            &s,
            &[f(Name, &["prod/"]), f(TagValue, &["Production"])]
        ));
        assert!(!matches(
            &s,
            &[f(Name, &["prod/"]), f(TagValue, &["Staging"])]
        ));
        assert!(!matches(&s, &[f(Name, &["prod/"]), f(All, &["!postgres"])]));
    }

    #[test]
    fn key_names_round_trip() {
        for k in FilterKey::ALL {
            assert_eq!(FilterKey::parse(k.as_str()), Some(k));
        }
        assert_eq!(FilterKey::parse("Name"), None);
        assert_eq!(FilterKey::parse("tag_key"), None);
    }

    #[test]
    fn parse_accepts_valid_filters() {
        let parsed = parse_filters(&[
            raw("name", &["prod/", "!prod/old"]),
            raw("tag-key", &["team"]),
            raw("all", &["main postgres", ""]),
        ])
        .unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0].key, FilterKey::Name);
        assert_eq!(parsed[0].values, vec!["prod/", "!prod/old"]);
        assert_eq!(parsed[2].key, FilterKey::All);
        assert!(parse_filters(&[]).unwrap().is_empty());
    }

    fn bad(r: Result<Vec<Filter>, CoreError>) -> String {
        match r {
            Err(CoreError::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn parse_rejects_unknown_key_naming_valid_ones() {
        let m = bad(parse_filters(&[raw("name", &["a"]), raw("colour", &["a"])]));
        assert!(m.contains("'colour'"), "{m}");
        assert!(m.contains("filters.2.member.key"), "{m}");
        assert!(
            m.contains(
                "[description, name, tag-key, tag-value, primary-region, owning-service, all]"
            ),
            "{m}"
        );
    }

    #[test]
    fn parse_filter_count_bounds() {
        let ten: Vec<_> = (0..10).map(|_| raw("name", &["a"])).collect();
        assert_eq!(parse_filters(&ten).unwrap().len(), 10);
        let eleven: Vec<_> = (0..11).map(|_| raw("name", &["a"])).collect();
        bad(parse_filters(&eleven));
    }

    #[test]
    fn parse_value_count_bounds() {
        bad(parse_filters(&[raw("name", &[])]));
        parse_filters(&[raw("name", &["a"])]).unwrap();
        parse_filters(&[raw("name", &["a"; 10])]).unwrap();
        bad(parse_filters(&[raw("name", &["a"; 11])]));
    }

    #[test]
    fn parse_value_length_bounds() {
        let max = "a".repeat(512);
        let over = "a".repeat(513);
        parse_filters(&[raw("name", &[""])]).unwrap();
        parse_filters(&[raw("name", &[&max])]).unwrap();
        bad(parse_filters(&[raw("name", &[&over])]));
    }

    #[test]
    fn parse_value_pattern() {
        parse_filters(&[raw("all", &["!Az09 :_@/+=.-!"])]).unwrap();
        for v in ["a*b", "a#", "é", "tab\t", "a,b", "(x)"] {
            bad(parse_filters(&[raw("name", &[v])]));
        }
    }
}
