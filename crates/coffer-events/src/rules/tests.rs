use super::*;
use crate::event::SOURCE_SECRETS_MANAGER;
use serde_json::json;

fn file(rules: Value) -> String {
    json!({ "rules": rules }).to_string()
}

fn rule(name: &str) -> Value {
    json!({"name": name, "event_pattern": {"source": ["coffer.secretsmanager"]},
           "targets": [{"type": "log"}]})
}

fn event(detail_type: &str) -> Event {
    Event {
        version: "0".into(),
        id: "00000000-0000-8000-8000-000000000000".into(),
        detail_type: detail_type.into(),
        source: SOURCE_SECRETS_MANAGER.into(),
        account: "111122223333".into(),
        time: "2026-11-25T14:20:19Z".into(),
        region: "us-east-1".into(),
        resources: vec![],
        detail: json!({"eventName": "DeleteSecret", "userIdentity": {"type": "Root"}}),
    }
}

#[test]
fn parse_full_file() {
    let text = r#"{"rules": [
      {"name": "deletions", "description": "page on deletions",
       "event_pattern": {"source": ["coffer.secretsmanager"],
                         "detail-type": [{"prefix": "Secret Delet"}]},
       "targets": [
         {"type": "webhook", "url": "https://hooks.example.com/coffer", "secret": "s3cr3t-key"},
         {"type": "command", "argv": ["/usr/local/bin/page", "--team", "security"]},
         {"type": "log"}
       ]},
      {"name": "root.v2", "enabled": false,
       "eventPattern": "{\"detail\":{\"userIdentity\":{\"type\":[\"Root\"]}}}",
       "targets": [{"type": "webhook", "url": "http://10.0.0.5:8080/x", "secret": "k",
                    "maxAttempts": 9}]},
      {"name": "root-any", "event_pattern": {"detail": {"userIdentity": {"type": ["Root"]}}}}
    ]}"#;
    let set = RuleSet::parse(text).unwrap();
    assert_eq!(set.len(), 3);
    let deletions = set.get("deletions").unwrap();
    assert!(deletions.enabled);
    assert_eq!(deletions.description.as_deref(), Some("page on deletions"));
    match &deletions.targets[0] {
        Target::Webhook {
            url,
            secret,
            max_attempts,
        } => {
            assert_eq!(url, "https://hooks.example.com/coffer");
            assert_eq!(secret.expose(), "s3cr3t-key");
            assert_eq!(*max_attempts, DEFAULT_MAX_ATTEMPTS);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&deletions.targets[1], Target::Command { argv } if argv.len() == 3));
    assert!(matches!(deletions.targets[2], Target::Log {}));
    let v2 = set.get("root.v2").unwrap();
    assert!(!v2.enabled);
    assert!(matches!(
        v2.targets[0],
        Target::Webhook {
            max_attempts: 9,
            ..
        }
    ));
    assert!(set.get("root-any").unwrap().targets.is_empty());

    let names = |e: &Event| set.matching(e).map(|r| r.name.as_str()).collect::<Vec<_>>();
    // Disabled rules never match; patterns see the envelope and the detail.
    assert_eq!(names(&event("Secret Deleted")), ["deletions", "root-any"]);
    assert_eq!(names(&event("Secret Created")), ["root-any"]);
    let mut e = event("Secret Created");
    e.detail = json!({});
    assert!(names(&e).is_empty());
    let v = event("Secret Deletion Scheduled").to_value();
    assert_eq!(set.matching_value(&v).count(), 2);
    assert_eq!(set.rules().count(), 3);
}

#[test]
fn secrets_are_not_printed() {
    let set = RuleSet::parse(&file(
        json!([{"name": "w", "event_pattern": {"source": ["x"]},
        "targets": [{"type": "webhook", "url": "https://h/", "secret": "TOPSECRET"}]}]),
    ))
    .unwrap();
    let printed = format!(
        "{set:?} {:?} {:#?}",
        set.get("w").unwrap(),
        set.get("w").unwrap().targets
    );
    assert!(!printed.contains("TOPSECRET"), "{printed}");
    assert!(printed.contains("<redacted>"));
    assert!(!format!("{:?}", WebhookSecret::new("abc")).contains("abc"));
}

