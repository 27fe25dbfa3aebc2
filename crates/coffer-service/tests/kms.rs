//! KMS behaviour that depends on time: scheduled deletion and automatic rotation run by
//! the background jobs, with a manual clock and both stores (no HTTP).

use coffer_core::ManualClock;
use coffer_core::clock::DAY_MS;
use coffer_protocol::ErrorCode;
use coffer_protocol::shapes::*;
use coffer_service::{Caller, Keyring, Service};
use coffer_store::{MemoryStore, SqliteStore, Store};
use serde_json::{Value, json};
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000;

async fn service(store: Arc<dyn Store>) -> (Service, ManualClock, Caller) {
    let clock = ManualClock::new(T0);
    let keyring = Arc::new(Keyring::new());
    keyring.set_root(coffer_crypto::SymmetricKey::generate());
    let svc = Service::new(store, keyring, Arc::new(clock.clone()));
    let creds = svc.create_account(true, None).await.unwrap();
    let caller = Caller::root(&creds.account_id, "us-east-1", &creds.access_key_id);
    (svc, clock, caller)
}

async fn call(
    svc: &Service,
    c: &Caller,
    op: &str,
    body: Value,
) -> Result<Value, coffer_protocol::ApiError> {
    svc.kms_call(c, op, body.to_string().as_bytes()).await
}

async fn get(svc: &Service, c: &Caller, id: &str) -> Result<String, coffer_protocol::ApiError> {
    svc.get_secret_value(
        c,
        GetSecretValueInput {
            secret_id: Some(id.into()),
            ..Default::default()
        },
    )
    .await
    .map(|v| v.secret_string.unwrap().0.to_string())
}

async fn stores() -> Vec<Arc<dyn Store>> {
    vec![
        Arc::new(MemoryStore::new()),
        Arc::new(SqliteStore::open_in_memory().unwrap()),
    ]
}

#[tokio::test]
async fn scheduled_deletion_purges_the_key() {
    for store in stores().await {
        let (svc, clock, c) = service(Arc::clone(&store)).await;
        let md = call(&svc, &c, "CreateKey", json!({})).await.unwrap()["KeyMetadata"].clone();
        let arn = md["Arn"].as_str().unwrap().to_owned();
        call(
            &svc,
            &c,
            "CreateAlias",
            json!({"AliasName": "alias/doomed", "TargetKeyId": arn}),
        )
        .await
        .unwrap();
        svc.create_secret(
            &c,
            CreateSecretInput {
                name: Some("app/db".into()),
                secret_string: Some(SecretText(zeroize::Zeroizing::new("v".into()))),
                kms_key_id: Some("alias/doomed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        call(
            &svc,
            &c,
            "ScheduleKeyDeletion",
            json!({"KeyId": arn, "PendingWindowInDays": 7}),
        )
        .await
        .unwrap();
        clock.advance(7 * DAY_MS - 1);
        assert_eq!(svc.kms_delete_due_keys().await.unwrap(), 0);
        assert!(store.kms_key_by_arn(&arn).await.unwrap().is_some());
        clock.advance(1);
        assert_eq!(svc.kms_delete_due_keys().await.unwrap(), 1);
        assert!(store.kms_key_by_arn(&arn).await.unwrap().is_none());
        let e = call(&svc, &c, "DescribeKey", json!({"KeyId": arn}))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFoundException);
        let e = call(&svc, &c, "DescribeKey", json!({"KeyId": "alias/doomed"}))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFoundException);
        // The secret's value is gone with its key.
        let e = get(&svc, &c, "app/db").await.unwrap_err();
        assert_eq!(e.code, ErrorCode::DecryptionFailure);
    }
}

#[tokio::test]
async fn automatic_rotation_adds_generations() {
    for store in stores().await {
        let (svc, clock, c) = service(store).await;
        let md = call(&svc, &c, "CreateKey", json!({})).await.unwrap()["KeyMetadata"].clone();
        let id = md["KeyId"].as_str().unwrap().to_owned();
        let old = call(
            &svc,
            &c,
            "Encrypt",
            json!({"KeyId": id, "Plaintext": "AQID"}),
        )
        .await
        .unwrap()["CiphertextBlob"]
            .clone();
        call(
            &svc,
            &c,
            "EnableKeyRotation",
            json!({"KeyId": id, "RotationPeriodInDays": 90}),
        )
        .await
        .unwrap();
        clock.advance(89 * DAY_MS);
        assert_eq!(svc.kms_rotate_due_keys().await.unwrap(), 0);
        clock.advance(DAY_MS);
        assert_eq!(svc.kms_rotate_due_keys().await.unwrap(), 1);
        assert_eq!(svc.kms_rotate_due_keys().await.unwrap(), 0);
        let rots = call(&svc, &c, "ListKeyRotations", json!({"KeyId": id}))
            .await
            .unwrap();
        assert_eq!(rots["Rotations"][0]["RotationType"], "AUTOMATIC");
        let st = call(&svc, &c, "GetKeyRotationStatus", json!({"KeyId": id}))
            .await
            .unwrap();
        assert_eq!(
            st["NextRotationDate"],
            json!((T0 + 180 * DAY_MS) as f64 / 1000.0)
        );
        let out = call(&svc, &c, "Decrypt", json!({"CiphertextBlob": old}))
            .await
            .unwrap();
        assert_eq!(out["Plaintext"], "AQID");
        // Disabled keys are not rotated.
        call(&svc, &c, "DisableKey", json!({"KeyId": id}))
            .await
            .unwrap();
        clock.advance(200 * DAY_MS);
        assert_eq!(svc.kms_rotate_due_keys().await.unwrap(), 0);
    }
}
