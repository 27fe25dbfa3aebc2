//! Who is calling: the principal behind an access key or a session token.

use std::sync::Arc;

use coffer_policy::{Policy, Principal, PrincipalKind};

/// The IAM entity whose policies apply to a caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entity {
    /// The account root: every action is allowed unless a resource policy denies it.
    Root,
    /// An IAM user (by name).
    User(String),
    /// An IAM role (by name), for assumed-role sessions.
    Role(String),
}

/// Facts of a temporary (STS) session.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    /// Session policies passed at AssumeRole (`None` = none were passed).
    pub policies: Option<Vec<(String, Arc<Policy>)>>,
    /// Session tags (they override the role's tags of the same key).
    pub tags: Vec<(String, String)>,
    /// Expiry (ms).
    pub expires_ms: i64,
    /// Source identity, if set.
    pub source_identity: Option<String>,
}

/// An authenticated caller's identity.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The principal as policies see it.
    pub principal: Principal,
    /// `aws:userid` (`AIDA…` for users, `AROA…:session` for role sessions, the account id
    /// for root).
    pub user_id: String,
    /// `aws:username` (IAM users only).
    pub username: Option<String>,
    /// Whose policies apply.
    pub entity: Entity,
    /// Set for temporary credentials.
    pub session: Option<SessionFacts>,
}

impl Identity {
    /// The root principal of `account_id`.
    pub fn root(account_id: &str) -> Identity {
        Identity {
            principal: Principal {
                arn: format!("arn:aws:iam::{account_id}:root"),
                account: account_id.to_owned(),
                kind: PrincipalKind::Root,
                role_arn: None,
            },
            user_id: account_id.to_owned(),
            username: None,
            entity: Entity::Root,
            session: None,
        }
    }

    /// An IAM user.
    pub fn user(account_id: &str, arn: &str, name: &str, user_id: &str) -> Identity {
        Identity {
            principal: Principal {
                arn: arn.to_owned(),
                account: account_id.to_owned(),
                kind: PrincipalKind::User,
                role_arn: None,
            },
            user_id: user_id.to_owned(),
            username: Some(name.to_owned()),
            entity: Entity::User(name.to_owned()),
            session: None,
        }
    }

    /// True for the account root (without a session).
    pub fn is_root(&self) -> bool {
        self.entity == Entity::Root && self.session.is_none()
    }
}
