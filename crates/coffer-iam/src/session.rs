//! STS temporary credentials: the claims a session token carries, key generators and
//! session-tag / packed-policy checks. Sealing the serialized claims into the opaque
//! `SessionToken` is the caller's job (with its root-derived key).

use rand::Rng;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::IamError;
use crate::model::{MAX_TAG_KEY, MAX_TAG_VALUE, MAX_TAGS, policy_size, validate_policy_document};

/// Version byte of the serialized claims; [`SessionClaims::from_bytes`] rejects others.
pub const SESSION_FORMAT_VERSION: u8 = 1;
/// Longest inline session policy (`sessionPolicyDocumentType`, characters).
pub const MAX_SESSION_POLICY: usize = 2048;
/// Most managed session policies (`PolicyArns`).
pub const MAX_SESSION_POLICY_ARNS: usize = 10;
/// Coffer's stand-in for AWS's packed-policy limit, which AWS applies to a compressed
/// binary form it does not document. We count the inline session policy's
/// non-whitespace characters plus the lengths of the policy ARNs and of every session
/// tag key and value; more than this is `PackedPolicyTooLarge`.
pub const PACKED_POLICY_LIMIT: usize = 4096;

/// What created the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    /// `AssumeRole`: principal is the assumed-role ARN.
    AssumedRole,
    /// `GetSessionToken`: principal is the calling user.
    SessionToken,
    /// `AssumeRoleWithWebIdentity`: principal is the assumed-role ARN.
    WebIdentity,
}

/// A secret access key: zeroized on drop, `Debug` redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretAccessKey(String);

impl SecretAccessKey {
    /// Wraps an existing secret.
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret text (to return it once to the client, or derive signing keys).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretAccessKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretAccessKey(<redacted>)")
    }
}

/// Everything a session token stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Format version, [`SESSION_FORMAT_VERSION`].
    #[serde(rename = "v")]
    pub version: u8,
    /// `ASIA…`, 20 characters.
    #[serde(rename = "ak")]
    pub access_key_id: String,
    /// 40-character secret.
    #[serde(rename = "sk")]
    pub secret_access_key: SecretAccessKey,
    /// Account of the principal.
    #[serde(rename = "acct")]
    pub account_id: String,
    /// Assumed-role ARN, or the user ARN for `GetSessionToken`.
    #[serde(rename = "p")]
    pub principal_arn: String,
    /// The role's ARN for role sessions.
    #[serde(rename = "ra", default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The role's `AROA…` ID for role sessions.
    #[serde(rename = "rid", default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// `RoleSessionName` for role sessions.
    #[serde(rename = "sn", default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// `aws:userid`: `AROA…:session` for roles, the user's `AIDA…` ID otherwise.
    #[serde(rename = "uid")]
    pub user_id: String,
    /// `SourceIdentity`, if set.
    #[serde(rename = "si", default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Expiry, epoch ms.
    #[serde(rename = "exp")]
    pub expires_ms: i64,
    /// Issue time, epoch ms.
    #[serde(rename = "iat")]
    pub issued_ms: i64,
    /// Session tags (`aws:PrincipalTag/…` during the session).
    #[serde(rename = "tags", default, skip_serializing_if = "Vec::is_empty")]
    pub session_tags: Vec<(String, String)>,
    /// Session tag keys that pass on to role-chained sessions.
    #[serde(rename = "tt", default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    /// Inline session policy (JSON).
    #[serde(rename = "pol", default, skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<String>,
    /// Managed session policy ARNs.
    #[serde(rename = "pa", default, skip_serializing_if = "Vec::is_empty")]
    pub session_policy_arns: Vec<String>,
    /// What created the session.
    #[serde(rename = "k")]
    pub kind: SessionKind,
}

/// Serialized claims could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Not valid claims JSON.
    #[error("malformed session claims")]
    Malformed,
    /// Written by an unknown format version.
    #[error("unsupported session claims version {0}")]
    UnsupportedVersion(u8),
}

