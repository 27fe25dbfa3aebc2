//! One case per mapping branch.

use super::detail_type as dt;
use super::*;
use serde_json::json;

const ACCOUNT: &str = "111122223333";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf";

fn record(source: &str, name: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111122223333:user/alice", "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLE", "userName": "alice"},
        "eventTime": "2026-11-25T14:20:19Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "test",
        "requestParameters": {"secretId": "app/db", "secretString": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        "responseElements": null,
        "requestID": "req-1",
        "eventID": "evt-1",
        "readOnly": false,
        "resources": [{"accountId": ACCOUNT, "type": "AWS::SecretsManager::Secret", "ARN": SECRET_ARN}],
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    })
}

const SM: &str = "secretsmanager.amazonaws.com";
const KMS: &str = "kms.amazonaws.com";

fn types(rec: &Value) -> Vec<String> {
    types_with(rec, &MappingConfig::default())
}

fn types_with(rec: &Value, config: &MappingConfig) -> Vec<String> {
    events_from_record(rec, config)
        .into_iter()
        .map(|e| e.detail_type)
        .collect()
}

#[test]
fn api_calls() {
    let cases: &[(&str, &str, &[&str])] = &[
        (SM, "CreateSecret", &[dt::SECRET_CREATED]),
        (SM, "PutSecretValue", &[dt::SECRET_UPDATED]),
        (SM, "UpdateSecret", &[dt::SECRET_UPDATED]),
        (SM, "UpdateSecretVersionStage", &[dt::SECRET_UPDATED]),
        (SM, "TagResource", &[dt::SECRET_UPDATED]),
        (SM, "UntagResource", &[dt::SECRET_UPDATED]),
        (SM, "DeleteSecret", &[dt::SECRET_DELETION_SCHEDULED]),
        (SM, "RestoreSecret", &[dt::SECRET_RESTORED]),
        (SM, "RotateSecret", &[dt::ROTATION_STARTED]),
        (SM, "DeleteResourcePolicy", &[dt::RESOURCE_POLICY_CHANGED]),
        (SM, "PutResourcePolicy", &[dt::RESOURCE_POLICY_CHANGED]),
        (SM, "GetSecretValue", &[]),
        (SM, "ListSecrets", &[]),
        (SM, "RotationStarted", &[]), // only as a service event
        (KMS, "DisableKey", &[dt::KMS_KEY_DISABLED]),
        (
            KMS,
            "ScheduleKeyDeletion",
            &[dt::KMS_KEY_DELETION_SCHEDULED],
        ),
        (KMS, "Decrypt", &[]),
        (KMS, "CreateSecret", &[]),
        ("iam.amazonaws.com", "CreateUser", &[]),
        ("sts.amazonaws.com", "AssumeRole", &[]),
        ("cloudtrail.amazonaws.com", "StartLogging", &[]),
        ("secretsmanager.amazonaws.com.evil", "CreateSecret", &[]),
    ];
    for (source, name, want) in cases {
        assert_eq!(types(&record(source, name)), *want, "{source} {name}");
    }
}

#[test]
fn forced_deletion() {
    for force in [json!(true), json!("true")] {
        let mut r = record(SM, "DeleteSecret");
        r["requestParameters"]["forceDeleteWithoutRecovery"] = force;
        assert_eq!(types(&r), [dt::SECRET_DELETED]);
    }
    let mut r = record(SM, "DeleteSecret");
    r["requestParameters"]["forceDeleteWithoutRecovery"] = json!(false);
    r["requestParameters"]["recoveryWindowInDays"] = json!(7);
    assert_eq!(types(&r), [dt::SECRET_DELETION_SCHEDULED]);
}

#[test]
fn service_events() {
    let cases = [
        ("RotationStarted", Some(dt::ROTATION_STARTED)),
        ("RotationSucceeded", Some(dt::ROTATION_SUCCEEDED)),
        ("RotationFailed", Some(dt::ROTATION_FAILED)),
        ("EndSecretVersionDelete", Some(dt::SECRET_DELETED)),
        ("SecretPurged", Some(dt::SECRET_DELETED)),
        ("CreateSecret", None),
        ("ReplicationFailed", None),
    ];
    for (name, want) in cases {
        let mut r = record(SM, name);
        r["eventType"] = json!("AwsServiceEvent");
        r["requestParameters"] = Value::Null;
        r["userIdentity"] =
            json!({"accountId": ACCOUNT, "invokedBy": "secretsmanager.amazonaws.com"});
        r["serviceEventDetails"] = json!({"secretId": SECRET_ARN, "rotationId": "r-1"});
        r.as_object_mut().unwrap().remove("resources");
        if name == "RotationFailed" {
            r["errorCode"] = json!("LambdaError");
            r["errorMessage"] = json!("rotation function timed out");
        }
        let events = events_from_record(&r, &MappingConfig::default());
        assert_eq!(
            events
                .iter()
                .map(|e| e.detail_type.as_str())
                .collect::<Vec<_>>(),
            want.into_iter().collect::<Vec<_>>(),
            "{name}"
        );
        if let Some(e) = events.first() {
            assert_eq!(e.detail["serviceEventDetails"]["rotationId"], "r-1");
            assert_eq!(e.detail["secretArn"], SECRET_ARN);
            assert_eq!(e.detail["secretName"], "app/db");
            assert!(e.resources.is_empty());
        }
    }
}

