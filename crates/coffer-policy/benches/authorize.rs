//! `cargo bench -p coffer-policy --bench authorize`: ns per `authorize` decision for a
//! principal with 10 identity policies × 10 statements (wildcards, variables, conditions).

use coffer_policy::*;
use std::hint::black_box;
use std::time::Instant;

const ACCT: &str = "111122223333";

fn policy(i: usize) -> Policy {
    let mut stmts = Vec::new();
    for j in 0..10 {
        let n = i * 10 + j;
        let s = match j % 5 {
            0 => format!(
                r#"{{"Sid":"S{n}","Effect":"Allow","Action":["secretsmanager:Describe*","secretsmanager:List*"],"Resource":"arn:aws:secretsmanager:*:{ACCT}:secret:team{n}/*"}}"#
            ),
            1 => format!(
                r#"{{"Sid":"S{n}","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:${{aws:username}}/p{n}-*"}}"#
            ),
            2 => format!(
                r#"{{"Sid":"S{n}","Effect":"Allow","Action":["secretsmanager:PutSecretValue","secretsmanager:UpdateSecret"],"Resource":"*","Condition":{{"StringEquals":{{"secretsmanager:ResourceTag/team":"${{aws:PrincipalTag/team}}"}},"Bool":{{"aws:SecureTransport":"true"}}}}}}"#
            ),
            3 => format!(
                r#"{{"Sid":"S{n}","Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"arn:aws:secretsmanager:*:*:secret:prod/*","Condition":{{"NumericLessThan":{{"secretsmanager:RecoveryWindowInDays":"7"}}}}}}"#
            ),
            _ => format!(
                r#"{{"Sid":"S{n}","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:{ACCT}:key/k{n}","Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}"#
            ),
        };
        stmts.push(s);
    }
    Policy::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    ))
    .unwrap()
}

fn ctx(action: &str, resource: &str) -> RequestContext {
    let p = Principal {
        arn: format!("arn:aws:iam::{ACCT}:user/alice"),
        account: ACCT.into(),
        kind: PrincipalKind::User,
        role_arn: None,
    };
    let mut c = RequestContext::new(action, resource, p);
    c.set("aws:username", "alice")
        .set("aws:PrincipalTag/team", "eng")
        .set("secretsmanager:ResourceTag/team", "eng")
        .set("aws:SecureTransport", "true")
        .set("aws:SourceIp", "10.1.2.3")
        .set("aws:CurrentTime", "2026-11-25T12:00:00Z");
    c
}

fn bench(name: &str, refs: &[PolicyRef], c: &RequestContext, want: Decision) {
    if std::env::var("COFFER_BENCH_ONLY").is_ok_and(|f| !name.contains(&f)) {
        return;
    }
    let req = AuthzRequest {
        ctx: c,
        identity: refs,
        boundary: None,
        session: None,
        resource_policy: None,
        resource_account: ACCT,
    };
    assert_eq!(authorize(&req).decision, want, "{name}");
    // Minimum over several rounds: the build machines are shared and noisy.
    let n = 50_000u32;
    let mut best = f64::MAX;
    for _ in 0..9 {
        let t = Instant::now();
        for _ in 0..n {
            black_box(authorize(black_box(&req)));
        }
        best = best.min(t.elapsed().as_nanos() as f64 / f64::from(n));
    }
    println!("{name:<48} {best:>8.0} ns/decision ({want:?})");
}

fn main() {
    let policies: Vec<Policy> = (0..10).map(policy).collect();
    let ids: Vec<String> = (0..10)
        .map(|i| format!("arn:aws:iam::{ACCT}:policy/P{i}"))
        .collect();
    let refs: Vec<PolicyRef> = policies
        .iter()
        .zip(&ids)
        .map(|(p, id)| PolicyRef { id, policy: p })
        .collect();
    let one = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:app/*"}}"#).unwrap();
    bench(
        "baseline: 1 policy x 1 statement",
        &[PolicyRef {
            id: "one",
            policy: &one,
        }],
        &ctx(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf",
        ),
        Decision::Allow,
    );
    println!("10 policies x 10 statements");
    bench(
        "allow: variable resource (last policy)",
        &refs,
        &ctx(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice/p91-AbCdEf",
        ),
        Decision::Allow,
    );
    bench(
        "allow: wildcard resource (first statement)",
        &refs,
        &ctx(
            "secretsmanager:DescribeSecret",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:team0/x-AbCdEf",
        ),
        Decision::Allow,
    );
    bench(
        "allow: conditions with variables",
        &refs,
        &ctx(
            "secretsmanager:PutSecretValue",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:any-AbCdEf",
        ),
        Decision::Allow,
    );
    bench(
        "implicit deny: no statement matches",
        &refs,
        &ctx(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:bob/p1-AbCdEf",
        ),
        Decision::ImplicitDeny,
    );
    let mut del = ctx(
        "secretsmanager:DeleteSecret",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf",
    );
    del.set("secretsmanager:RecoveryWindowInDays", "3");
    bench(
        "explicit deny: 10 matching Deny statements",
        &refs,
        &del,
        Decision::ExplicitDeny,
    );
}
