//! Parsing errors, validation, public-ness and explanations.

use coffer_policy::*;

fn err(doc: &str) -> PolicyError {
    Policy::parse(doc).expect_err(doc)
}

const OK: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;

#[test]
fn parse_accepts_valid_documents() {
    let p = Policy::parse(OK).unwrap();
    assert_eq!(p.version(), Some(Version::V2012_10_17));
    assert_eq!(p.statements().len(), 1);
    let s = &p.statements()[0];
    assert_eq!(s.effect(), Effect::Allow);
    assert_eq!(s.actions().raw(), ["secretsmanager:GetSecretValue"]);
    assert!(!s.actions().negated);
    assert_eq!(s.resources().unwrap().raw(), ["*"]);
    let p = Policy::parse(
        r#"{"Id":"x","Statement":{"Sid":"A","Effect":"Deny","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::b",
        "NotPrincipal":{"AWS":["123456789012","arn:aws:iam::123456789012:user/u"],"Service":"x.amazonaws.com"},
        "Condition":{"NumericLessThan":{"k:n":[1,2.5]},"Bool":{"aws:SecureTransport":false}}}}"#,
    )
    .unwrap();
    assert_eq!(p.id(), Some("x"));
    let s = &p.statements()[0];
    assert_eq!(s.sid(), Some("A"));
    assert!(s.principal().unwrap().negated);
    assert_eq!(s.conditions()[0].values().collect::<Vec<_>>(), ["1", "2.5"]);
    assert_eq!(s.conditions()[1].values().collect::<Vec<_>>(), ["false"]);
    assert!(Policy::parse_with_limit(OK, 10).is_err());
}

#[test]
fn parse_rejects_malformed_documents() {
    assert!(matches!(err("{"), PolicyError::Syntax { .. }));
    assert_eq!(err("[]").to_string(), "Syntax errors in policy.");
    assert!(matches!(
        err(r#"{"Version":"2020-01-01","Statement":[]}"#),
        PolicyError::InvalidVersion(_)
    ));
    assert!(matches!(
        err(r#"{"Version":"2012-10-17"}"#),
        PolicyError::MissingStatement
    ));
    assert!(matches!(
        err(r#"{"Statement":[]}"#),
        PolicyError::MissingStatement
    ));
    assert!(matches!(
        err(r#"{"Statement":[],"Extra":1}"#),
        PolicyError::Syntax { .. }
    ));
    assert_eq!(
        err(r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#).to_string(),
        "Policy statement must contain actions."
    );
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"allow","Action":"*"}}"#),
        PolicyError::InvalidEffect(_)
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Action":"*"}}"#),
        PolicyError::MissingEffect
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*"}}"#),
        PolicyError::Conflict("Action", "NotAction")
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}"#),
        PolicyError::Conflict(..)
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":"*","NotPrincipal":"*"}}"#),
        PolicyError::Conflict(..)
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"GetSecretValue"}}"#),
        PolicyError::InvalidAction(_)
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":[]}}"#),
        PolicyError::Syntax { .. }
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"bucket"}}"#),
        PolicyError::InvalidResource(_)
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":"me"}}"#),
        PolicyError::InvalidPrincipal(_)
    ));
    assert!(matches!(
        err(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":{"AWS":"arn:aws:iam::*:root"}}}"#
        ),
        PolicyError::InvalidPrincipal(_)
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":{"Alien":"x"}}}"#),
        PolicyError::InvalidPrincipal(_)
    ));
    assert_eq!(
        err(r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}"#).to_string(),
        "Invalid Condition type : StringEqualz."
    );
    assert!(matches!(
        err(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"nokey":"c"}}}}"#
        ),
        PolicyError::InvalidConditionKey(_)
    ));
    assert!(matches!(
        err(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"a:b":{"x":1}}}}}"#
        ),
        PolicyError::Syntax { .. }
    ));
    assert!(matches!(
        err(
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*"},{"Sid":"A","Effect":"Deny","Action":"*"}]}"#
        ),
        PolicyError::DuplicateSid(_)
    ));
    assert!(matches!(
        err(r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*"}}"#),
        PolicyError::Syntax { .. }
    ));
    let big = format!(
        r#"{{"Id":"{}","Statement":{{"Effect":"Allow","Action":"*"}}}}"#,
        "x".repeat(MAX_POLICY_BYTES)
    );
    assert!(matches!(err(&big), PolicyError::TooLarge { .. }));
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(matches!(err(&deep), PolicyError::Syntax { .. }));
}

fn public(doc: &str) -> bool {
    is_public(&Policy::parse(doc).unwrap())
}

fn stmt(principal: &str, cond: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{principal},"Action":"secretsmanager:GetSecretValue","Resource":"*"{cond}}}}}"#
    )
}