#[test]
fn failed_calls() {
    let refusal =
        "You can't perform this operation on the secret because it was marked for deletion.";
    for name in ["GetSecretValue", "PutSecretValue", "DescribeSecret"] {
        let mut r = record(SM, name);
        r["errorCode"] = json!("InvalidRequestException");
        r["errorMessage"] = json!(refusal);
        let events = events_from_record(&r, &MappingConfig::default());
        assert_eq!(events.len(), 1, "{name}");
        assert_eq!(
            events[0].detail_type,
            dt::SECRET_ACCESSED_WHILE_PENDING_DELETION
        );
        assert_eq!(events[0].detail["errorCode"], "InvalidRequestException");
        assert_eq!(events[0].detail["errorMessage"], refusal);
    }
    let failures = [
        (
            SM,
            "CreateSecret",
            "ResourceExistsException",
            "already exists",
        ),
        (
            SM,
            "DeleteSecret",
            "AccessDeniedException",
            "not authorized",
        ),
        (
            SM,
            "GetSecretValue",
            "InvalidRequestException",
            "You provided a parameter value that is not valid",
        ),
        (
            SM,
            "GetSecretValue",
            "ResourceNotFoundException",
            "marked for deletion",
        ),
        (
            KMS,
            "ScheduleKeyDeletion",
            "InvalidRequestException",
            "marked for deletion",
        ),
    ];
    for (source, name, code, message) in failures {
        let mut r = record(source, name);
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!(message);
        r["userIdentity"]["type"] = json!("Root");
        assert!(types(&r).is_empty(), "{name} {code}");
    }
    // An empty or null errorCode is not a failure.
    let mut r = record(SM, "CreateSecret");
    r["errorCode"] = Value::Null;
    assert_eq!(types(&r), [dt::SECRET_CREATED]);
}

#[test]
fn privileged_deletions() {
    let glass = MappingConfig {
        break_glass_principals: vec!["arn:aws:iam::*:role/break-glass*".into()],
    };
    for (source, name, primary) in [
        (SM, "DeleteSecret", dt::SECRET_DELETION_SCHEDULED),
        (KMS, "ScheduleKeyDeletion", dt::KMS_KEY_DELETION_SCHEDULED),
    ] {
        let mut r = record(source, name);
        r["userIdentity"] = json!({"type": "Root", "principalId": ACCOUNT,
            "arn": "arn:aws:iam::111122223333:root", "accountId": ACCOUNT});
        assert_eq!(types_with(&r, &glass), [primary, dt::DELETION_BY_ROOT]);
        r["userIdentity"] = json!({"type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/break-glass-admin/bob", "accountId": ACCOUNT});
        assert_eq!(types_with(&r, &glass), [primary]);
        r["userIdentity"]["arn"] = json!("arn:aws:iam::111122223333:role/break-glass-admin");
        assert_eq!(
            types_with(&r, &glass),
            [primary, dt::DELETION_BY_BREAK_GLASS_PRINCIPAL]
        );
        assert_eq!(types(&r), [primary]);
    }
    // Other calls by root are not deletions.
    let mut r = record(SM, "PutSecretValue");
    r["userIdentity"]["type"] = json!("Root");
    assert_eq!(types(&r), [dt::SECRET_UPDATED]);
    let mut r = record(KMS, "DisableKey");
    r["userIdentity"]["type"] = json!("Root");
    assert_eq!(types(&r), [dt::KMS_KEY_DISABLED]);
}

