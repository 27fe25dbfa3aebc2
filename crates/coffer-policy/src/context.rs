//! The request context: who asks, for which action on which resource, and condition keys.

use crate::variables::Vars;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: condition key names are short and trusted-shaped; SipHash is overkill here.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type KeyMap = HashMap<String, Vec<String>, BuildHasherDefault<Fnv>>;

/// The kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The account root user.
    Root,
    /// An IAM user.
    User,
    /// A session of an assumed role.
    AssumedRole,
    /// A federated user session (GetFederationToken).
    FederatedUser,
    /// An unauthenticated caller.
    Anonymous,
}

impl PrincipalKind {
    /// The value of `aws:PrincipalType` for this kind.
    pub fn aws_principal_type(self) -> &'static str {
        match self {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Anonymous => "Anonymous",
        }
    }
}

/// The calling principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// ARN of the caller, e.g. `arn:aws:iam::111122223333:user/alice`.
    pub arn: String,
    /// Account the caller belongs to (empty for anonymous).
    pub account: String,
    /// Kind of caller.
    pub kind: PrincipalKind,
    /// For assumed-role sessions: the role's ARN `arn:aws:iam::ACCT:role/path/name`.
    pub role_arn: Option<String>,
}

impl Principal {
    /// An anonymous caller.
    pub fn anonymous() -> Principal {
        Principal {
            arn: "*".into(),
            account: String::new(),
            kind: PrincipalKind::Anonymous,
            role_arn: None,
        }
    }
}

/// Everything a policy can look at for one request. Condition key names are
/// case-insensitive (stored lowercase); each key has one or more string values.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Action, e.g. `secretsmanager:GetSecretValue`.
    pub action: String,
    /// Resource ARN the action applies to.
    pub resource: String,
    /// Who calls.
    pub principal: Principal,
    keys: KeyMap,
}

impl RequestContext {
    /// A context with `aws:PrincipalArn`, `aws:PrincipalAccount` and `aws:PrincipalType`
    /// filled from `principal` (not for anonymous callers).
    pub fn new(
        action: impl Into<String>,
        resource: impl Into<String>,
        principal: Principal,
    ) -> Self {
        let mut ctx = RequestContext {
            action: action.into(),
            resource: resource.into(),
            principal,
            keys: KeyMap::default(),
        };
        if ctx.principal.kind != PrincipalKind::Anonymous {
            let (arn, acct) = (ctx.principal.arn.clone(), ctx.principal.account.clone());
            ctx.set("aws:PrincipalArn", arn);
            ctx.set("aws:PrincipalAccount", acct);
            let ty = ctx.principal.kind.aws_principal_type();
            ctx.set("aws:PrincipalType", ty);
        }
        ctx
    }

    /// Set a single-valued key (replaces earlier values).
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.keys.insert(key.to_lowercase(), vec![value.into()]);
        self
    }

    /// Set a multi-valued key (replaces earlier values).
    pub fn set_multi(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        self.keys.insert(key.to_lowercase(), values);
        self
    }

    /// Remove a key.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.keys.remove(&key.to_lowercase());
        self
    }

    /// Values of `key` (case-insensitive), if present.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        if key.chars().any(char::is_uppercase) {
            self.get_lower(&key.to_lowercase())
        } else {
            self.get_lower(key)
        }
    }

    /// Lookup of an already lowercase key name.
    pub(crate) fn get_lower(&self, key: &str) -> Option<&[String]> {
        self.keys.get(key).map(Vec::as_slice)
    }

    /// All keys (lowercase) and their values, sorted by key.
    pub fn keys(&self) -> Vec<(&str, &[String])> {
        let mut v: Vec<_> = self
            .keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

impl Vars for RequestContext {
    fn var(&self, key_lower: &str) -> Option<&str> {
        match self.get_lower(key_lower) {
            Some([one]) => Some(one.as_str()),
            _ => None,
        }
    }
}
