//! Rules: an event pattern and the targets that receive matching events, loaded from a
//! JSON file `{"rules": [...]}`:
//!
//! ```json
//! {"rules": [{
//!   "name": "deletions",
//!   "description": "page on any secret deletion",
//!   "event_pattern": {"source": ["coffer.secretsmanager"],
//!                     "detail-type": [{"prefix": "Secret Delet"}]},
//!   "targets": [
//!     {"type": "webhook", "url": "https://hooks.example.com/coffer", "secret": "…", "max_attempts": 5},
//!     {"type": "command", "argv": ["/usr/local/bin/page", "--team", "security"]},
//!     {"type": "log"}
//!   ]
//! }]}
//! ```
//!
//! `event_pattern` may be given as an object or as a string holding one; `enabled`
//! defaults to `true`, `max_attempts` to 5.

use crate::event::Event;
use crate::pattern::{Pattern, PatternError};
use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// Most rules in one rule set.
pub const MAX_RULES: usize = 100;
/// Most targets of one rule.
pub const MAX_TARGETS_PER_RULE: usize = 5;
/// Delivery attempts of a webhook target when the file does not say.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Largest accepted `max_attempts`.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique name, `[A-Za-z0-9._-]{1,64}`.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Disabled rules never match. Default `true`.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The EventBridge event pattern, as JSON text.
    #[serde(alias = "eventPattern", deserialize_with = "pattern_text")]
    pub event_pattern: String,
    /// Where matching events go.
    #[serde(default)]
    pub targets: Vec<Target>,
}

fn enabled_by_default() -> bool {
    true
}

fn default_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

fn pattern_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        v @ Value::Object(_) => Ok(v.to_string()),
        _ => Err(D::Error::custom(
            "event_pattern must be a JSON object or a string holding one",
        )),
    }
}

/// Where a matching event is delivered.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Target {
    /// POST the event JSON to `url`, signed with `secret` (see [`crate::sign()`]).
    Webhook {
        /// `http://` or `https://` URL.
        url: String,
        /// HMAC key; never printed.
        secret: WebhookSecret,
        /// Delivery attempts before giving up, 1..=[`MAX_ATTEMPTS_LIMIT`]; default
        /// [`DEFAULT_MAX_ATTEMPTS`].
        #[serde(default = "default_attempts", alias = "maxAttempts")]
        max_attempts: u32,
    },
    /// Run `argv` (no shell) with the event JSON on stdin.
    Command {
        /// Program and arguments; not empty.
        argv: Vec<String>,
    },
    /// Write the event to the server log.
    Log {},
}

