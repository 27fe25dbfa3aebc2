//! The controls file: which detective and preventive controls apply, parsed and checked once
//! at load (the name pattern is compiled there).

use serde::Deserialize;

/// Longest accepted `name_pattern` (characters).
pub const MAX_PATTERN_CHARS: usize = 1024;

/// Compiled-size limit of the name pattern's automaton (bytes).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Why a controls file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ControlsConfigError {
    /// Not JSON, wrong types, or an unknown field (serde's message names the field).
    #[error("controls file: {0}")]
    Json(String),
    /// `name_pattern` longer than [`MAX_PATTERN_CHARS`].
    #[error("controls file: name_pattern is {0} characters long; the limit is {MAX_PATTERN_CHARS}")]
    PatternTooLong(usize),
    /// `name_pattern` is not a valid regular expression (or compiles too large).
    #[error("controls file: name_pattern is not a valid regular expression: {0}")]
    BadPattern(String),
    /// A `required_tags` entry is empty or longer than a tag key may be (128).
    #[error("controls file: required tag key {0:?} must be 1 to 128 characters")]
    BadTagKey(String),
    /// An `organization_accounts` entry is not a 12-digit account id.
    #[error("controls file: organization account {0:?} is not a 12-digit account id")]
    BadAccount(String),
    /// `max_days_unused` is zero.
    #[error("controls file: max_days_unused must be at least 1")]
    BadMaxDays,
}

/// The file as written: every field optional, unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControls {
    #[serde(default)]
    required_tags: Vec<String>,
    name_pattern: Option<String>,
    max_days_unused: Option<u32>,
    #[serde(default)]
    require_rotation: bool,
    #[serde(default)]
    require_customer_managed_key: bool,
    organization_accounts: Option<Vec<String>>,
    #[serde(default)]
    enforce_at_create: bool,
}

/// Validated controls settings. Each detective control is on when its setting is given:
/// `required-tags` with a non-empty `required_tags`, `name-convention` with `name_pattern`,
/// `not-accessed` with `max_days_unused`, `rotation-not-enabled` with `require_rotation`,
/// `not-customer-managed-key` with `require_customer_managed_key`,
/// `policy-outside-organization` with `organization_accounts` (an empty list allows only
/// the secret's own account). `rotation-failed` is always on.
#[derive(Debug, Clone, Default)]
pub struct ControlsConfig {
    /// Tag keys every secret must carry (deduplicated, in file order).
    pub required_tags: Vec<String>,
    /// Pattern secret names must match (unanchored unless the pattern anchors itself).
    pub name_pattern: Option<regex::Regex>,
    /// A secret unused (not read, or if never read, not created) for longer than this many
    /// days is reported.
    pub max_days_unused: Option<u32>,
    /// Report secrets without rotation enabled.
    pub require_rotation: bool,
    /// Report secrets encrypted with the default `aws/secretsmanager` key.
    pub require_customer_managed_key: bool,
    /// Accounts a resource policy may grant access to, besides the secret's own.
    pub organization_accounts: Option<Vec<String>>,
    /// Refuse CreateSecret of non-compliant secrets (required tags, name pattern) and
    /// UntagResource of required tags.
    pub enforce_at_create: bool,
}

impl ControlsConfig {
    /// Parses and validates a controls file's JSON text.
    pub fn from_json(text: &str) -> Result<ControlsConfig, ControlsConfigError> {
        let raw: RawControls =
            serde_json::from_str(text).map_err(|e| ControlsConfigError::Json(e.to_string()))?;
        let mut required_tags: Vec<String> = Vec::new();
        for k in raw.required_tags {
            if k.is_empty() || k.chars().count() > 128 {
                return Err(ControlsConfigError::BadTagKey(k));
            }
            if !required_tags.contains(&k) {
                required_tags.push(k);
            }
        }
        let name_pattern = match raw.name_pattern {
            Some(p) => Some(compile_pattern(&p)?),
            None => None,
        };
        if raw.max_days_unused == Some(0) {
            return Err(ControlsConfigError::BadMaxDays);
        }
        if let Some(accounts) = &raw.organization_accounts
            && let Some(bad) = accounts
                .iter()
                .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ControlsConfigError::BadAccount(bad.clone()));
        }
        Ok(ControlsConfig {
            required_tags,
            name_pattern,
            max_days_unused: raw.max_days_unused,
            require_rotation: raw.require_rotation,
            require_customer_managed_key: raw.require_customer_managed_key,
            organization_accounts: raw.organization_accounts,
            enforce_at_create: raw.enforce_at_create,
        })
    }
}

fn compile_pattern(p: &str) -> Result<regex::Regex, ControlsConfigError> {
    let n = p.chars().count();
    if n > MAX_PATTERN_CHARS {
        return Err(ControlsConfigError::PatternTooLong(n));
    }
    regex::RegexBuilder::new(p)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| ControlsConfigError::BadPattern(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file_parses() {
        let c = ControlsConfig::from_json(
            r#"{"required_tags":["team","env","team"],"name_pattern":"^(prod|dev)/[a-z0-9-]+$",
                "max_days_unused":90,"require_rotation":true,"require_customer_managed_key":true,
                "organization_accounts":["111111111111"],"enforce_at_create":true}"#,
        )
        .unwrap();
        assert_eq!(c.required_tags, ["team", "env"]);
        assert!(c.name_pattern.as_ref().unwrap().is_match("prod/db"));
        assert_eq!(c.max_days_unused, Some(90));
        assert!(c.require_rotation && c.require_customer_managed_key && c.enforce_at_create);
        assert_eq!(c.organization_accounts.unwrap(), ["111111111111"]);
    }

    #[test]
    fn empty_file_means_defaults() {
        let c = ControlsConfig::from_json("{}").unwrap();
        assert!(c.required_tags.is_empty() && c.name_pattern.is_none());
        assert!(!c.enforce_at_create && c.organization_accounts.is_none());
    }

    #[test]
    fn refusals() {
        let e = ControlsConfig::from_json(r#"{"required_tag":["x"]}"#).unwrap_err();
        assert!(
            e.to_string().contains("unknown field `required_tag`"),
            "{e}"
        );
        assert!(matches!(
            ControlsConfig::from_json(r#"{"name_pattern":"("}"#),
            Err(ControlsConfigError::BadPattern(_))
        ));
        let long = format!(r#"{{"name_pattern":"{}"}}"#, "a".repeat(1025));
        assert_eq!(
            ControlsConfig::from_json(&long).unwrap_err(),
            ControlsConfigError::PatternTooLong(1025)
        );
        assert!(
            ControlsConfig::from_json(&format!(r#"{{"name_pattern":"{}"}}"#, "a".repeat(1024)))
                .is_ok()
        );
        assert_eq!(
            ControlsConfig::from_json(r#"{"organization_accounts":["12345"]}"#).unwrap_err(),
            ControlsConfigError::BadAccount("12345".into())
        );
        assert_eq!(
            ControlsConfig::from_json(r#"{"required_tags":[""]}"#).unwrap_err(),
            ControlsConfigError::BadTagKey(String::new())
        );
        assert_eq!(
            ControlsConfig::from_json(r#"{"max_days_unused":0}"#).unwrap_err(),
            ControlsConfigError::BadMaxDays
        );
        assert!(matches!(
            ControlsConfig::from_json(r#"{"require_rotation":"yes"}"#),
            Err(ControlsConfigError::Json(_))
        ));
    }
}
