//! Mapping of realistic audit records (tests/records/*.json).

use coffer_events::{Event, MappingConfig, detail_type as dt, events_from_record};
use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let text = match name {
        "create-secret" => include_str!("records/create-secret.json"),
        "delete-secret-root-force" => include_str!("records/delete-secret-root-force.json"),
        "get-secret-value-pending-deletion" => {
            include_str!("records/get-secret-value-pending-deletion.json")
        }
        "put-resource-policy-foreign" => include_str!("records/put-resource-policy-foreign.json"),
        other => panic!("no record {other}"),
    };
    serde_json::from_str(text).unwrap()
}

fn map(name: &str) -> Vec<Event> {
    events_from_record(&load(name), &MappingConfig::default())
}

/// No event carries the request or response as a whole, nor redacted placeholders.
fn assert_minimal(events: &[Event]) {
    for e in events {
        let text = e.to_json();
        for forbidden in [
            "requestParameters",
            "responseElements",
            "HIDDEN_DUE_TO",
            "sourceIPAddress",
            "userAgent",
        ] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
    }
}

#[test]
fn create_secret() {
    let events = map("create-secret");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.detail_type, dt::SECRET_CREATED);
    assert_eq!(e.source, "coffer.secretsmanager");
    assert_eq!(e.account, "111122223333");
    assert_eq!(e.region, "us-east-1");
    assert_eq!(e.time, "2026-11-25T14:20:19Z");
    assert!(e.resources.is_empty(), "the record has no resources");
    assert_eq!(
        e.detail,
        json!({
            "eventName": "CreateSecret",
            "eventID": "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
            "requestID": "f4c2a1d0-2b3c-4d5e-8f90-123456789abc",
            "userIdentity": load("create-secret")["userIdentity"],
            "secretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db/password-AbCdEf",
            "secretName": "prod/db/password",
        })
    );
    assert_minimal(&events);
}

#[test]
fn forced_delete_by_root() {
    let events = map("delete-secret-root-force");
    let kinds: Vec<&str> = events.iter().map(|e| e.detail_type.as_str()).collect();
    assert_eq!(kinds, [dt::SECRET_DELETED, dt::DELETION_BY_ROOT]);
    for e in &events {
        assert_eq!(
            e.resources,
            ["arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db/password-AbCdEf"]
        );
        assert_eq!(e.detail["userIdentity"]["type"], "Root");
        assert_eq!(e.detail["secretName"], "prod/db/password");
    }
    assert_ne!(events[0].id, events[1].id);
    assert_eq!(
        events,
        map("delete-secret-root-force"),
        "re-delivery gives the same ids"
    );
    // A break-glass list naming root adds the break-glass event too.
    let config = MappingConfig {
        break_glass_principals: vec!["arn:aws:iam::*:root".into()],
    };
    let kinds: Vec<String> = events_from_record(&load("delete-secret-root-force"), &config)
        .into_iter()
        .map(|e| e.detail_type)
        .collect();
    assert_eq!(
        kinds,
        [
            dt::SECRET_DELETED,
            dt::DELETION_BY_ROOT,
            dt::DELETION_BY_BREAK_GLASS_PRINCIPAL
        ]
    );
    assert_minimal(&events);
}

#[test]
fn access_while_pending_deletion() {
    let events = map("get-secret-value-pending-deletion");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.detail_type, dt::SECRET_ACCESSED_WHILE_PENDING_DELETION);
    assert_eq!(e.detail["errorCode"], "InvalidRequestException");
    assert_eq!(
        e.detail["secretArn"],
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:legacy/api-key-Zy9Xw8"
    );
    assert_eq!(e.detail["secretName"], "legacy/api-key");
    assert_eq!(
        e.detail["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"],
        "app"
    );
    assert_minimal(&events);
}

#[test]
fn foreign_grant() {
    let events = map("put-resource-policy-foreign");
    let kinds: Vec<&str> = events.iter().map(|e| e.detail_type.as_str()).collect();
    assert_eq!(
        kinds,
        [dt::RESOURCE_POLICY_CHANGED, dt::FOREIGN_ACCOUNT_GRANTED]
    );
    assert_eq!(events[1].detail["foreignAccounts"], json!(["444455556666"]));
    assert_eq!(events[1].region, "eu-west-1");
    assert_eq!(events[1].detail["secretName"], "shared/partner-token");
    assert_minimal(&events);
}

#[test]
fn records_through_rules_and_signature() {
    use coffer_events::{RuleSet, SIGNATURE_HEADER, Target, sign, verify};
    let rules = RuleSet::parse(
        r#"{"rules": [
          {"name": "secret-deletions",
           "event_pattern": {"source": ["coffer.secretsmanager"],
                             "detail-type": ["Secret Deleted", "Secret Deletion Scheduled"]},
           "targets": [{"type": "webhook", "url": "https://hooks.example.com/x", "secret": "k1"}]},
          {"name": "root-activity",
           "event_pattern": {"detail": {"userIdentity": {"type": ["Root"]}}},
           "targets": [{"type": "log"}]},
          {"name": "cross-account",
           "event_pattern": {"detail-type": ["Foreign Account Granted"],
                             "detail": {"foreignAccounts": [{"anything-but": "111122223333"}]}},
           "targets": [{"type": "command", "argv": ["/usr/bin/logger"]}]},
          {"name": "eu-only", "event_pattern": {"region": [{"prefix": "eu-"}],
                                                 "resources": [{"wildcard": "arn:aws:secretsmanager:*:secret:shared/*"}]}}
        ]}"#,
    )
    .unwrap();
    let mut hits: Vec<(String, String)> = Vec::new();
    for name in [
        "create-secret",
        "delete-secret-root-force",
        "get-secret-value-pending-deletion",
        "put-resource-policy-foreign",
    ] {
        for event in map(name) {
            for rule in rules.matching(&event) {
                hits.push((event.detail_type.clone(), rule.name.clone()));
                if let Some(Target::Webhook { secret, .. }) = rule.targets.first() {
                    let body = event.to_json();
                    let header = sign(secret.expose().as_bytes(), 1_795_789_219, body.as_bytes());
                    assert_eq!(SIGNATURE_HEADER, "X-Coffer-Signature");
                    verify(b"k1", &header, body.as_bytes(), 1_795_789_220, 300).unwrap();
                }
            }
        }
    }
    let hits: Vec<(&str, &str)> = hits.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        hits,
        [
            (dt::SECRET_DELETED, "secret-deletions"),
            (dt::SECRET_DELETED, "root-activity"),
            (dt::DELETION_BY_ROOT, "root-activity"),
            (dt::RESOURCE_POLICY_CHANGED, "eu-only"),
            (dt::FOREIGN_ACCOUNT_GRANTED, "cross-account"),
            (dt::FOREIGN_ACCOUNT_GRANTED, "eu-only"),
        ]
    );
}