#[test]
fn public_policies() {
    assert!(public(&stmt(r#""*""#, "")));
    assert!(public(&stmt(r#"{"AWS":"*"}"#, "")));
    assert!(public(&stmt(r#"{"AWS":["123456789012","*"]}"#, "")));
    assert!(!public(&stmt(r#"{"AWS":"123456789012"}"#, "")));
    assert!(!public(&stmt(
        r#"{"AWS":"arn:aws:iam::123456789012:role/R"}"#,
        ""
    )));
    assert!(!public(&stmt(
        r#""*""#,
        r#","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}"#
    )));
    assert!(!public(&stmt(
        r#""*""#,
        r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#
    )));
    assert!(!public(&stmt(
        r#""*""#,
        r#","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::1:role/x"}}"#
    )));
    assert!(!public(&stmt(
        r#""*""#,
        r#","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#
    )));
    assert!(public(&stmt(
        r#""*""#,
        r#","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#
    )));
    assert!(public(&stmt(
        r#""*""#,
        r#","Condition":{"StringLike":{"aws:PrincipalAccount":"*"}}"#
    )));
    assert!(public(&stmt(
        r#""*""#,
        r#","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"1"}}"#
    )));
    assert!(public(&stmt(
        r#""*""#,
        r#","Condition":{"StringEqualsIfExists":{"aws:PrincipalAccount":"1"}}"#
    )));
    assert!(public(&stmt(
        r#""*""#,
        r#","Condition":{"StringEquals":{"aws:PrincipalTag/x":"1"}}"#
    )));
    assert!(public(&stmt(
        r#""*""#,
        r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#
    )));
    let notp = r#"{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"Action":"*","Resource":"*"}}"#;
    assert!(public(notp));
    let deny = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}"#;
    assert!(!public(deny));
}

fn checks(doc: &str) -> Vec<&'static str> {
    validate_resource_policy(doc)
        .into_iter()
        .map(|f| f.check)
        .collect()
}

#[test]
fn validation_findings() {
    assert_eq!(checks("{"), ["SYNTAX"]);
    let good = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/R"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#;
    assert!(
        checks(good).is_empty(),
        "{:?}",
        validate_resource_policy(good)
    );
    let c = checks(
        r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject","secretsmanager:GetSecretValue","secretsmanager:getsecretvalue","secretsmanager:Frobnicate"]}}"#,
    );
    for want in [
        "MISSING_VERSION",
        "MISSING_PRINCIPAL",
        "MISSING_RESOURCE",
        "UNSUPPORTED_SERVICE",
        "REDUNDANT_ACTION",
        "UNKNOWN_ACTION",
    ] {
        assert!(c.contains(&want), "{want} missing from {c:?}");
    }
    let c = checks(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:*","Resource":"*",
        "Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1"},"DateLessThan":{"aws:CurrentTime":"soon"},"NumericLessThan":{"k:n":"x"},
        "ForAllValues:StringEquals":{"aws:TagKeys":"a"}}}}"#,
    );
    assert_eq!(
        c.iter()
            .filter(|c| **c == "INVALID_CONDITION_VALUE")
            .count(),
        3,
        "{c:?}"
    );
    assert!(c.contains(&"FOR_ALL_VALUES_WITH_ALLOW"));
    assert!(c.contains(&"PUBLIC_ACCESS"));
    let c = checks(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"NotAction":"secretsmanager:DeleteSecret","NotResource":"arn:aws:secretsmanager:*:*:secret:${aws:username}"}}"#,
    );
    for want in [
        "VARIABLES_NOT_SUPPORTED",
        "ALLOW_WITH_NOT_PRINCIPAL",
        "ALLOW_WITH_NOT_ACTION",
        "ALLOW_WITH_NOT_RESOURCE",
    ] {
        assert!(c.contains(&want), "{want} missing from {c:?}");
    }
    let f = validate_resource_policy(r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#);
    assert!(f.iter().any(|f| f.kind == FindingKind::Error));
    assert!(f.iter().any(|f| f.kind == FindingKind::Suggestion));
}

#[test]
fn explanation_lists_statements_and_missing_keys() {
    let id = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Kms","Effect":"Allow","Action":"kms:*","Resource":"*"},
        {"Sid":"Tagged","Effect":"Allow","Action":"secretsmanager:*","Resource":"*","Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
        {"Sid":"Home","Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}]}"#,
    )
    .unwrap();
    let p = Principal {
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        account: "111122223333".into(),
        kind: PrincipalKind::User,
        role_arn: None,
    };
    let mut ctx = RequestContext::new(
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
        p,
    );
    ctx.set("secretsmanager:ResourceTag/team", "eng");
    let refs = [PolicyRef {
        id: "arn:aws:iam::111122223333:policy/P",
        policy: &id,
    }];
    let req = AuthzRequest {
        ctx: &ctx,
        identity: &refs,
        boundary: None,
        session: None,
        resource_policy: None,
        resource_account: "111122223333",
    };
    let e = explain(&req);
    assert_eq!(e.outcome.decision, Decision::ImplicitDeny);
    assert_eq!(e.statements.len(), 3);
    assert_eq!(e.statements[0].result, StatementResult::ActionNotMatched);
    assert!(
        matches!(&e.statements[1].result, StatementResult::ConditionFailed { key, .. } if key == "secretsmanager:ResourceTag/team")
    );
    assert_eq!(
        e.statements[2].result,
        StatementResult::ResourceVariableMissing
    );
    assert_eq!(e.missing_context_values, ["aws:PrincipalTag/team"]);
    assert!(e.matched.is_empty());
    let text = e.to_string();
    assert!(
        text.contains("Tagged") && text.contains("<unresolved>"),
        "{text}"
    );

    ctx.set("aws:PrincipalTag/team", "eng");
    let req = AuthzRequest {
        ctx: &ctx,
        identity: &refs,
        boundary: None,
        session: None,
        resource_policy: None,
        resource_account: "111122223333",
    };
    let e = explain(&req);
    assert_eq!(e.outcome.decision, Decision::Allow);
    assert_eq!(e.matched.len(), 1);
    assert_eq!(e.matched[0].sid.as_deref(), Some("Tagged"));
    assert_eq!(e.outcome.deciding, e.matched);
}

#[test]
fn context_keys_are_case_insensitive() {
    let mut ctx = RequestContext::new("a:b", "arn:x", Principal::anonymous());
    ctx.set("aws:PrincipalTag/Team", "eng");
    assert_eq!(
        ctx.get("AWS:principaltag/team"),
        Some(&["eng".to_string()][..])
    );
    ctx.set_multi("aws:TagKeys", vec!["a".into(), "b".into()]);
    assert_eq!(ctx.get("aws:tagkeys").map(<[String]>::len), Some(2));
    ctx.remove("AWS:TAGKEYS");
    assert!(ctx.get("aws:TagKeys").is_none());
    assert!(
        ctx.get("aws:PrincipalArn").is_none(),
        "anonymous has no principal keys"
    );
}

/// A compiled policy reused across requests (as the server caches them) decides exactly as
/// a freshly parsed one, whatever order actions arrive in (the per-action memo).
#[test]
fn reused_policy_decides_like_a_fresh_one() {
    let doc = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["secretsmanager:Get*","secretsmanager:Describe*"],"Resource":"*"},
        {"Effect":"Deny","NotAction":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:locked-*"},
        {"Effect":"Allow","Action":"secretsmanager:putsecretvalue","Resource":"*"}]}"#;
    let shared = Policy::parse(doc).unwrap();
    let principal = Principal {
        arn: "arn:aws:iam::111122223333:user/u".into(),
        account: "111122223333".into(),
        kind: PrincipalKind::User,
        role_arn: None,
    };
    let actions = [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "SecretsManager:PutSecretValue",
        "secretsmanager:DeleteSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:describesecret",
    ];
    for round in 0..3 {
        for action in actions {
            for res in [
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:locked-1-AbCdEf",
            ] {
                let ctx = RequestContext::new(action, res, principal.clone());
                let fresh = Policy::parse(doc).unwrap();
                let decide = |p: &Policy| {
                    let ids = [PolicyRef { id: "p", policy: p }];
                    authorize(&AuthzRequest {
                        ctx: &ctx,
                        identity: &ids,
                        boundary: None,
                        session: None,
                        resource_policy: None,
                        resource_account: "111122223333",
                    })
                    .decision
                };
                assert_eq!(
                    decide(&shared),
                    decide(&fresh),
                    "round {round}: {action} on {res}"
                );
            }
        }
    }
    let ctx = |a: &str, r: &str| RequestContext::new(a, r, principal.clone());
    let ids = [PolicyRef {
        id: "p",
        policy: &shared,
    }];
    let d = |c: &RequestContext| {
        authorize(&AuthzRequest {
            ctx: c,
            identity: &ids,
            boundary: None,
            session: None,
            resource_policy: None,
            resource_account: "111122223333",
        })
        .decision
    };
    let locked = "arn:aws:secretsmanager:us-east-1:111122223333:secret:locked-1-AbCdEf";
    assert_eq!(
        d(&ctx("secretsmanager:GetSecretValue", locked)),
        Decision::Allow
    );
    assert_eq!(
        d(&ctx("secretsmanager:DescribeSecret", locked)),
        Decision::ExplicitDeny
    );
    assert_eq!(
        d(&ctx("SECRETSMANAGER:PUTSECRETVALUE", "*")),
        Decision::Allow
    );
    assert_eq!(
        d(&ctx("secretsmanager:DeleteSecret", "*")),
        Decision::ImplicitDeny
    );
}

/// OIDC provider condition keys (`<provider host/path>:sub`) are valid keys; keys without a
/// namespace are not.
#[test]
fn oidc_provider_condition_keys() {
    let doc = |key: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{{"Federated":"x"}},"Condition":{{"StringEquals":{{"{key}":"v"}}}}}}}}"#
        )
    };
    for ok in [
        "token.actions.githubusercontent.com:sub",
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud",
        "accounts.google.com:aud",
    ] {
        Policy::parse(&doc(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in ["sub", ":sub", "provider:", "a b:sub"] {
        assert!(Policy::parse(&doc(bad)).is_err(), "{bad}");
    }
}
