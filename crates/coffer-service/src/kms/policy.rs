//! Key policies: the defaults AWS writes, and the KMS authorization rule.
//!
//! A KMS request is allowed only if the key policy allows it: either directly (a
//! statement matching the caller, its role or `*`), or by delegating to the account (a
//! statement allowing the account root principal, like the default "Enable IAM User
//! Permissions") *and* the caller's IAM policies allow it. An explicit `Deny` in the key
//! policy or in IAM always wins. Unlike other resource policies, IAM alone never grants
//! access to a key, not even to the account root.

use coffer_policy::{
    AuthzRequest, Decision, Outcome, Policy, PolicyKind, PolicyRef, PrincipalHit, Reason,
    RequestContext,
};

/// The default key policy of a customer managed key: the account (and through it IAM)
/// may do anything with the key.
pub fn default_key_policy(account_id: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account_id}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// The policy of the AWS managed key `aws/secretsmanager`: use through Secrets Manager for
/// every principal of the account, metadata reads for the account.
pub fn aws_managed_policy(account_id: &str, region: &str) -> String {
    let sid = "Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager";
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "auto-secretsmanager-2",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                           "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    "kms:CallerAccount": account_id,
                    "kms:ViaService": format!("secretsmanager.{region}.amazonaws.com")
                }}
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account_id}:root")},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*"
            }
        ]
    })
    .to_string()
}

/// The KMS decision for one request: `req` carries the caller's IAM policies and the key
/// policy as its resource policy.
pub fn decide(req: &AuthzRequest<'_>, key_policy: &Policy) -> Outcome {
    let full = coffer_policy::authorize(req);
    if full.decision == Decision::ExplicitDeny {
        return full;
    }
    let (hit, _) = coffer_policy::resource_policy_hit(key_policy, req.ctx);
    let no_key_allow = || Outcome {
        decision: Decision::ImplicitDeny,
        reason: Reason::NoAllow(PolicyKind::Resource),
        deciding: Vec::new(),
    };
    match hit {
        // The key policy must allow, directly or by delegation to the account. With a
        // direct grant the engine's same-account rules already decided (boundaries and
        // session policies still limit `*`/role grants); with delegation, `full` allowed
        // only through IAM (or the root user), which is exactly what delegation requires.
        PrincipalHit::None => no_key_allow(),
        _ => full,
    }
}

/// A key policy for `decide` (the resource policy of the request).
pub fn key_policy_ref(policy: &Policy) -> PolicyRef<'_> {
    PolicyRef {
        id: "key-policy",
        policy,
    }
}