impl SessionClaims {
    /// Compact JSON bytes (zeroized on drop: they contain the secret).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        // Serializing plain strings, numbers and vectors into a Vec cannot fail.
        Zeroizing::new(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses [`SessionClaims::to_bytes`] output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionError> {
        let c: Self = serde_json::from_slice(bytes).map_err(|_| SessionError::Malformed)?;
        if c.version != SESSION_FORMAT_VERSION {
            return Err(SessionError::UnsupportedVersion(c.version));
        }
        Ok(c)
    }

    /// `true` once `now_ms` reaches the expiry.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_ms
    }
}

/// `aws:userid` of a role session: `{role id}:{session name}`.
pub fn role_session_user_id(role_id: &str, session_name: &str) -> String {
    format!("{role_id}:{session_name}")
}

/// A temporary access key ID: `ASIA` + 16 base32 characters.
pub fn new_temporary_access_key_id() -> String {
    crate::model::random_base32_id("ASIA", 16)
}

/// A 40-character secret access key over `[A-Za-z0-9+/]` (240 bits).
pub fn new_secret_access_key() -> SecretAccessKey {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = OsRng;
    SecretAccessKey(
        (0..40)
            .map(|_| ALPHABET[rng.gen_range(0..64)] as char)
            .collect(),
    )
}

/// Session tags of one request: ≤ 50, keys 1–128, values ≤ 256, keys unique
/// case-insensitively; transitive keys must name session tags.
pub fn validate_session_tags(
    tags: &[(String, String)],
    transitive_tag_keys: &[String],
) -> Result<(), IamError> {
    if tags.len() > MAX_TAGS || transitive_tag_keys.len() > MAX_TAGS {
        return Err(IamError::constraint(
            "Tags",
            None,
            &format!("have length less than or equal to {MAX_TAGS}"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, v) in tags {
        let (kn, vn) = (k.chars().count(), v.chars().count());
        if kn == 0 || kn > MAX_TAG_KEY {
            return Err(IamError::constraint(
                "Tags.member.Key",
                Some(k),
                &format!("have length less than or equal to {MAX_TAG_KEY}"),
            ));
        }
        if vn > MAX_TAG_VALUE {
            return Err(IamError::constraint(
                "Tags.member.Value",
                Some(v),
                &format!("have length less than or equal to {MAX_TAG_VALUE}"),
            ));
        }
        if !seen.insert(k.to_lowercase()) {
            return Err(IamError::InvalidParameterValue(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
    }
    for t in transitive_tag_keys {
        if !seen.contains(&t.to_lowercase()) {
            return Err(IamError::InvalidParameterValue(format!(
                "The specified transitive tag key must be included in the requested tags: {t}"
            )));
        }
    }
    Ok(())
}

/// Checks the inline session policy (characters, ≤ 2048), the number of policy ARNs,
/// and the packed size of policies plus tags against [`PACKED_POLICY_LIMIT`].
pub fn check_session_policies(
    session_policy: Option<&str>,
    policy_arns: &[String],
    tags: &[(String, String)],
) -> Result<(), IamError> {
    if let Some(p) = session_policy {
        validate_policy_document("Policy", p)?;
        if p.chars().count() > MAX_SESSION_POLICY {
            return Err(IamError::constraint(
                "Policy",
                None,
                &format!("have length less than or equal to {MAX_SESSION_POLICY}"),
            ));
        }
    }
    if policy_arns.len() > MAX_SESSION_POLICY_ARNS {
        return Err(IamError::constraint(
            "PolicyArns",
            None,
            &format!("have length less than or equal to {MAX_SESSION_POLICY_ARNS}"),
        ));
    }
    let packed = session_policy.map_or(0, policy_size)
        + policy_arns.iter().map(String::len).sum::<usize>()
        + tags.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    if packed > PACKED_POLICY_LIMIT {
        let pct = packed * 100 / PACKED_POLICY_LIMIT;
        return Err(IamError::PackedPolicyTooLarge(format!(
            "Packed policy consumes {pct}% of allotted space, please use smaller policy."
        )));
    }
    Ok(())
}
