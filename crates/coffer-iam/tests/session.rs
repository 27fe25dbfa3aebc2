//! Session claims round trip and STS parameter checks.

use coffer_iam::session::*;

fn claims() -> SessionClaims {
    SessionClaims {
        version: SESSION_FORMAT_VERSION,
        access_key_id: new_temporary_access_key_id(),
        secret_access_key: new_secret_access_key(),
        account_id: "123456789012".into(),
        principal_arn: "arn:aws:sts::123456789012:assumed-role/ci/run-1".into(),
        role_arn: Some("arn:aws:iam::123456789012:role/ci".into()),
        role_id: Some("AROAEXAMPLEEXAMPLE12".into()),
        session_name: Some("run-1".into()),
        user_id: role_session_user_id("AROAEXAMPLEEXAMPLE12", "run-1"),
        source_identity: None,
        expires_ms: 2_000,
        issued_ms: 1_000,
        session_tags: vec![("team".into(), "a".into())],
        transitive_tag_keys: vec!["team".into()],
        session_policy: None,
        session_policy_arns: vec![],
        kind: SessionKind::AssumedRole,
    }
}

#[test]
fn roundtrip_and_formats() {
    let c = claims();
    assert_eq!(c.access_key_id.len(), 20);
    assert!(c.access_key_id.starts_with("ASIA"));
    assert_eq!(c.secret_access_key.expose().len(), 40);
    let bytes = c.to_bytes();
    assert_eq!(SessionClaims::from_bytes(&bytes).unwrap(), c);
    assert!(!format!("{c:?}").contains(c.secret_access_key.expose()));
    assert!(c.is_expired(2_000) && !c.is_expired(1_999));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["v"] = 9.into();
    assert_eq!(
        SessionClaims::from_bytes(v.to_string().as_bytes()),
        Err(SessionError::UnsupportedVersion(9))
    );
    assert_eq!(
        SessionClaims::from_bytes(b"{"),
        Err(SessionError::Malformed)
    );
}

#[test]
fn tag_and_policy_checks() {
    let t = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert!(validate_session_tags(&[t("a", "1")], &["A".into()]).is_ok());
    assert!(validate_session_tags(&[t("a", "1"), t("A", "2")], &[]).is_err());
    assert!(validate_session_tags(&[t("a", "1")], &["b".into()]).is_err());
    assert!(validate_session_tags(&[t("", "1")], &[]).is_err());
    let many: Vec<_> = (0..51).map(|i| t(&format!("k{i}"), "")).collect();
    assert!(validate_session_tags(&many, &[]).is_err());

    let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
    assert!(check_session_policies(Some(doc), &[], &[]).is_ok());
    let big = format!("{{\"x\":\"{}\"}}", "a".repeat(2100));
    assert_eq!(
        check_session_policies(Some(&big), &[], &[])
            .unwrap_err()
            .code(),
        "ValidationError"
    );
    let tags: Vec<_> = (0..50)
        .map(|i| t(&format!("k{i:03}"), &"v".repeat(100)))
        .collect();
    let e = check_session_policies(Some(doc), &[], &tags).unwrap_err();
    assert_eq!((e.code(), e.status()), ("PackedPolicyTooLarge", 400));
    let arns: Vec<String> = (0..11)
        .map(|i| format!("arn:aws:iam::aws:policy/P{i}"))
        .collect();
    assert!(check_session_policies(None, &arns, &[]).is_err());
}
