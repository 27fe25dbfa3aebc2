//! Detective and preventive controls through the service, with a manual clock.

use coffer_core::ManualClock;
use coffer_core::clock::DAY_MS;
use coffer_protocol::ErrorCode;
use coffer_protocol::shapes::*;
use coffer_service::controls::{ControlId, ControlsConfig};
use coffer_service::{Caller, Keyring, Service};
use coffer_store::MemoryStore;
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000;

async fn service(controls: &str) -> (Service, ManualClock, Caller) {
    let clock = ManualClock::new(T0);
    let keyring = Arc::new(Keyring::new());
    keyring.set_root(coffer_crypto::SymmetricKey::generate());
    let svc = Service::new(
        Arc::new(MemoryStore::new()),
        keyring,
        Arc::new(clock.clone()),
    );
    svc.set_controls(Some(ControlsConfig::from_json(controls).unwrap()));
    let creds = svc.create_account(true, None).await.unwrap();
    let caller = Caller::root(&creds.account_id, "us-east-1", &creds.access_key_id);
    (svc, clock, caller)
}

fn input(name: &str, tags: &[&str]) -> CreateSecretInput {
    CreateSecretInput {
        name: Some(name.into()),
        secret_string: Some(SecretText(zeroize::Zeroizing::new("v".to_owned()))),
        tags: Some(
            tags.iter()
                .map(|k| Tag {
                    key: (*k).into(),
                    value: "x".into(),
                })
                .collect(),
        ),
        ..Default::default()
    }
}

fn pairs(r: &coffer_service::controls::ControlsReport) -> Vec<(String, ControlId)> {
    r.findings
        .iter()
        .map(|f| (f.secret_name.clone(), f.control))
        .collect()
}

#[tokio::test]
async fn detective_run_over_the_callers_account_and_region() {
    let (svc, clock, c) =
        service(r#"{"required_tags":["team"],"name_pattern":"^prod/","max_days_unused":30}"#).await;
    svc.create_secret(&c, input("prod/a", &["team"]))
        .await
        .unwrap();
    svc.create_secret(&c, input("dev/b", &[])).await.unwrap();
    let mut other_region = c.clone();
    other_region.region = "eu-west-1".into();
    svc.create_secret(&other_region, input("x", &[]))
        .await
        .unwrap();

    let r = svc.run_controls(&c).await.unwrap();
    assert_eq!(r.evaluated, 2);
    assert_eq!(
        pairs(&r),
        [
            ("dev/b".into(), ControlId::NameConvention),
            ("dev/b".into(), ControlId::RequiredTags)
        ]
    );
    clock.advance(31 * DAY_MS);
    svc.get_secret_value(
        &c,
        GetSecretValueInput {
            secret_id: Some("prod/a".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // LastAccessedDate is written in the background.
    for _ in 0..200 {
        let d = svc
            .describe_secret(
                &c,
                SecretIdInput {
                    secret_id: Some("prod/a".into()),
                },
            )
            .await
            .unwrap();
        if d.last_accessed_date.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let r = svc.run_controls(&c).await.unwrap();
    assert!(pairs(&r).contains(&("dev/b".into(), ControlId::NotAccessed)));
    assert!(!pairs(&r).contains(&("prod/a".into(), ControlId::NotAccessed)));
}

#[tokio::test]
async fn preventive_refusals_write_nothing() {
    let (svc, _clock, c) = service(
        r#"{"required_tags":["team","env"],"name_pattern":"^prod/","enforce_at_create":true}"#,
    )
    .await;
    let e = svc
        .create_secret(&c, input("prod/a", &["team"]))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AccessDeniedException);
    assert_eq!(
        e.message,
        "CreateSecret refused by a preventive control: missing required tags: env"
    );
    let e = svc
        .create_secret(&c, input("dev/a", &["team", "env"]))
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("does not match the required pattern ^prod/"),
        "{}",
        e.message
    );
    assert_eq!(svc.run_controls(&c).await.unwrap().evaluated, 0);

    svc.create_secret(&c, input("prod/a", &["team", "env", "extra"]))
        .await
        .unwrap();
    let e = svc
        .untag_resource(
            &c,
            UntagResourceInput {
                secret_id: Some("prod/a".into()),
                tag_keys: Some(vec!["extra".into(), "env".into()]),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AccessDeniedException);
    assert_eq!(
        e.message,
        "UntagResource refused by a preventive control: required tags can't be removed: env"
    );
    svc.untag_resource(
        &c,
        UntagResourceInput {
            secret_id: Some("prod/a".into()),
            tag_keys: Some(vec!["extra".into()]),
        },
    )
    .await
    .unwrap();
    assert!(svc.run_controls(&c).await.unwrap().findings.is_empty());
}
