//! Operator endpoints (unauthenticated, like Vault's: init, unseal, status, health) and
//! Coffer's signed administrative operations (`X-Amz-Target: CofferAdmin.*`).

use crate::AppState;
use crate::auth::Authenticated;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use coffer_protocol::{ApiError, ErrorCode};
use coffer_service::Caller;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

/// All routes of the server.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/", post(crate::api::handle).get(root))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/coffer/v1/sys/status", get(status))
        .route("/coffer/v1/sys/init", post(init))
        .route("/coffer/v1/sys/unseal", post(unseal))
        .route("/coffer/v1/sys/rekey", get(rekey_status))
        .route("/coffer/v1/sys/rekey/init", post(rekey_init))
        .route("/coffer/v1/sys/rekey/update", post(rekey_update));
    if state.config.metrics {
        router = router.route("/metrics", get(metrics));
    }
    router.fallback(not_found).with_state(state)
}

fn err(e: &ApiError) -> Response {
    crate::api::error_response(&uuid::Uuid::new_v4().to_string(), e)
}

async fn root() -> &'static str {
    "Coffer: AWS Secrets Manager compatible API. POST signed requests to this URL.\n"
}

async fn not_found() -> Response {
    err(&ApiError::new(
        ErrorCode::UnknownOperationException,
        "No such path: the API is served at POST /.",
    ))
}

/// Ready when unsealed and the store answers a read; otherwise 503 with the reason.
async fn ready(State(s): State<AppState>) -> Response {
    if !s.service.keyring().is_unsealed() {
        return (StatusCode::SERVICE_UNAVAILABLE, "sealed").into_response();
    }
    match s.service.store().get_meta(READY_PROBE_KEY).await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

/// A metadata key that is never written: reading it is the cheapest round trip to the store.
const READY_PROBE_KEY: &str = "coffer/readyz-probe";

/// `GET /metrics`: the Prometheus metrics (OpenMetrics text), unauthenticated like `/healthz`.
async fn metrics(State(s): State<AppState>) -> Response {
    let unsealed = s.service.keyring().is_unsealed();
    if let Err(e) = s
        .metrics
        .refresh(s.service.store().as_ref(), unsealed)
        .await
    {
        // The request counters are still worth serving; the store gauges keep their values.
        tracing::warn!(error = %e, "metrics: reading store counts failed");
    }
    let counters = s.service.audit_writer().counters();
    s.metrics.sync_audit(
        counters.written.load(std::sync::atomic::Ordering::Relaxed),
        counters.failed.load(std::sync::atomic::Ordering::Relaxed),
    );
    (
        [(http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        s.metrics.encode(),
    )
        .into_response()
}

async fn status(State(s): State<AppState>) -> Response {
    match s.seal.status().await {
        Ok(st) => Json(st).into_response(),
        Err(e) => err(&e),
    }
}

#[derive(Deserialize)]
struct InitBody {
    shares: u8,
    threshold: u8,
}

async fn init(State(s): State<AppState>, body: Bytes) -> Response {
    let parsed: InitBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return err(&ApiError::param(
                "Body must be {\"shares\": N, \"threshold\": K}.",
            ));
        }
    };
    match s.seal.init(parsed.shares, parsed.threshold).await {
        Ok(r) => {
            tracing::warn!(
                shares = parsed.shares,
                threshold = parsed.threshold,
                "coffer initialized"
            );
            let shares: Vec<&str> = r.shares.iter().map(|s| s.as_str()).collect();
            Json(json!({
                "shares": shares,
                "threshold": parsed.threshold,
                "account_id": r.credentials.account_id,
                "access_key_id": r.credentials.access_key_id,
                "secret_access_key": &*r.credentials.secret_access_key,
            }))
            .into_response()
        }
        Err(e) => err(&e),
    }
}

/// `POST /coffer/v1/sys/rekey/init` `{"shares": N, "threshold": K}`: starts a rekey (the
/// current shares authorize it, submitted with `rekey/update`).
async fn rekey_init(State(s): State<AppState>, body: Bytes) -> Response {
    let parsed: InitBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return err(&ApiError::param(
                "Body must be {\"shares\": N, \"threshold\": K}.",
            ));
        }
    };
    match s.seal.rekey_init(parsed.shares, parsed.threshold).await {
        Ok(st) => Json(st).into_response(),
        Err(e) => err(&e),
    }
}

#[derive(Deserialize)]
struct RekeyUpdateBody {
    nonce: String,
    share: String,
}

/// `POST /coffer/v1/sys/rekey/update` `{"nonce", "share"}`: one current share; the answer
/// carries the new shares once the threshold is reached.
async fn rekey_update(State(s): State<AppState>, body: Bytes) -> Response {
    let parsed: RekeyUpdateBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return err(&ApiError::param(
                "Body must be {\"nonce\": \"...\", \"share\": \"coffer-share-v1:...\"}.",
            ));
        }
    };
    match s.seal.rekey_update(&parsed.nonce, &parsed.share).await {
        Ok(st) => Json(st).into_response(),
        Err(e) => err(&e),
    }
}