#[test]
fn foreign_accounts() {
    let policy = |principal: Value| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal,
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
        .to_string()
    };
    let cases: &[(Value, &[&str])] = &[
        (json!({"AWS": "arn:aws:iam::111122223333:role/app"}), &[]),
        (json!({"AWS": ACCOUNT}), &[]),
        (
            json!({"AWS": ["444455556666", "arn:aws:iam::111122223333:root"]}),
            &["444455556666"],
        ),
        (json!("*"), &["*"]),
        (
            json!({"AWS": ["*", "arn:aws:iam::777788889999:user/x"]}),
            &["*", "777788889999"],
        ),
        (json!({"Service": "lambda.amazonaws.com"}), &[]),
    ];
    for (principal, want) in cases {
        let mut r = record(SM, "PutResourcePolicy");
        r["requestParameters"]["resourcePolicy"] = json!(policy(principal.clone()));
        let events = events_from_record(&r, &MappingConfig::default());
        assert_eq!(events[0].detail_type, dt::RESOURCE_POLICY_CHANGED);
        assert!(events[0].detail.get("foreignAccounts").is_none());
        if want.is_empty() {
            assert_eq!(events.len(), 1, "{principal}");
        } else {
            assert_eq!(events.len(), 2, "{principal}");
            assert_eq!(events[1].detail_type, dt::FOREIGN_ACCOUNT_GRANTED);
            assert_eq!(events[1].detail["foreignAccounts"], json!(want));
        }
        // The policy text itself is never copied.
        assert!(!events[0].to_json().contains("Statement"));
    }
}

#[test]
fn envelope_and_detail() {
    let mut r = record(SM, "CreateSecret");
    r["requestParameters"] = json!({"name": "app/db", "secretString": "HIDDEN_DUE_TO_SECURITY_REASONS",
        "kmsKeyId": "alias/x"});
    r["responseElements"] = json!({"arn": SECRET_ARN, "name": "app/db", "versionId": "v1"});
    r.as_object_mut().unwrap().remove("resources");
    let e = &events_from_record(&r, &MappingConfig::default())[0];
    assert_eq!(e.version, "0");
    assert_eq!(e.source, "coffer.secretsmanager");
    assert_eq!(e.account, ACCOUNT);
    assert_eq!(e.region, "us-east-1");
    assert_eq!(e.time, "2026-11-25T14:20:19Z");
    assert!(e.resources.is_empty());
    let keys: Vec<&str> = e
        .detail
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "eventID",
            "eventName",
            "requestID",
            "secretArn",
            "secretName",
            "userIdentity"
        ]
    );
    assert_eq!(e.detail["secretArn"], SECRET_ARN);
    assert_eq!(e.detail["userIdentity"], r["userIdentity"]);
    assert!(!e.to_json().contains("HIDDEN") && !e.to_json().contains("alias/x"));

    // KMS details.
    let mut r = record(KMS, "DisableKey");
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    r["requestParameters"] = json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"});
    r["resources"] = json!([{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}]);
    let e = &events_from_record(&r, &MappingConfig::default())[0];
    assert_eq!(e.source, "coffer.kms");
    assert_eq!(e.detail["keyArn"], key);
    assert_eq!(e.detail["keyId"], "1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_eq!(e.resources, [key]);
    assert!(e.detail.get("secretArn").is_none());
}

#[test]
fn deterministic_ids() {
    let mut r = record(SM, "DeleteSecret");
    r["userIdentity"]["type"] = json!("Root");
    let a = events_from_record(&r, &MappingConfig::default());
    let b = events_from_record(&r, &MappingConfig::default());
    assert_eq!(a, b);
    assert_ne!(a[0].id, a[1].id);
    let id = uuid::Uuid::parse_str(&a[0].id).unwrap();
    assert_eq!(id.get_version_num(), 8);
    r["eventID"] = json!("evt-2");
    assert_ne!(
        events_from_record(&r, &MappingConfig::default())[0].id,
        a[0].id
    );
    // Without an eventID the id still depends only on the record.
    r.as_object_mut().unwrap().remove("eventID");
    let c = events_from_record(&r, &MappingConfig::default());
    assert_eq!(c, events_from_record(&r, &MappingConfig::default()));
}

#[test]
fn malformed_records() {
    for r in [
        json!(null),
        json!([]),
        json!("x"),
        json!({}),
        json!({"eventSource": 5}),
    ] {
        assert!(types(&r).is_empty());
    }
    // Minimal record: still an event, with empty envelope fields.
    let e = events_from_record(
        &json!({"eventSource": SM, "eventName": "CreateSecret"}),
        &MappingConfig::default(),
    );
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].account, "");
}

#[test]
fn names_from_arns() {
    assert_eq!(name_from_arn(SECRET_ARN).as_deref(), Some("app/db"));
    assert_eq!(
        name_from_arn("arn:aws:secretsmanager:us-east-1:1:secret:a-b-c").as_deref(),
        Some("a-b-c")
    );
    assert_eq!(name_from_arn("arn:aws:kms:us-east-1:1:key/x"), None);
}