#[test]
fn validation_errors() {
    use RuleError as E;
    let err = |rules: Value| RuleSet::parse(&file(rules)).unwrap_err();
    let with_target =
        |t: Value| json!([{"name": "r", "event_pattern": {"source": ["x"]}, "targets": [t]}]);
    assert!(matches!(RuleSet::parse("nope"), Err(E::Json(_))));
    assert!(matches!(RuleSet::parse("{}"), Err(E::Json(_))));
    assert!(matches!(
        RuleSet::parse(r#"{"rules":[],"x":1}"#),
        Err(E::Json(_))
    ));
    assert!(RuleSet::parse(r#"{"rules":[]}"#).unwrap().is_empty());
    let too_many: Vec<Value> = (0..=MAX_RULES).map(|i| rule(&format!("r{i}"))).collect();
    assert!(matches!(
        err(json!(too_many)),
        E::TooManyRules {
            count: 101,
            max: 100
        }
    ));
    let max: Vec<Value> = (0..MAX_RULES).map(|i| rule(&format!("r{i}"))).collect();
    assert_eq!(RuleSet::parse(&file(json!(max))).unwrap().len(), MAX_RULES);
    for bad in ["", "has space", "slash/no", "ü", &"x".repeat(65)] {
        assert!(
            matches!(err(json!([rule(bad)])), E::InvalidName { .. }),
            "{bad:?}"
        );
    }
    assert!(RuleSet::parse(&file(json!([rule(&"x".repeat(64)), rule("A.b_c-9")]))).is_ok());
    assert!(matches!(err(json!([rule("a"), rule("a")])), E::DuplicateName { name } if name == "a"));
    assert!(matches!(
        err(json!([{"name": "p", "event_pattern": {"source": "x"}}])),
        E::Pattern { rule, error: PatternError::NotObjectOrArray { .. } } if rule == "p"
    ));
    assert!(matches!(
        err(json!([{"name": "p", "event_pattern": "{}"}])),
        E::Pattern { .. }
    ));
    assert!(matches!(
        err(json!([{"name": "p", "event_pattern": "[1]"}])),
        E::Pattern { .. }
    ));
    assert!(matches!(
        err(json!([{"name": "p", "event_pattern": 5}])),
        E::Json(_)
    ));
    assert!(matches!(err(json!([{"name": "p"}])), E::Json(_)));
    assert!(matches!(
        err(json!([{"name": "p", "event_pattern": {"a": ["b"]}, "extra": 1}])),
        E::Json(_)
    ));
    let six: Vec<Value> = (0..6).map(|_| json!({"type": "log"})).collect();
    assert!(matches!(
        err(json!([{"name": "r", "event_pattern": {"a": ["b"]}, "targets": six}])),
        E::TooManyTargets { count: 6, .. }
    ));
    assert!(matches!(
        err(with_target(json!({"type": "email"}))),
        E::Json(_)
    ));
    assert!(matches!(
        err(with_target(json!({"type": "log", "x": 1}))),
        E::Json(_)
    ));
    assert!(matches!(
        err(with_target(json!({"type": "webhook", "url": "https://h"}))),
        E::Json(_)
    ));
    for url in [
        "ftp://h/x",
        "https://",
        "https:///path",
        "https://h:/",
        "https://h:99999/",
        "https://h:80x/",
        "https://bad host/",
        "https://h/ x",
        "hooks.example.com",
        "https://[::1/",
        "https://[zz]/",
        "https://[::1]x/",
        "https://user@/",
    ] {
        let t = json!({"type": "webhook", "url": url, "secret": "k"});
        assert!(
            matches!(err(with_target(t)), E::InvalidUrl { target: 0, .. }),
            "{url}"
        );
    }
    for url in [
        "https://hooks.example.com/coffer?x=1",
        "HTTP://h",
        "http://127.0.0.1:8080",
        "https://[::1]:443/x",
        "https://[2001:db8::1]/",
        "https://u:p@h.example/",
    ] {
        let t = json!({"type": "webhook", "url": url, "secret": "k"});
        assert!(RuleSet::parse(&file(with_target(t))).is_ok(), "{url}");
    }
    let t = json!({"type": "webhook", "url": "https://h", "secret": ""});
    assert!(matches!(err(with_target(t)), E::EmptySecret { .. }));
    for n in [0, MAX_ATTEMPTS_LIMIT + 1] {
        let t = json!({"type": "webhook", "url": "https://h", "secret": "k", "max_attempts": n});
        assert!(matches!(err(with_target(t)), E::MaxAttempts { .. }));
    }
    assert!(matches!(
        err(with_target(json!({"type": "command", "argv": []}))),
        E::EmptyArgv { .. }
    ));
    assert!(matches!(
        err(with_target(json!({"type": "command", "argv": [""]}))),
        E::EmptyArgv { .. }
    ));
    // Errors never echo the URL (it may carry credentials).
    let t = json!({"type": "webhook", "url": "ftp://user:pw@h", "secret": "k"});
    assert!(!err(with_target(t)).to_string().contains("pw"));
}
