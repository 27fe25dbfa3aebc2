//! The event dispatcher end to end, in process: a service event recorded in the audit log
//! reaches a webhook rule target, signed, after the receiver failed twice; events the
//! rule's pattern does not match are not delivered.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use coffer_server::events::{EventsOptions, stored::Rules};
use coffer_server::{AppState, ServerConfig};
use coffer_service::{Keyring, SealManager, Service};
use coffer_store::MemoryStore;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec-integration-test";

#[derive(Default)]
struct Receiver {
    attempts: usize,
    delivered: Vec<(String, Bytes)>,
}

async fn hook(
    State(r): State<Arc<Mutex<Receiver>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut r = r.lock().unwrap();
    r.attempts += 1;
    if r.attempts <= 2 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let sig = headers
        .get(coffer_events::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    r.delivered.push((sig, body));
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_failed_reaches_a_signed_webhook_after_retries() {
    // The receiver.
    let received = Arc::new(Mutex::new(Receiver::default()));
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // A server state over an in-memory store, unsealed.
    let keyring = Arc::new(Keyring::new());
    keyring.set_root(coffer_crypto::SymmetricKey::generate());
    let service = Service::new(
        Arc::new(MemoryStore::new()),
        keyring,
        Arc::new(coffer_core::SystemClock),
    );
    let creds = service.create_account(true, None).await.unwrap();
    let account = creds.account_id.clone();
    let seal = Arc::new(SealManager::new(service.clone()));
    let state = AppState::new(service.clone(), seal, ServerConfig::default());

    let rules = Rules::parse_file(
        &json!({"rules": [{
            "name": "rotation-failures",
            "event_pattern": {"source": ["coffer.secretsmanager"], "detail-type": ["Rotation Failed"]},
            "targets": [{"type": "webhook", "url": url, "secret": SECRET, "max_attempts": 5}]
        }]})
        .to_string(),
    )
    .unwrap();
    coffer_server::events::start(
        &state,
        EventsOptions {
            file_rules: Some(rules),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let arn = format!("arn:aws:secretsmanager:us-east-1:{account}:secret:db-AbCdEf");
    // Not matched by the pattern: never delivered.
    service
        .record_service_event(
            &account,
            "us-east-1",
            "RotationSucceeded",
            &[&arn],
            json!({"step": "finishSecret"}),
        )
        .await
        .unwrap();
    service
        .record_service_event(
            &account,
            "us-east-1",
            "RotationFailed",
            &[&arn],
            json!({"step": "testSecret", "reason": "lambda error"}),
        )
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().delivered.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Time for any wrong extra delivery to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let r = received.lock().unwrap();
    assert_eq!(r.attempts, 3, "two refused attempts, then the delivery");
    assert_eq!(r.delivered.len(), 1);
    let (sig, body) = &r.delivered[0];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    coffer_events::verify(SECRET.as_bytes(), sig, body, now, 300).expect("valid signature");
    assert!(coffer_events::verify(b"wrong", sig, body, now, 300).is_err());
    let event: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["detail-type"], "Rotation Failed");
    assert_eq!(event["source"], "coffer.secretsmanager");
    assert_eq!(event["account"], account.as_str());
    assert_eq!(event["resources"], json!([arn]));
}
