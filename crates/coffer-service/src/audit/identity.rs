//! `userIdentity` of a record from the caller's [`Identity`].

use coffer_audit::{SessionContext, SessionIssuer, UserIdentity};
use coffer_policy::PrincipalKind;
use serde_json::json;

use crate::authz::identity::Identity;

/// The record's `userIdentity` for `identity` signing with `access_key_id`.
pub fn user_identity(identity: &Identity, access_key_id: &str) -> UserIdentity {
    let p = &identity.principal;
    let mut u = UserIdentity {
        kind: match p.kind {
            PrincipalKind::Root => "Root",
            PrincipalKind::User => "IAMUser",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Anonymous => "Unknown",
        }
        .to_owned(),
        principal_id: Some(identity.user_id.clone()),
        arn: Some(p.arn.clone()),
        account_id: Some(p.account.clone()),
        access_key_id: (!access_key_id.is_empty()).then(|| access_key_id.to_owned()),
        user_name: identity.username.clone(),
        session_context: None,
        invoked_by: None,
    };
    if let Some(session) = &identity.session {
        let issuer = p.role_arn.as_ref().map(|role| SessionIssuer {
            kind: "Role".to_owned(),
            principal_id: identity
                .user_id
                .split_once(':')
                .map_or(identity.user_id.as_str(), |(id, _)| id)
                .to_owned(),
            arn: role.clone(),
            account_id: p.account.clone(),
            user_name: role.rsplit('/').next().unwrap_or_default().to_owned(),
        });
        u.session_context = Some(SessionContext {
            session_issuer: issuer,
            attributes: json!({"mfaAuthenticated": "false"}),
            source_identity: session.source_identity.clone(),
        });
        if p.kind == PrincipalKind::AssumedRole {
            u.user_name = None;
        }
    }
    u
}
