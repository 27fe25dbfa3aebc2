//! ARNs, unique IDs and case-insensitive name keys.

use rand::Rng;
use rand::rngs::OsRng;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new IAM unique ID: `prefix` (`AIDA`, `AGPA`, `AROA`, `ANPA`, …) followed by 17
/// random base32 characters (21 in total, like AWS's).
pub fn new_unique_id(prefix: &str) -> String {
    random_base32_id(prefix, 17)
}

pub(crate) fn random_base32_id(prefix: &str, n: usize) -> String {
    let mut rng = OsRng;
    let mut s = String::with_capacity(prefix.len() + n);
    s.push_str(prefix);
    for _ in 0..n {
        s.push(BASE32[rng.gen_range(0..32)] as char);
    }
    s
}

/// The store key of a user, group, role or policy name: IAM names are unique
/// case-insensitively (`ADMINS` and `admins` collide). Names are ASCII, so ASCII
/// lowercasing suffices.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn iam_arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

/// `arn:aws:iam::{account}:user{path}{name}`; an empty path means `/`.
pub fn user_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "user", path, name)
}

/// `arn:aws:iam::{account}:group{path}{name}`.
pub fn group_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "group", path, name)
}

/// `arn:aws:iam::{account}:role{path}{name}`.
pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "role", path, name)
}

/// `arn:aws:iam::{account}:policy{path}{name}`.
pub fn policy_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "policy", path, name)
}

/// `arn:aws:iam::aws:policy{path}{name}`.
pub fn aws_managed_policy_arn(path: &str, name: &str) -> String {
    iam_arn("aws", "policy", path, name)
}

/// `arn:aws:sts::{account}:assumed-role/{role name}/{session name}` (no role path, as AWS).
pub fn assumed_role_arn(account: &str, role_name: &str, session_name: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
}

/// The resource type of an IAM ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IamArnKind {
    /// `user`
    User,
    /// `group`
    Group,
    /// `role`
    Role,
    /// `policy`
    Policy,
}

/// A parsed `arn:aws:iam::{account}:{kind}{path}{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamArn<'a> {
    /// Account ID, or `aws` for AWS-managed policies.
    pub account: &'a str,
    /// Resource type.
    pub kind: IamArnKind,
    /// Path including both slashes (`/` or `/a/b/`).
    pub path: &'a str,
    /// Entity name.
    pub name: &'a str,
}

/// Splits an IAM user/group/role/policy ARN (partition `aws` only); `None` if it is not one.
pub fn parse_iam_arn(arn: &str) -> Option<IamArn<'_>> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let (kind, tail) = [
        ("user", IamArnKind::User),
        ("group", IamArnKind::Group),
        ("role", IamArnKind::Role),
        ("policy", IamArnKind::Policy),
    ]
    .into_iter()
    .find_map(|(p, k)| resource.strip_prefix(p).map(|t| (k, t)))?;
    if !tail.starts_with('/') || account.is_empty() {
        return None;
    }
    let cut = tail.rfind('/')?;
    let (path, name) = (&tail[..=cut], &tail[cut + 1..]);
    if name.is_empty() {
        return None;
    }
    Some(IamArn {
        account,
        kind,
        path,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_arns() {
        let id = new_unique_id("AIDA");
        assert_eq!(id.len(), 21);
        assert!(id[4..].bytes().all(|b| BASE32.contains(&b)));
        assert_eq!(user_arn("123", "", "bob"), "arn:aws:iam::123:user/bob");
        assert_eq!(role_arn("123", "/x/y/", "r"), "arn:aws:iam::123:role/x/y/r");
        let p = parse_iam_arn("arn:aws:iam::123:role/x/y/r").unwrap();
        assert_eq!(
            (p.account, p.kind, p.path, p.name),
            ("123", IamArnKind::Role, "/x/y/", "r")
        );
        assert!(parse_iam_arn("arn:aws:iam::123:roles/r").is_none());
        assert!(parse_iam_arn("arn:aws:iam::123:role/").is_none());
        assert_eq!(
            assumed_role_arn("1", "r", "s"),
            "arn:aws:sts::1:assumed-role/r/s"
        );
    }
}
