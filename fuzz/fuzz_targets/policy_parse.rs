//! Fuzz the policy parser, validator, public-ness check and evaluator.
#![no_main]

use coffer_policy::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = validate_resource_policy(text);
    let Ok(policy) = Policy::parse(text) else {
        return;
    };
    let _ = is_public(&policy);
    let principal = Principal {
        arn: "arn:aws:sts::111122223333:assumed-role/App/s1".into(),
        account: "111122223333".into(),
        kind: PrincipalKind::AssumedRole,
        role_arn: Some("arn:aws:iam::111122223333:role/App".into()),
    };
    let mut ctx = RequestContext::new(
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf",
        principal,
    );
    ctx.set("aws:username", "alice")
        .set("aws:PrincipalTag/team", "eng")
        .set("aws:SourceIp", "10.1.2.3")
        .set("aws:CurrentTime", "2026-11-25T12:00:00Z")
        .set("aws:SecureTransport", "true")
        .set_multi("aws:TagKeys", vec!["a".into(), "b".into()]);
    let refs = [PolicyRef {
        id: "fuzz",
        policy: &policy,
    }];
    for resource_account in ["111122223333", "444455556666"] {
        let req = AuthzRequest {
            ctx: &ctx,
            identity: &refs,
            boundary: Some(&refs),
            session: Some(&refs),
            resource_policy: Some(refs[0]),
            resource_account,
        };
        let out = authorize(&req);
        let _ = out.message(&ctx);
        assert_eq!(explain(&req).outcome, out);
    }
});