/// Convenience for tests and callers without boundaries or session policies.
pub fn decide_simple(
    ctx: &RequestContext,
    identity: &[PolicyRef<'_>],
    key_policy: &Policy,
    key_account: &str,
) -> Outcome {
    let req = AuthzRequest {
        ctx,
        identity,
        boundary: None,
        session: None,
        resource_policy: Some(key_policy_ref(key_policy)),
        resource_account: key_account,
    };
    decide(&req, key_policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_policy::{Principal, PrincipalKind};

    const ACCT: &str = "444455556666";
    const KEY: &str = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn principal(kind: PrincipalKind, arn: &str, account: &str) -> Principal {
        Principal {
            kind,
            arn: arn.to_owned(),
            account: account.to_owned(),
            role_arn: None,
        }
    }

    fn user(name: &str) -> Principal {
        principal(
            PrincipalKind::User,
            &format!("arn:aws:iam::{ACCT}:user/{name}"),
            ACCT,
        )
    }

    fn ctx(p: Principal, action: &str, keys: &[(&str, &str)]) -> RequestContext {
        let mut c = RequestContext::new(format!("kms:{action}"), KEY, p);
        c.set("kms:CallerAccount", c.principal.account.clone());
        let arn = c
            .principal
            .role_arn
            .clone()
            .unwrap_or(c.principal.arn.clone());
        c.set("aws:PrincipalArn", arn);
        for (k, v) in keys {
            c.set(k, *v);
        }
        c
    }

    fn pol(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    fn allow_all_kms() -> Policy {
        pol(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
        )
    }

    fn allowed(c: &RequestContext, identity: &[&Policy], key: &Policy) -> bool {
        let refs: Vec<PolicyRef<'_>> = identity
            .iter()
            .map(|p| PolicyRef {
                id: "id",
                policy: p,
            })
            .collect();
        decide_simple(c, &refs, key, ACCT).allowed()
    }

    #[test]
    fn default_policy_delegates_to_iam() {
        let key = pol(&default_key_policy(ACCT));
        let iam = allow_all_kms();
        assert!(allowed(&ctx(user("a"), "Encrypt", &[]), &[&iam], &key));
        // No IAM permission: denied although the key policy delegates.
        let c = ctx(user("a"), "Encrypt", &[]);
        let out = decide_simple(&c, &[], &key, ACCT);
        assert!(!out.allowed());
        // The root user is allowed by the delegation.
        let root = principal(
            PrincipalKind::Root,
            &format!("arn:aws:iam::{ACCT}:root"),
            ACCT,
        );
        assert!(allowed(&ctx(root, "DisableKey", &[]), &[], &key));
    }

    #[test]
    fn iam_alone_is_not_enough() {
        // The key policy names only another principal: IAM's allow does not count.
        let key = pol(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:user/admin"}},"Action":"kms:*","Resource":"*"}}]}}"#
        ));
        let iam = allow_all_kms();
        let c = ctx(user("bob"), "Decrypt", &[]);
        let out = decide_simple(
            &c,
            &[PolicyRef {
                id: "id",
                policy: &iam,
            }],
            &key,
            ACCT,
        );
        assert_eq!(out.decision, Decision::ImplicitDeny);
        assert_eq!(out.reason, Reason::NoAllow(PolicyKind::Resource));
        // Not even the root user.
        let root = principal(
            PrincipalKind::Root,
            &format!("arn:aws:iam::{ACCT}:root"),
            ACCT,
        );
        assert!(!allowed(&ctx(root, "Decrypt", &[]), &[], &key));
        // The named user needs no IAM policy.
        assert!(allowed(&ctx(user("admin"), "Decrypt", &[]), &[], &key));
    }

    #[test]
    fn explicit_denies_win() {
        let key = pol(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
              {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},
              {{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringNotEquals":{{"kms:EncryptionContext:app":"payroll"}}}}}}]}}"#
        ));
        let iam = allow_all_kms();
        assert!(!allowed(&ctx(user("a"), "Decrypt", &[]), &[&iam], &key));
        assert!(allowed(
            &ctx(
                user("a"),
                "Decrypt",
                &[("kms:EncryptionContext:app", "payroll")]
            ),
            &[&iam],
            &key
        ));
        let deny = pol(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}"#,
        );
        assert!(!allowed(
            &ctx(user("a"), "Encrypt", &[]),
            &[&iam, &deny],
            &key
        ));
        assert!(allowed(
            &ctx(
                user("a"),
                "Decrypt",
                &[("kms:EncryptionContext:app", "payroll")]
            ),
            &[&iam, &deny],
            &key
        ));
    }

    #[test]
    fn reference_policy() {
        let text = include_str!("testdata/kms-key-policy.json");
        let key = pol(text);
        // Statement 3: any principal of the account, through Secrets Manager only.
        let via = [("kms:ViaService", "secretsmanager.us-east-1.amazonaws.com")];
        assert!(allowed(
            &ctx(user("app"), "GenerateDataKey", &via),
            &[],
            &key
        ));
        assert!(allowed(&ctx(user("app"), "Decrypt", &via), &[], &key));
        assert!(!allowed(&ctx(user("app"), "Decrypt", &[]), &[], &key));
        // Another account through Secrets Manager: kms:CallerAccount does not match.
        let other = principal(
            PrincipalKind::User,
            "arn:aws:iam::111122223333:user/x",
            "111122223333",
        );
        assert!(!allowed(&ctx(other, "Decrypt", &via), &[], &key));
        // Key administrators (roles) manage the key without IAM policies but cannot use it.
        let admin = Principal {
            role_arn: Some(format!(
                "arn:aws:iam::{ACCT}:role/platformRoles/KMS-key-admin-role"
            )),
            ..principal(
                PrincipalKind::AssumedRole,
                &format!("arn:aws:sts::{ACCT}:assumed-role/KMS-key-admin-role/s"),
                ACCT,
            )
        };
        assert!(allowed(&ctx(admin.clone(), "DisableKey", &[]), &[], &key));
        assert!(allowed(
            &ctx(admin.clone(), "ScheduleKeyDeletion", &[]),
            &[],
            &key
        ));
        assert!(!allowed(&ctx(admin, "Encrypt", &[]), &[], &key));
        // Root Access delegates to IAM: a user with an IAM policy may use the key directly.
        let iam = allow_all_kms();
        assert!(allowed(&ctx(user("ops"), "Encrypt", &[]), &[&iam], &key));
        assert!(!allowed(&ctx(user("ops"), "Encrypt", &[]), &[], &key));
    }
}
