//! Input limits of the Secrets Manager API, as botocore's model states them.
//!
//! Every check returns [`CoreError::InvalidParameter`] on failure. Messages name the
//! field and the rule, in AWS's `failed to satisfy constraint` wording where AWS has no
//! more specific text; they never repeat a value (secret values above all).
//! Lengths of strings are counted in characters, except the secret value, whose limit is
//! in bytes (UTF-8) as AWS counts it.

use std::collections::HashSet;

use crate::{CoreError, Tag};

/// Longest secret name.
pub const MAX_NAME_LEN: usize = 512;
/// Longest `SecretId` (name or ARN).
pub const MAX_SECRET_ID_LEN: usize = 2048;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 2048;
/// Shortest `ClientRequestToken` / `VersionId`.
pub const MIN_TOKEN_LEN: usize = 32;
/// Longest `ClientRequestToken` / `VersionId`.
pub const MAX_TOKEN_LEN: usize = 64;
/// Longest staging label.
pub const MAX_STAGE_LEN: usize = 256;
/// Most staging labels in one list (and on one version).
pub const MAX_STAGES: usize = 20;
/// Largest `SecretString` (UTF-8 bytes) or `SecretBinary`.
pub const MAX_SECRET_VALUE_BYTES: usize = 65536;
/// Most tags on one secret, and in one request.
pub const MAX_TAGS: usize = 50;
/// Longest tag key.
pub const MAX_TAG_KEY_LEN: usize = 128;
/// Longest tag value.
pub const MAX_TAG_VALUE_LEN: usize = 256;
/// Shortest recovery window.
pub const MIN_RECOVERY_WINDOW_DAYS: i64 = 7;
/// Longest recovery window.
pub const MAX_RECOVERY_WINDOW_DAYS: i64 = 30;
/// Longest `KmsKeyId`.
pub const MAX_KMS_KEY_ID_LEN: usize = 2048;

/// AWS's message for a name with characters outside the allowed set.
const INVALID_NAME: &str = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";

/// `1 validation error detected: Value at '<field>' failed to satisfy constraint: <rule>`.
fn constraint(field: &str, rule: impl std::fmt::Display) -> CoreError {
    CoreError::param(format!(
        "1 validation error detected: Value at '{field}' failed to satisfy constraint: {rule}"
    ))
}