/// `GET /coffer/v1/sys/rekey`: the rekey in progress (`{}` if none).
async fn rekey_status(State(s): State<AppState>) -> Response {
    match s.seal.rekey_status() {
        Some(st) => Json(st).into_response(),
        None => Json(json!({})).into_response(),
    }
}

#[derive(Deserialize)]
struct UnsealBody {
    share: String,
}

async fn unseal(State(s): State<AppState>, body: Bytes) -> Response {
    let parsed: UnsealBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return err(&ApiError::param(
                "Body must be {\"share\": \"coffer-share-v1:...\"}.",
            ));
        }
    };
    let share = zeroize::Zeroizing::new(parsed.share);
    match s.seal.unseal(&share).await {
        Ok(st) => {
            if !st.sealed {
                tracing::warn!("coffer unsealed");
            }
            Json(st).into_response()
        }
        Err(e) => err(&e),
    }
}

/// `CofferAdmin.*` operations. `RunControls` works on the caller's own account (its root,
/// or an identity allowed `coffer:RunControls`); the others (`CreateAccount`, `Seal`, and
/// the event-rule operations of [`crate::events::admin`]) need a key of an admin account.
pub async fn admin(
    state: &AppState,
    who: &Authenticated,
    caller: &Caller,
    op: &str,
    body: &[u8],
) -> Result<Bytes, ApiError> {
    if op == "RunControls" {
        return run_controls(state, caller, body).await;
    }
    if !who.admin {
        return Err(ApiError::new(
            ErrorCode::AccessDeniedException,
            format!(
                "User: {} is not authorized to perform: coffer:{op}",
                who.identity.principal.arn
            ),
        ));
    }
    if let Some(result) = crate::events::admin::handle(state, op, body).await {
        if result.is_ok() && op != "ListRules" && op != "TestEventPattern" {
            tracing::warn!(op, by = %who.identity.principal.arn, "event rules changed");
        }
        return result;
    }
    match op {
        "CreateAccount" => {
            let c = state.service.create_account(false, Some(caller)).await?;
            tracing::warn!(account = %c.account_id, by = %who.identity.principal.arn, "account created");
            let v = json!({
                "AccountId": c.account_id,
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": &*c.secret_access_key,
            });
            Ok(Bytes::from(
                serde_json::to_vec(&v).map_err(|_| ApiError::internal())?,
            ))
        }
        "MigrateSeal" => {
            #[derive(Deserialize)]
            #[serde(rename_all = "PascalCase")]
            struct Body {
                to: String,
                #[serde(default)]
                shares: Option<u8>,
                #[serde(default)]
                threshold: Option<u8>,
            }
            let b: Body = serde_json::from_slice(body).map_err(|_| {
                ApiError::param(
                    "Body must be {\"To\": \"shamir\"|\"kms\", \"Shares\": N, \"Threshold\": K}.",
                )
            })?;
            let v = match b.to.as_str() {
                "shamir" => {
                    let shares = state
                        .seal
                        .migrate_to_shamir(b.shares.unwrap_or(5), b.threshold.unwrap_or(3))
                        .await?;
                    json!({"Mode": "shamir", "Shares": shares})
                }
                "kms" => json!({"Mode": "kms", "KeyId": state.seal.migrate_to_kms().await?}),
                other => {
                    return Err(ApiError::param(format!(
                        "Unknown seal mode {other:?}: expected shamir or kms."
                    )));
                }
            };
            tracing::warn!(to = %b.to, by = %who.identity.principal.arn, "seal migrated");
            Ok(Bytes::from(
                serde_json::to_vec(&v).map_err(|_| ApiError::internal())?,
            ))
        }
        "Seal" => {
            state.seal.seal();
            state.auth.clear();
            tracing::warn!(by = %who.identity.principal.arn, "coffer sealed by operator");
            Ok(Bytes::from_static(b"{}"))
        }
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown administrative operation {op:?}."),
        )),
    }
}

/// `CofferAdmin.RunControls` request: no parameters yet.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RunControlsBody {}

/// `CofferAdmin.RunControls`: the detective controls over the caller's account and region.
/// Answers `{"Findings":[{"Control","SecretArn","SecretName","Detail"}],"Evaluated":n,
/// "Controls":[ids]}`, findings sorted by (secret name, control).
async fn run_controls(state: &AppState, caller: &Caller, body: &[u8]) -> Result<Bytes, ApiError> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_slice::<RunControlsBody>(body).map_err(|_| {
            ApiError::new(
                ErrorCode::SerializationException,
                "RunControls takes an empty JSON object {}.",
            )
        })?;
    }
    let report = state.service.run_controls(caller).await?;
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "Control": f.control.as_str(),
                "SecretArn": f.secret_arn,
                "SecretName": f.secret_name,
                "Detail": f.detail,
            })
        })
        .collect();
    let controls: Vec<&str> = report.controls.iter().map(|c| c.as_str()).collect();
    let v = json!({
        "Findings": findings,
        "Evaluated": report.evaluated,
        "Controls": controls,
    });
    serde_json::to_vec(&v)
        .map(Bytes::from)
        .map_err(|_| ApiError::internal())
}
