//! AWS's validation rules and quotas for IAM names, paths, tags, policies and STS
//! parameters. Patterns and lengths are from `iam.service-2.json` / `sts.service-2.json`;
//! quotas from the IAM User Guide "IAM and AWS STS quotas" (policy sizes are counted in
//! non-whitespace characters).

use super::Tag;
use crate::error::IamError;

/// Longest user name.
pub const MAX_USER_NAME: usize = 64;
/// Longest group name.
pub const MAX_GROUP_NAME: usize = 128;
/// Longest role name.
pub const MAX_ROLE_NAME: usize = 64;
/// Longest policy name (managed and inline).
pub const MAX_POLICY_NAME: usize = 128;
/// Longest path.
pub const MAX_PATH: usize = 512;
/// Most tags per entity or request.
pub const MAX_TAGS: usize = 50;
/// Longest tag key.
pub const MAX_TAG_KEY: usize = 128;
/// Longest tag value.
pub const MAX_TAG_VALUE: usize = 256;
/// Longest role/policy description.
pub const MAX_DESCRIPTION: usize = 1000;
/// Aggregate inline policy size per user.
pub const USER_INLINE_QUOTA: usize = 2048;
/// Aggregate inline policy size per group.
pub const GROUP_INLINE_QUOTA: usize = 5120;
/// Aggregate inline policy size per role.
pub const ROLE_INLINE_QUOTA: usize = 10240;
/// Managed policy document size.
pub const MANAGED_POLICY_QUOTA: usize = 6144;
/// Role trust policy size (AWS default quota; adjustable there up to 4096).
pub const TRUST_POLICY_QUOTA: usize = 2048;
/// Managed policies attachable to one user, group or role (AWS default quota).
pub const MAX_ATTACHED_POLICIES: usize = 10;
/// Groups one user can belong to.
pub const MAX_GROUPS_PER_USER: usize = 10;
/// Default `MaxSessionDuration` of a role.
pub const DEFAULT_MAX_SESSION_DURATION_S: u32 = 3600;
/// Bounds of a role's `MaxSessionDuration`.
pub const MAX_SESSION_DURATION_RANGE: (u32, u32) = (3600, 43200);
/// Bounds of STS `DurationSeconds` (AssumeRole*; further capped by the role's maximum).
pub const DURATION_SECONDS_RANGE: (i64, i64) = (900, 43200);
/// Longest raw policy document the API accepts (before quotas).
pub const MAX_POLICY_DOCUMENT: usize = 131_072;

const NAME_PATTERN: &str = "satisfy regular expression pattern: [\\w+=,.@-]+";

/// Which entity an inline policy belongs to (selects its aggregate quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// A user.
    User,
    /// A group.
    Group,
    /// A role.
    Role,
}