/// A webhook's HMAC key. `Debug` does not show it; use [`WebhookSecret::expose`].
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps key text.
    pub fn new(secret: impl Into<String>) -> Self {
        WebhookSecret(secret.into())
    }

    /// The key text, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Why a rule file was refused. Targets are numbered from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Not JSON, or not the rule-file shape.
    #[error("rule file: {0}")]
    Json(String),
    /// More than [`MAX_RULES`] rules.
    #[error("{count} rules; at most {max} are allowed")]
    TooManyRules {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A name outside `[A-Za-z0-9._-]{1,64}`.
    #[error("rule name {name:?} must be 1 to 64 characters from A-Z a-z 0-9 . _ -")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// Two rules with one name.
    #[error("rule name {name:?} is used twice")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// The event pattern does not compile.
    #[error("rule {rule}: {error}")]
    Pattern {
        /// The rule.
        rule: String,
        /// Why.
        #[source]
        error: PatternError,
    },
    /// More than [`MAX_TARGETS_PER_RULE`] targets.
    #[error("rule {rule}: {count} targets; at most {max} are allowed")]
    TooManyTargets {
        /// The rule.
        rule: String,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A webhook URL that is not http(s) with a host (the URL is not echoed: it may
    /// carry credentials).
    #[error("rule {rule}, target {target}: webhook url must be http:// or https:// with a host")]
    InvalidUrl {
        /// The rule.
        rule: String,
        /// Index of the target.
        target: usize,
    },
    /// An empty webhook secret.
    #[error("rule {rule}, target {target}: webhook secret must not be empty")]
    EmptySecret {
        /// The rule.
        rule: String,
        /// Index of the target.
        target: usize,
    },
    /// `max_attempts` outside 1..=[`MAX_ATTEMPTS_LIMIT`].
    #[error("rule {rule}, target {target}: max_attempts {value} must be between 1 and {max}")]
    MaxAttempts {
        /// The rule.
        rule: String,
        /// Index of the target.
        target: usize,
        /// The value given.
        value: u32,
        /// The limit.
        max: u32,
    },
    /// A command target without a program.
    #[error("rule {rule}, target {target}: command argv must not be empty")]
    EmptyArgv {
        /// The rule.
        rule: String,
        /// Index of the target.
        target: usize,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<Rule>,
}

/// Validated rules with their patterns compiled once.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    entries: Vec<(Rule, Pattern)>,
}

impl RuleSet {
    /// Parses and validates a rule file `{"rules": [...]}`.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let file: RuleFile =
            serde_json::from_str(text).map_err(|e| RuleError::Json(e.to_string()))?;
        Self::new(file.rules)
    }

    /// Validates rules and compiles their patterns.
    pub fn new(rules: Vec<Rule>) -> Result<Self, RuleError> {
        if rules.len() > MAX_RULES {
            return Err(RuleError::TooManyRules {
                count: rules.len(),
                max: MAX_RULES,
            });
        }
        let mut names = HashSet::new();
        let mut entries = Vec::with_capacity(rules.len());
        for rule in rules {
            if !valid_name(&rule.name) {
                return Err(RuleError::InvalidName { name: rule.name });
            }
            if !names.insert(rule.name.clone()) {
                return Err(RuleError::DuplicateName { name: rule.name });
            }
            validate_targets(&rule)?;
            let pattern =
                Pattern::parse(&rule.event_pattern).map_err(|error| RuleError::Pattern {
                    rule: rule.name.clone(),
                    error,
                })?;
            entries.push((rule, pattern));
        }
        Ok(RuleSet { entries })
    }

    /// All rules, in file order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.entries.iter().map(|(r, _)| r)
    }

    /// The rule named `name`.
    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules().find(|r| r.name == name)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Enabled rules whose pattern matches the event's full JSON (envelope and detail,
    /// as in EventBridge), in file order.
    pub fn matching<'a>(&'a self, event: &Event) -> impl Iterator<Item = &'a Rule> + 'a {
        let value = event.to_value();
        self.entries
            .iter()
            .filter(move |(rule, pattern)| rule.enabled && pattern.matches(&value))
            .map(|(rule, _)| rule)
    }

    /// Like [`RuleSet::matching`] for an event already in JSON form.
    pub fn matching_value<'a>(&'a self, event: &'a Value) -> impl Iterator<Item = &'a Rule> + 'a {
        self.entries
            .iter()
            .filter(move |(rule, pattern)| rule.enabled && pattern.matches(event))
            .map(|(rule, _)| rule)
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn validate_targets(rule: &Rule) -> Result<(), RuleError> {
    let name = || rule.name.clone();
    if rule.targets.len() > MAX_TARGETS_PER_RULE {
        return Err(RuleError::TooManyTargets {
            rule: name(),
            count: rule.targets.len(),
            max: MAX_TARGETS_PER_RULE,
        });
    }
    for (target, t) in rule.targets.iter().enumerate() {
        match t {
            Target::Webhook {
                url,
                secret,
                max_attempts,
            } => {
                if !valid_url(url) {
                    return Err(RuleError::InvalidUrl {
                        rule: name(),
                        target,
                    });
                }
                if secret.expose().is_empty() {
                    return Err(RuleError::EmptySecret {
                        rule: name(),
                        target,
                    });
                }
                if !(1..=MAX_ATTEMPTS_LIMIT).contains(max_attempts) {
                    return Err(RuleError::MaxAttempts {
                        rule: name(),
                        target,
                        value: *max_attempts,
                        max: MAX_ATTEMPTS_LIMIT,
                    });
                }
            }
            Target::Command { argv } => {
                if argv.first().is_none_or(|p| p.is_empty()) {
                    return Err(RuleError::EmptyArgv {
                        rule: name(),
                        target,
                    });
                }
            }
            Target::Log {} => {}
        }
    }
    Ok(())
}

/// `http://` or `https://` (any case), a non-empty host (a name, an IPv4 address or a
/// bracketed IPv6 address), an optional numeric port, and no whitespace or control
/// characters anywhere.
fn valid_url(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((addr, "")) if addr.parse::<std::net::Ipv6Addr>().is_ok() => (addr, None),
            Some((addr, tail)) if addr.parse::<std::net::Ipv6Addr>().is_ok() => {
                match tail.strip_prefix(':') {
                    Some(port) => (addr, Some(port)),
                    None => return false,
                }
            }
            _ => return false,
        }
    } else {
        let (host, port) = match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        };
        let host_chars =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%');
        if !host.bytes().all(host_chars) {
            return false;
        }
        (host, port)
    };
    !host.is_empty()
        && port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok())
}

#[cfg(test)]
mod tests;
