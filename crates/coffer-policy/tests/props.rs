//! Property tests: deny monotonicity, order independence, parser robustness.

use coffer_policy::*;
use proptest::prelude::*;
use serde_json::{Value, json};

const ACCT: &str = "111122223333";

fn action() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "secretsmanager:GetSecretValue",
        "secretsmanager:Get*",
        "secretsmanager:*",
        "*",
        "secretsmanager:PutSecretValue",
        "kms:Decrypt",
    ])
}

fn resource() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "*",
        "arn:aws:secretsmanager:*:*:secret:app/*",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf",
        "arn:aws:secretsmanager:*:*:secret:${aws:username}/*",
        "arn:aws:secretsmanager:*:*:secret:other/*",
    ])
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop::sample::select(vec![
        json!({"StringEquals": {"aws:PrincipalTag/team": "eng"}}),
        json!({"StringNotEquals": {"aws:PrincipalTag/team": "ops"}}),
        json!({"Bool": {"aws:SecureTransport": "true"}}),
        json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}),
        json!({"Null": {"aws:PrincipalTag/missing": "true"}}),
    ]))
}

fn statement(effect: &'static str) -> impl Strategy<Value = Value> {
    (action(), resource(), condition(), any::<bool>()).prop_map(move |(a, r, c, not_action)| {
        let mut s = json!({"Effect": effect, "Resource": r});
        s[if not_action { "NotAction" } else { "Action" }] = json!(a);
        if let Some(c) = c {
            s["Condition"] = c;
        }
        s
    })
}

fn any_statement() -> impl Strategy<Value = Value> {
    prop_oneof![3 => statement("Allow"), 1 => statement("Deny")]
}

fn policy_doc(stmts: &[Value]) -> Policy {
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": stmts}).to_string()).unwrap()
}

fn context(team: &str, tls: bool) -> RequestContext {
    let p = Principal {
        arn: format!("arn:aws:iam::{ACCT}:user/alice"),
        account: ACCT.into(),
        kind: PrincipalKind::User,
        role_arn: None,
    };
    let mut c = RequestContext::new(
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf",
        p,
    );
    c.set("aws:username", "app")
        .set("aws:PrincipalTag/team", team)
        .set("aws:SecureTransport", tls.to_string());
    c.set("aws:SourceIp", "10.1.2.3")
        .set_multi("aws:TagKeys", vec!["a".into()]);
    c
}