impl EntityKind {
    /// Aggregate inline policy quota, non-whitespace characters.
    pub fn inline_quota(self) -> usize {
        match self {
            Self::User => USER_INLINE_QUOTA,
            Self::Group => GROUP_INLINE_QUOTA,
            Self::Role => ROLE_INLINE_QUOTA,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), IamError> {
    let n = value.chars().count();
    if n < min {
        return Err(IamError::constraint(
            field,
            Some(value),
            &format!("have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(IamError::constraint(
            field,
            Some(value),
            &format!("have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

fn check_name(field: &str, value: &str, min: usize, max: usize) -> Result<(), IamError> {
    check_len(field, value, min, max)?;
    if !value.chars().all(is_name_char) {
        return Err(IamError::constraint(field, Some(value), NAME_PATTERN));
    }
    Ok(())
}

/// `UserName`: `[\w+=,.@-]{1,64}`.
pub fn validate_user_name(name: &str) -> Result<(), IamError> {
    check_name("UserName", name, 1, MAX_USER_NAME)
}

/// `GroupName`: `[\w+=,.@-]{1,128}`.
pub fn validate_group_name(name: &str) -> Result<(), IamError> {
    check_name("GroupName", name, 1, MAX_GROUP_NAME)
}

/// `RoleName`: `[\w+=,.@-]{1,64}`.
pub fn validate_role_name(name: &str) -> Result<(), IamError> {
    check_name("RoleName", name, 1, MAX_ROLE_NAME)
}

/// `PolicyName`: `[\w+=,.@-]{1,128}`.
pub fn validate_policy_name(name: &str) -> Result<(), IamError> {
    check_name("PolicyName", name, 1, MAX_POLICY_NAME)
}

/// `Path`: `/` or `/…/` with printable ASCII (`!`–`~`) between, 1–512 characters.
pub fn validate_path(path: &str) -> Result<(), IamError> {
    check_len("Path", path, 1, MAX_PATH)?;
    let ok = path == "/"
        || (path.len() >= 3
            && path.starts_with('/')
            && path.ends_with('/')
            && path.bytes().all(|b| (0x21..=0x7E).contains(&b)));
    if !ok {
        return Err(IamError::constraint(
            "Path",
            Some(path),
            "satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(())
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, approximating `\p{L}`/`\p{N}` by Rust's alphabetic and
/// numeric classes and `\p{Z}` by Unicode whitespace other than controls.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// Tags of one request: ≤ 50, key 1–128 and value 0–256 of the tag character class,
/// no `aws:` prefix, no two keys equal case-insensitively.
pub fn validate_tags(tags: &[Tag]) -> Result<(), IamError> {
    if tags.len() > MAX_TAGS {
        return Err(IamError::constraint(
            "Tags",
            None,
            &format!("have length less than or equal to {MAX_TAGS}"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        check_len("Tags.member.Key", &t.key, 1, MAX_TAG_KEY)?;
        check_len("Tags.member.Value", &t.value, 0, MAX_TAG_VALUE)?;
        if !t.key.chars().all(is_tag_char) || !t.value.chars().all(is_tag_char) {
            return Err(IamError::constraint(
                "Tags.member",
                Some(&t.key),
                "satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
            ));
        }
        if t.key.len() >= 4 && t.key[..4].eq_ignore_ascii_case("aws:") {
            return Err(IamError::InvalidInput(
                "Tag keys starting with 'aws:' are reserved for AWS use.".into(),
            ));
        }
        if !seen.insert(t.key.to_lowercase()) {
            return Err(IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
    }
    Ok(())
}

/// TagUser/TagRole semantics: `new` tags replace existing ones with the same key
/// (case-insensitively, taking the new spelling); more than 50 in total is
/// `LimitExceeded`.
pub fn merge_tags(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, IamError> {
    validate_tags(new)?;
    let mut out: Vec<Tag> = existing
        .iter()
        .filter(|e| {
            !new.iter()
                .any(|n| n.key.to_lowercase() == e.key.to_lowercase())
        })
        .cloned()
        .collect();
    out.extend(new.iter().cloned());
    if out.len() > MAX_TAGS {
        return Err(IamError::LimitExceeded(format!(
            "The number of tags has reached the maximum limit of {MAX_TAGS}."
        )));
    }
    Ok(out)
}

/// UntagUser/UntagRole: removes the keys (case-insensitively).
pub fn remove_tags(existing: &[Tag], keys: &[&str]) -> Vec<Tag> {
    existing
        .iter()
        .filter(|e| {
            !keys
                .iter()
                .any(|k| k.to_lowercase() == e.key.to_lowercase())
        })
        .cloned()
        .collect()
}

/// Role/policy `Description`: ≤ 1000 characters of tab, LF, CR, U+0020–U+007E and
/// U+00A1–U+00FF (the role pattern; policies only limit the length).
pub fn validate_description(description: &str) -> Result<(), IamError> {
    check_len("Description", description, 0, MAX_DESCRIPTION)?;
    let ok = description
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}'));
    if !ok {
        return Err(IamError::constraint(
            "Description",
            Some(description),
            "satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
        ));
    }
    Ok(())
}

/// The characters a policy document may contain (tab, LF, CR, U+0020–U+00FF), 1–131072.
/// Grammar (JSON, `Version`, `Statement`, …) is checked by the policy engine, not here.
pub fn validate_policy_document(field: &str, document: &str) -> Result<(), IamError> {
    check_len(field, document, 1, MAX_POLICY_DOCUMENT)?;
    if !document
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}'))
    {
        return Err(IamError::constraint(
            field,
            None,
            "satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        ));
    }
    Ok(())
}

/// Size of a policy as IAM counts it: characters that are not whitespace.
pub fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// A managed policy document within its 6144-character quota.
pub fn check_managed_policy_size(document: &str) -> Result<(), IamError> {
    if policy_size(document) > MANAGED_POLICY_QUOTA {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {MANAGED_POLICY_QUOTA}"
        )));
    }
    Ok(())
}

/// A role trust policy within its 2048-character quota.
pub fn check_trust_policy_size(document: &str) -> Result<(), IamError> {
    if policy_size(document) > TRUST_POLICY_QUOTA {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}"
        )));
    }
    Ok(())
}

/// The aggregate of an entity's inline policies (after the change) within its quota.
pub fn check_inline_aggregate<'a>(
    kind: EntityKind,
    entity_name: &str,
    documents: impl IntoIterator<Item = &'a str>,
) -> Result<(), IamError> {
    let total: usize = documents.into_iter().map(policy_size).sum();
    let quota = kind.inline_quota();
    if total > quota {
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {quota} bytes exceeded for {} {entity_name}",
            kind.word()
        )));
    }
    Ok(())
}

/// `MaxSessionDuration` of a role: 3600–43200 seconds.
pub fn validate_max_session_duration(seconds: i64) -> Result<u32, IamError> {
    let (lo, hi) = MAX_SESSION_DURATION_RANGE;
    check_range("MaxSessionDuration", seconds, i64::from(lo), i64::from(hi))?;
    Ok(seconds as u32)
}

fn check_range(field: &str, v: i64, lo: i64, hi: i64) -> Result<(), IamError> {
    let bound = if v < lo {
        format!("have value greater than or equal to {lo}")
    } else if v > hi {
        format!("have value less than or equal to {hi}")
    } else {
        return Ok(());
    };
    Err(IamError::constraint(field, Some(&v.to_string()), &bound))
}

/// STS `RoleSessionName` (and `SourceIdentity`): `[\w+=,.@-]{2,64}`.
pub fn validate_session_name(field: &str, name: &str) -> Result<(), IamError> {
    check_name(field, name, 2, 64)
}

/// STS `DurationSeconds` for AssumeRole*: 900–43200 and at most the role's
/// `MaxSessionDuration`.
pub fn validate_duration_seconds(seconds: i64, role_max_s: u32) -> Result<u32, IamError> {
    let (lo, hi) = DURATION_SECONDS_RANGE;
    check_range("DurationSeconds", seconds, lo, hi)?;
    if seconds > i64::from(role_max_s) {
        return Err(IamError::ValidationError(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    Ok(seconds as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert!(validate_user_name("alice+ops@x.com").is_ok());
        assert!(validate_user_name("").is_err());
        assert!(validate_user_name("a b").is_err());
        assert!(validate_user_name(&"a".repeat(65)).is_err());
        assert!(validate_group_name(&"a".repeat(128)).is_ok());
        assert!(validate_path("/").is_ok());
        assert!(validate_path("/a/b/").is_ok());
        assert!(validate_path("//").is_err());
        assert!(validate_path("/a").is_err());
        assert!(validate_path("/a b/").is_err());
        let e = validate_user_name("a b").unwrap_err();
        assert_eq!(e.code(), "ValidationError");
        assert!(e.message().contains("at 'userName'"), "{}", e.message());
    }

    #[test]
    fn tags() {
        let t = |k: &str, v: &str| Tag::new(k, v);
        assert!(validate_tags(&[t("env", "prod"), t("team", "")]).is_ok());
        assert!(validate_tags(&[t("Env", "a"), t("env", "b")]).is_err());
        assert!(validate_tags(&[t("AWS:x", "a")]).is_err());
        assert!(validate_tags(&[t("", "a")]).is_err());
        assert!(validate_tags(&[t("k", &"v".repeat(257))]).is_err());
        let many: Vec<Tag> = (0..51).map(|i| t(&format!("k{i}"), "")).collect();
        assert!(validate_tags(&many).is_err());
        let merged = merge_tags(&[t("Env", "a"), t("x", "1")], &[t("env", "b")]).unwrap();
        assert_eq!(merged, vec![t("x", "1"), t("env", "b")]);
        assert_eq!(remove_tags(&merged, &["ENV"]), vec![t("x", "1")]);
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(policy_size("{ \"a\" :\n 1 }"), 7);
        let doc = format!("{{\"x\":\"{}\"}}", "a".repeat(2041));
        assert!(check_inline_aggregate(EntityKind::User, "u", [doc.as_str()]).is_err());
        assert!(check_inline_aggregate(EntityKind::Role, "r", [doc.as_str()]).is_ok());
        assert!(validate_policy_document("PolicyDocument", "{\u{100}}").is_err());
        assert_eq!(validate_duration_seconds(3600, 3600).unwrap(), 3600);
        assert!(validate_duration_seconds(899, 3600).is_err());
        assert!(validate_duration_seconds(7200, 3600).is_err());
        assert!(validate_max_session_duration(3599).is_err());
        assert!(validate_session_name("RoleSessionName", "a").is_err());
        assert!(validate_session_name("RoleSessionName", "ci-run@42").is_ok());
    }
}