/// Checks `len` against `min..=max`, with AWS's wording for each side.
fn length(field: &str, len: usize, min: usize, max: usize) -> Result<(), CoreError> {
    if len < min {
        return Err(constraint(
            field,
            format_args!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(constraint(
            field,
            format_args!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// A secret's friendly name: 1–512 ASCII letters, digits and `/_+=.@-`.
///
/// A name ending in a hyphen and six characters is allowed (AWS only advises against it).
pub fn secret_name(name: &str) -> Result<(), CoreError> {
    length("name", char_len(name), 1, MAX_NAME_LEN)?;
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CoreError::param(INVALID_NAME))
    }
}

/// A `SecretId` (name, full ARN or partial ARN): 1–2048 characters.
pub fn secret_id(id: &str) -> Result<(), CoreError> {
    length("secretId", char_len(id), 1, MAX_SECRET_ID_LEN)
}

/// A description: at most 2048 characters.
pub fn description(description: &str) -> Result<(), CoreError> {
    length("description", char_len(description), 0, MAX_DESCRIPTION_LEN)
}

/// Printable ASCII without whitespace.
fn printable_token(field: &str, token: &str) -> Result<(), CoreError> {
    length(field, char_len(token), MIN_TOKEN_LEN, MAX_TOKEN_LEN)?;
    if token.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(constraint(
            field,
            "Member must contain only printable ASCII characters without whitespace",
        ))
    }
}

/// A `ClientRequestToken`: 32–64 printable ASCII characters, no whitespace.
pub fn client_request_token(token: &str) -> Result<(), CoreError> {
    printable_token("clientRequestToken", token)
}

/// A `VersionId`: same rules as a `ClientRequestToken` (the token becomes the id).
pub fn version_id(id: &str) -> Result<(), CoreError> {
    printable_token("versionId", id)
}

/// One staging label: 1–256 characters.
pub fn version_stage(stage: &str) -> Result<(), CoreError> {
    length("versionStage", char_len(stage), 1, MAX_STAGE_LEN)
}

/// A list of staging labels: 1–20 valid labels, no duplicates.
pub fn version_stages(stages: &[String]) -> Result<(), CoreError> {
    if stages.is_empty() {
        return Err(constraint(
            "versionStages",
            "Member must have length greater than or equal to 1",
        ));
    }
    if stages.len() > MAX_STAGES {
        return Err(constraint(
            "versionStages",
            format_args!("Member must have length less than or equal to {MAX_STAGES}"),
        ));
    }
    let mut seen = HashSet::with_capacity(stages.len());
    for stage in stages {
        version_stage(stage)?;
        if !seen.insert(stage.as_str()) {
            return Err(CoreError::param(
                "The list of staging labels must not contain duplicates.",
            ));
        }
    }
    Ok(())
}

/// A `SecretString`: 1–65536 bytes of UTF-8. The message never includes the value.
pub fn secret_string(value: &str) -> Result<(), CoreError> {
    length("secretString", value.len(), 1, MAX_SECRET_VALUE_BYTES)
}

/// A `SecretBinary`: 1–65536 bytes. The message never includes the value.
pub fn secret_binary(value: &[u8]) -> Result<(), CoreError> {
    length("secretBinary", value.len(), 1, MAX_SECRET_VALUE_BYTES)
}

/// A character AWS allows in tag keys and values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        // \p{Z}: space, line and paragraph separators — whitespace that is not a control.
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

fn tag_key(key: &str) -> Result<(), CoreError> {
    length("tags.member.key", char_len(key), 1, MAX_TAG_KEY_LEN)?;
    if !key.chars().all(tag_char) {
        return Err(constraint(
            "tags.member.key",
            r"Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
        ));
    }
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(CoreError::param(
            "Tag keys beginning with 'aws:' are reserved for AWS use.",
        ));
    }
    Ok(())
}

fn tag_value(value: &str) -> Result<(), CoreError> {
    length("tags.member.value", char_len(value), 0, MAX_TAG_VALUE_LEN)?;
    if !value.chars().all(tag_char) {
        return Err(constraint(
            "tags.member.value",
            r"Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
        ));
    }
    Ok(())
}

/// The tags of one `CreateSecret` or `TagResource` request: at most 50, keys 1–128 and
/// values 0–256 characters of letters, digits, whitespace and `_.:/=+-@`, no key twice,
/// no key beginning with `aws:` (any case).
///
/// For `TagResource`, also check the merged total with [`tag_count`].
pub fn tags(tags: &[Tag]) -> Result<(), CoreError> {
    tag_count(tags.len())?;
    let mut seen = HashSet::with_capacity(tags.len());
    for tag in tags {
        tag_key(&tag.key)?;
        tag_value(&tag.value)?;
        if !seen.insert(tag.key.as_str()) {
            return Err(CoreError::param(
                "Duplicate tag keys are not allowed in one request.",
            ));
        }
    }
    Ok(())
}

/// The number of tags a secret would carry (or a request holds): at most 50.
pub fn tag_count(total: usize) -> Result<(), CoreError> {
    if total > MAX_TAGS {
        return Err(CoreError::param(format!(
            "Number of tags exceeds the limit of {MAX_TAGS}."
        )));
    }
    Ok(())
}

/// The keys of one `UntagResource` request: at most 50, each 1–128 characters.
pub fn tag_keys(keys: &[String]) -> Result<(), CoreError> {
    if keys.len() > MAX_TAGS {
        return Err(constraint(
            "tagKeys",
            format_args!("Member must have length less than or equal to {MAX_TAGS}"),
        ));
    }
    for key in keys {
        length("tagKeys.member", char_len(key), 1, MAX_TAG_KEY_LEN)?;
    }
    Ok(())
}

/// `RecoveryWindowInDays`: 7–30.
pub fn recovery_window_days(days: i64) -> Result<(), CoreError> {
    if (MIN_RECOVERY_WINDOW_DAYS..=MAX_RECOVERY_WINDOW_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(CoreError::param(
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
        ))
    }
}

/// `MaxResults`: 1–`max` (100 for list operations, 20 for `BatchGetSecretValue`).
pub fn max_results(value: i64, max: i64) -> Result<(), CoreError> {
    if value < 1 {
        return Err(constraint(
            "maxResults",
            "Member must have value greater than or equal to 1",
        ));
    }
    if value > max {
        return Err(constraint(
            "maxResults",
            format_args!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// A `KmsKeyId` (key id, key ARN, alias name or alias ARN): at most 2048 characters.
pub fn kms_key_id(id: &str) -> Result<(), CoreError> {
    length("kmsKeyId", char_len(id), 0, MAX_KMS_KEY_ID_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(r: Result<(), CoreError>) {
        assert_eq!(r, Ok(()));
    }
    fn bad(r: Result<(), CoreError>) -> String {
        match r {
            Err(CoreError::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }
    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.to_string(),
            value: v.to_string(),
        }
    }

    #[test]
    fn secret_name_bounds_and_chars() {
        bad(secret_name(""));
        ok(secret_name("a"));
        ok(secret_name(&"a".repeat(512)));
        assert!(bad(secret_name(&"a".repeat(513))).contains("less than or equal to 512"));
        ok(secret_name("prod/db_main+x=y.z@corp-1"));
        ok(secret_name("MySecret-abcdef")); // hyphen + six chars: allowed
        for n in ["has space", "é", "a!b", "a*b", "a:b", "a#"] {
            assert_eq!(bad(secret_name(n)), INVALID_NAME, "{n}");
        }
    }

    #[test]
    fn secret_id_bounds() {
        bad(secret_id(""));
        ok(secret_id("x"));
        ok(secret_id(&"x".repeat(2048)));
        bad(secret_id(&"x".repeat(2049)));
    }

    #[test]
    fn description_bounds() {
        ok(description(""));
        ok(description(&"é".repeat(2048))); // characters, not bytes
        bad(description(&"d".repeat(2049)));
    }

    #[test]
    fn token_and_version_id_bounds() {
        for f in [client_request_token, version_id] {
            bad(f(&"t".repeat(31)));
            ok(f(&"t".repeat(32)));
            ok(f(&"t".repeat(64)));
            bad(f(&"t".repeat(65)));
            ok(f("EXAMPLE1-90ab-cdef-fedc-ba987SECRET1"));
            bad(f(&format!("{} ", "t".repeat(40))));
            bad(f(&format!("{}\t", "t".repeat(40))));
            bad(f(&format!("{}é", "t".repeat(40))));
        }
        assert!(bad(client_request_token("short")).contains("'clientRequestToken'"));
        assert!(bad(version_id("short")).contains("'versionId'"));
    }

    #[test]
    fn version_stage_bounds() {
        bad(version_stage(""));
        ok(version_stage("A"));
        ok(version_stage(&"s".repeat(256)));
        bad(version_stage(&"s".repeat(257)));
    }

    #[test]
    fn version_stages_bounds() {
        let n = |k: usize| (0..k).map(|i| format!("L{i}")).collect::<Vec<_>>();
        bad(version_stages(&[]));
        ok(version_stages(&n(1)));
        ok(version_stages(&n(20)));
        bad(version_stages(&n(21)));
        bad(version_stages(&["A".into(), "A".into()]));
        bad(version_stages(&["A".into(), String::new()]));
    }

    #[test]
    fn secret_value_bounds_never_echo() {
        bad(secret_string(""));
        ok(secret_string("s"));
        ok(secret_string(&"s".repeat(65536)));
        let big = "hunter2".repeat(10000);
        let m = bad(secret_string(&big));
        assert!(!m.contains("hunter2"));
        // UTF-8 bytes, not characters: 32768 two-byte chars = 65536 bytes.
        ok(secret_string(&"é".repeat(32768)));
        bad(secret_string(&"é".repeat(32769)));

        bad(secret_binary(&[]));
        ok(secret_binary(&[0]));
        ok(secret_binary(&[0; 65536]));
        bad(secret_binary(&[0; 65537]));
    }

    #[test]
    fn tag_list_rules() {
        ok(tags(&[]));
        let many = |k: usize| {
            (0..k)
                .map(|i| tag(&format!("k{i}"), "v"))
                .collect::<Vec<_>>()
        };
        ok(tags(&many(50)));
        assert_eq!(
            bad(tags(&many(51))),
            "Number of tags exceeds the limit of 50."
        );
        // Key length.
        bad(tags(&[tag("", "v")]));
        ok(tags(&[tag("k", "v")]));
        ok(tags(&[tag(&"k".repeat(128), "v")]));
        bad(tags(&[tag(&"k".repeat(129), "v")]));
        // Value length.
        ok(tags(&[tag("k", "")]));
        ok(tags(&[tag("k", &"v".repeat(256))]));
        bad(tags(&[tag("k", &"v".repeat(257))]));
        // Characters.
        ok(tags(&[tag(
            "Cost Center_1.a:b/c=d+e-f@g",
            "Ünïcødé 名前 ٣",
        )]));
        bad(tags(&[tag("a*b", "v")]));
        bad(tags(&[tag("k", "a#b")]));
        bad(tags(&[tag("k", "tab\there")]));
        // Duplicates (case-sensitive keys).
        bad(tags(&[tag("k", "1"), tag("k", "2")]));
        ok(tags(&[tag("k", "1"), tag("K", "2")]));
        // Reserved prefix.
        for k in ["aws:x", "AWS:x", "Aws:", "aWs:cloudformation:stack"] {
            assert!(bad(tags(&[tag(k, "v")])).contains("reserved"), "{k}");
        }
        ok(tags(&[tag("aws", "v")]));
        ok(tags(&[tag("awsx:y", "v")]));
        ok(tags(&[tag("é:aws:", "v")]));
    }

    #[test]
    fn tag_count_bounds() {
        ok(tag_count(0));
        ok(tag_count(49));
        ok(tag_count(50));
        bad(tag_count(51));
    }

    #[test]
    fn tag_keys_bounds() {
        ok(tag_keys(&[]));
        let keys = |k: usize| (0..k).map(|i| format!("k{i}")).collect::<Vec<_>>();
        ok(tag_keys(&keys(50)));
        bad(tag_keys(&keys(51)));
        bad(tag_keys(&[String::new()]));
        ok(tag_keys(&["k".into()]));
        ok(tag_keys(&["k".repeat(128)]));
        bad(tag_keys(&["k".repeat(129)]));
    }

    #[test]
    fn recovery_window_bounds() {
        let msg = "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).";
        assert_eq!(bad(recovery_window_days(6)), msg);
        ok(recovery_window_days(7));
        ok(recovery_window_days(30));
        assert_eq!(bad(recovery_window_days(31)), msg);
        bad(recovery_window_days(-7));
        bad(recovery_window_days(0));
    }

    #[test]
    fn max_results_bounds() {
        bad(max_results(0, 100));
        ok(max_results(1, 100));
        ok(max_results(100, 100));
        bad(max_results(101, 100));
        ok(max_results(20, 20));
        bad(max_results(21, 20));
        bad(max_results(i64::MIN, 100));
    }

    #[test]
    fn kms_key_id_bounds() {
        ok(kms_key_id(""));
        ok(kms_key_id(&"k".repeat(2048)));
        bad(kms_key_id(&"k".repeat(2049)));
    }
}