fn decide(ctx: &RequestContext, identity: &[Policy], resource: Option<&Policy>) -> Decision {
    let refs: Vec<PolicyRef> = identity
        .iter()
        .map(|p| PolicyRef { id: "p", policy: p })
        .collect();
    authorize(&AuthzRequest {
        ctx,
        identity: &refs,
        boundary: None,
        session: None,
        resource_policy: resource.map(|p| PolicyRef { id: "r", policy: p }),
        resource_account: ACCT,
    })
    .decision
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn adding_a_deny_never_grants(
        policies in prop::collection::vec(prop::collection::vec(any_statement(), 1..5), 0..4),
        deny in statement("Deny"),
        at in 0usize..4,
        team in prop::sample::select(vec!["eng", "ops"]),
        tls: bool,
    ) {
        let ctx = context(team, tls);
        let before: Vec<Policy> = policies.iter().map(|s| policy_doc(s)).collect();
        let mut with_deny = policies.clone();
        if with_deny.is_empty() {
            with_deny.push(vec![deny.clone()]);
        } else {
            let i = at % with_deny.len();
            with_deny[i].push(deny.clone());
        }
        let after: Vec<Policy> = with_deny.iter().map(|s| policy_doc(s)).collect();
        let (b, a) = (decide(&ctx, &before, None), decide(&ctx, &after, None));
        prop_assert!(!(b != Decision::Allow && a == Decision::Allow), "deny turned {b:?} into Allow");
        if b == Decision::ExplicitDeny {
            prop_assert_eq!(a, Decision::ExplicitDeny);
        }
        // Also as a resource-policy deny.
        let rp = Policy::parse(&json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": deny["Action"].clone(), "Resource": "*"}]}).to_string());
        if let (Ok(rp), Some(_)) = (rp, deny.get("Action")) {
            let r = decide(&ctx, &before, Some(&rp));
            prop_assert!(!(b != Decision::Allow && r == Decision::Allow));
        }
    }

    #[test]
    fn order_never_matters(
        policies in prop::collection::vec(prop::collection::vec(any_statement(), 1..5), 1..4),
        team in prop::sample::select(vec!["eng", "ops"]),
        tls: bool,
        seed: u64,
    ) {
        let ctx = context(team, tls);
        let original: Vec<Policy> = policies.iter().map(|s| policy_doc(s)).collect();
        let mut shuffled = policies.clone();
        shuffled.reverse();
        let n = shuffled.len();
        shuffled.rotate_left((seed as usize) % n);
        for (i, s) in shuffled.iter_mut().enumerate() {
            s.reverse();
            let k = s.len();
            s.rotate_left((seed as usize >> i) % k);
        }
        let reordered: Vec<Policy> = shuffled.iter().map(|s| policy_doc(s)).collect();
        prop_assert_eq!(decide(&ctx, &original, None), decide(&ctx, &reordered, None));
    }

    #[test]
    fn parse_never_panics_on_strings(s in ".{0,400}") {
        let _ = Policy::parse(&s);
        let _ = validate_resource_policy(&s);
    }

    #[test]
    fn parse_never_panics_on_json(v in arb_json()) {
        let text = v.to_string();
        if let Ok(p) = Policy::parse(&text) {
            let _ = is_public(&p);
            let ctx = context("eng", true);
            let _ = decide(&ctx, std::slice::from_ref(&p), Some(&p));
        }
        let _ = validate_resource_policy(&text);
    }

    #[test]
    fn parse_never_panics_on_policy_shaped_json(
        stmts in prop::collection::vec(policy_shaped_statement(), 1..4),
        version in prop::sample::select(vec!["2012-10-17", "2008-10-17"]),
    ) {
        let text = json!({"Version": version, "Statement": stmts}).to_string();
        if let Ok(p) = Policy::parse(&text) {
            let _ = is_public(&p);
            let ctx = context("eng", true);
            let refs = [PolicyRef { id: "p", policy: &p }];
            let req = AuthzRequest { ctx: &ctx, identity: &refs, boundary: Some(&refs), session: None,
                resource_policy: Some(refs[0]), resource_account: ACCT };
            let out = authorize(&req);
            prop_assert_eq!(explain(&req).outcome, out);
        }
    }
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Version",
            "2012-10-17",
            "Statement",
            "Effect",
            "Allow",
            "Deny",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
            "NotPrincipal",
            "Condition",
            "AWS",
            "*",
            "secretsmanager:*",
            "StringLike",
            "aws:username",
            "${aws:username}",
            "${",
            "}",
            "arn:aws:iam::123456789012:root",
            "IpAddress",
            "DateLessThan",
            "ForAllValues:StringEquals",
            "Null",
            "Sid",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        arb_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn policy_shaped_statement() -> impl Strategy<Value = Value> {
    let op = prop::sample::select(vec![
        "StringEquals",
        "StringNotLike",
        "NumericLessThan",
        "DateGreaterThanIfExists",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnLike",
        "ArnNotEquals",
        "Null",
        "ForAnyValue:StringLike",
        "ForAllValues:NumericEquals",
    ]);
    let val = prop_oneof![
        arb_string(),
        Just("${aws:PrincipalTag/x}".to_string()),
        Just("10.0.0.0/8".to_string())
    ];
    (
        prop::sample::select(vec!["Allow", "Deny"]),
        arb_string(),
        arb_string(),
        op,
        arb_string(),
        prop::collection::vec(val, 0..3),
        prop::option::of(prop_oneof![
            Just(json!("*")),
            arb_string().prop_map(|s| json!({"AWS": s}))
        ]),
    )
        .prop_map(|(e, a, r, op, key, vals, p)| {
            let mut s =
                json!({"Effect": e, "Action": a, "Resource": r, "Condition": {op: {key: vals}}});
            if let Some(p) = p {
                s["Principal"] = p;
            }
            s
        })
}
