//! IAM entities as the store persists them (serde JSON), their ARNs and unique IDs,
//! and AWS's validation rules and quotas.
//!
//! Group membership is recorded on the [`User`] only (`User::groups`): one write per
//! AddUserToGroup/RemoveUserFromGroup and no two-sided invariant to keep; `GetGroup`
//! lists members by scanning users (or a store index derived from `User::groups`).
//! Names are unique case-insensitively: stores key entities by [`name_key`].

mod ids;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) use ids::random_base32_id;
pub use ids::{
    IamArn, IamArnKind, assumed_role_arn, aws_managed_policy_arn, group_arn, name_key,
    new_unique_id, parse_iam_arn, policy_arn, role_arn, user_arn,
};
pub use validate::*;

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    /// Tag key (1–128 characters, case-insensitively unique per entity).
    pub key: String,
    /// Tag value (0–256 characters).
    pub value: String,
}

impl Tag {
    /// A tag from key and value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// User name as created (case preserved).
    pub name: String,
    /// Path, `/` by default.
    pub path: String,
    /// `AIDA…` unique ID.
    pub user_id: String,
    /// `arn:aws:iam::{account}:user{path}{name}`.
    pub arn: String,
    /// Creation time, epoch ms.
    pub created_ms: i64,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Inline policies: name → JSON document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs, in attach order.
    #[serde(default)]
    pub attached: Vec<String>,
    /// Permissions boundary policy ARN.
    #[serde(default)]
    pub boundary: Option<String>,
    /// Names of the groups the user belongs to (the only record of membership).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An IAM group. Members are not stored here; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Group name as created.
    pub name: String,
    /// Path, `/` by default.
    pub path: String,
    /// `AGPA…` unique ID.
    pub group_id: String,
    /// `arn:aws:iam::{account}:group{path}{name}`.
    pub arn: String,
    /// Creation time, epoch ms.
    pub created_ms: i64,
    /// Inline policies: name → JSON document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    #[serde(default)]
    pub attached: Vec<String>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Role name as created.
    pub name: String,
    /// Path, `/` by default.
    pub path: String,
    /// `AROA…` unique ID.
    pub role_id: String,
    /// `arn:aws:iam::{account}:role{path}{name}`.
    pub arn: String,
    /// Creation time, epoch ms.
    pub created_ms: i64,
    /// The trust (assume-role) policy document, JSON.
    pub trust_policy: String,
    /// Description (≤ 1000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Longest session AssumeRole may grant, 3600–43200 s.
    #[serde(default = "default_max_session")]
    pub max_session_duration_s: u32,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Inline policies: name → JSON document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    #[serde(default)]
    pub attached: Vec<String>,
    /// Permissions boundary policy ARN.
    #[serde(default)]
    pub boundary: Option<String>,
}

fn default_max_session() -> u32 {
    DEFAULT_MAX_SESSION_DURATION_S
}

/// A managed policy (customer- or AWS-managed). Only one version is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// Policy name.
    pub name: String,
    /// Path, `/` by default.
    pub path: String,
    /// `ANPA…` unique ID.
    pub policy_id: String,
    /// `arn:aws:iam::{account}:policy{path}{name}` (`aws` as account when AWS-managed).
    pub arn: String,
    /// Default version ID, `v1`.
    pub default_version_id: String,
    /// The JSON document of the default version.
    pub document: String,
    /// Creation time, epoch ms.
    pub created_ms: i64,
    /// Last update time, epoch ms.
    pub updated_ms: i64,
    /// Number of users, groups and roles it is attached to.
    #[serde(default)]
    pub attachment_count: u32,
    /// Description (≤ 1000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// `true` for the built-in policies of [`crate::managed`].
    #[serde(default)]
    pub is_aws_managed: bool,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}
