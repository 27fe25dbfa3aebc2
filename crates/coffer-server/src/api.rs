//! `POST /`: the AWS JSON 1.1 endpoint. Reads the (bounded) body, authenticates with SigV4,
//! decodes the operation's input, calls the service and renders the output or the error.

use crate::AppState;
use crate::auth::{self, Authenticated};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use coffer_protocol::{ApiError, CONTENT_TYPE, ErrorCode, Operation, TARGET_PREFIX};
use coffer_service::Caller;
use http::{HeaderValue, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Target prefix of Coffer's own administrative operations.
pub const ADMIN_PREFIX: &str = "CofferAdmin.";
/// Target prefix of CloudTrail (LookupEvents).
pub const CLOUDTRAIL_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

/// Handles one API request.
pub async fn handle(State(state): State<AppState>, req: http::Request<Body>) -> Response {
    let request_id = state.request_ids.next_id();
    let started = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    if crate::query::is_query(&parts) {
        return crate::query::handle(&state, parts, body, request_id).await;
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut call = crate::audit::Call::new(&state, &parts, &request_id);
    let (source, name) = event_of(&target);
    call.event_source = source;
    call.read_only = crate::audit::is_read_only(source, &name);
    call.event_name = name;
    let mut draft = None;
    let result = async {
        let body = read_body(body, state.config.max_body_bytes).await?;
        call.request_parameters = request_parameters(&body);
        let who = authenticate(&state, &parts, &body, signing_names_for(&target)).await?;
        let d = call.draft(&state, Some(&who));
        draft = Some(Arc::clone(&d));
        let mut caller = caller_of(&who, &parts);
        caller.audit = Some(d);
        dispatch(&state, &who, &caller, &target, &body).await
    }
    .await;
    let draft = draft.unwrap_or_else(|| call.draft(&state, None));
    let audited = match &result {
        Ok(bytes) => {
            // Reads may carry secret values: their responses are never parsed for the record.
            let response = (!call.read_only)
                .then(|| serde_json::from_slice::<serde_json::Value>(bytes).ok())
                .flatten();
            crate::audit::finish(&state, &draft, Ok(response.as_ref())).await
        }
        Err(e) => crate::audit::finish(&state, &draft, Err((e.code.as_str(), &e.message))).await,
    };
    let result = audited.and(result);
    let status = match &result {
        Ok(_) => 200,
        Err(e) => e.code.status(),
    };
    if status >= 500 {
        tracing::warn!(%request_id, %target, status, "request failed");
    } else {
        tracing::debug!(%request_id, %target, status, micros = started.elapsed().as_micros() as u64, "request");
    }
    let code = result.as_ref().err().map(|e| e.code.as_str());
    state
        .metrics
        .observe_target(&target, code, started.elapsed());
    match result {
        Ok(body) => respond(StatusCode::OK, &request_id, body, None),
        Err(e) => error_response(&request_id, &e),
    }
}

/// Signing names accepted on the JSON endpoint.
const JSON_SIGNING_NAMES: [&str; 2] = [coffer_protocol::SIGNING_NAME, "cloudtrail"];
/// Signing names accepted for KMS targets (and only for them).
const KMS_SIGNING_NAMES: [&str; 1] = ["kms"];

/// The signing names acceptable for a JSON request to `target`.
fn signing_names_for(target: &str) -> &'static [&'static str] {
    if target.starts_with(coffer_service::kms::TARGET_PREFIX) {
        &KMS_SIGNING_NAMES
    } else {
        &JSON_SIGNING_NAMES
    }
}

/// The record's event source and name for an `X-Amz-Target`.
fn event_of(target: &str) -> (&'static str, String) {
    if let Some(op) = target.strip_prefix(TARGET_PREFIX) {
        ("secretsmanager.amazonaws.com", op.to_owned())
    } else if let Some(op) = target.strip_prefix(ADMIN_PREFIX) {
        ("coffer.amazonaws.com", op.to_owned())
    } else if let Some(op) = target.strip_prefix(CLOUDTRAIL_PREFIX) {
        ("cloudtrail.amazonaws.com", op.to_owned())
    } else if let Some(op) = target.strip_prefix(coffer_service::kms::TARGET_PREFIX) {
        ("kms.amazonaws.com", op.to_owned())
    } else {
        let name: String = target
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .take(128)
            .collect();
        ("secretsmanager.amazonaws.com", name)
    }
}

/// `requestParameters` of a JSON request: its fields, secret material hidden.
fn request_parameters(body: &[u8]) -> serde_json::Value {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v @ serde_json::Value::Object(_)) => coffer_audit::redact_elements(&v),
        _ => serde_json::Value::Null,
    }
}

/// Renders an AWS JSON error.
pub fn error_response(request_id: &str, e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    respond(
        status,
        request_id,
        Bytes::from(e.body()),
        Some(e.code.as_str()),
    )
}

fn respond(
    status: StatusCode,
    request_id: &str,
    body: Bytes,
    error_type: Option<&str>,
) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    resp
}

/// Reads a request body up to `max` bytes.
pub async fn read_body(body: Body, max: usize) -> Result<Bytes, ApiError> {
    http_body_util::Limited::new(body, max)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|_| {
            ApiError::new(
                ErrorCode::RequestEntityTooLargeException,
                format!("Request body exceeds the limit of {max} bytes."),
            )
        })
}

/// The service-layer caller for an authenticated request.
pub fn caller_of(who: &Authenticated, parts: &http::request::Parts) -> Caller {
    let peer = parts.extensions.get::<crate::state::Peer>();
    Caller {
        account_id: who.account_id.clone(),
        region: who.region.clone(),
        identity: who.identity.clone(),
        access_key_id: who.access_key_id.clone(),
        source_ip: peer.map(|p| p.ip.to_string()),
        secure_transport: peer.is_some_and(|p| p.tls),
        audit: None,
    }
}

/// Verifies the request's SigV4 signature for one of `services`.
pub async fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
    body: &[u8],
    services: &[&'static str],
) -> Result<Authenticated, ApiError> {
    let mut headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let authority;
    if !parts.headers.contains_key(http::header::HOST)
        && let Some(a) = parts.uri.authority()
    {
        // HTTP/2 carries the host in :authority.
        authority = a.as_str().to_owned();
        headers.push(("host", authority.as_bytes()));
    }
    let req = coffer_sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
    };
    auth::authenticate(state, &req, services).await
}

fn decode<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        // serde's own messages can quote input values (a secret in the wrong field), so only
        // the kind of problem and its position are reported.
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Syntax => "The request body is not valid JSON",
            Category::Eof => "The request body ends before the JSON is complete",
            Category::Data => "A request field has the wrong type or value",
            Category::Io => "The request body could not be read",
        };
        ApiError::new(
            ErrorCode::SerializationException,
            format!("{what} (line {}, column {}).", e.line(), e.column()),
        )
    })
}

fn encode<T: Serialize>(out: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(out)
        .map(Bytes::from)
        .map_err(|_| ApiError::internal())
}

async fn dispatch(
    state: &AppState,
    who: &Authenticated,
    caller: &Caller,
    target: &str,
    body: &[u8],
) -> Result<Bytes, ApiError> {
    if let Some(op) = target.strip_prefix(ADMIN_PREFIX) {
        return crate::sys::admin(state, who, caller, op, body).await;
    }
    if let Some(op) = target.strip_prefix(CLOUDTRAIL_PREFIX) {
        return match op {
            "LookupEvents" => encode(&state.service.lookup_events(caller, decode(body)?).await?),
            _ => Err(ApiError::new(
                ErrorCode::UnknownOperationException,
                format!("The CloudTrail operation {op:?} is not available in Coffer."),
            )),
        };
    }
    if let Some(op) = target.strip_prefix(coffer_service::kms::TARGET_PREFIX) {
        return encode(&state.service.kms_call(caller, op, body).await?);
    }
    let op = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnknownOperationException,
                format!("The operation {target:?} is not known to this service."),
            )
        })?;
    if !op.implemented() {
        return Err(not_available(op));
    }
    let svc = &state.service;
    let c = caller;
    match op {
        Operation::CreateSecret => encode(&svc.create_secret(c, decode(body)?).await?),
        Operation::GetSecretValue => encode(&svc.get_secret_value(c, decode(body)?).await?),
        Operation::BatchGetSecretValue => {
            encode(&svc.batch_get_secret_value(c, decode(body)?).await?)
        }
        Operation::PutSecretValue => encode(&svc.put_secret_value(c, decode(body)?).await?),
        Operation::UpdateSecret => encode(&svc.update_secret(c, decode(body)?).await?),
        Operation::DescribeSecret => encode(&svc.describe_secret(c, decode(body)?).await?),
        Operation::ListSecrets => encode(&svc.list_secrets(c, decode(body)?).await?),
        Operation::ListSecretVersionIds => {
            encode(&svc.list_secret_version_ids(c, decode(body)?).await?)
        }
        Operation::UpdateSecretVersionStage => {
            encode(&svc.update_secret_version_stage(c, decode(body)?).await?)
        }
        Operation::DeleteSecret => encode(&svc.delete_secret(c, decode(body)?).await?),
        Operation::RestoreSecret => encode(&svc.restore_secret(c, decode(body)?).await?),
        Operation::TagResource => {
            svc.tag_resource(c, decode(body)?).await?;
            Ok(Bytes::from_static(b"{}"))
        }
        Operation::UntagResource => {
            svc.untag_resource(c, decode(body)?).await?;
            Ok(Bytes::from_static(b"{}"))
        }
        Operation::GetRandomPassword => {
            svc.authorize(
                c,
                &coffer_service::Access::sm("GetRandomPassword"),
                "*",
                None,
            )
            .await?;
            encode(&coffer_service::random_password(decode(body)?)?)
        }
        Operation::PutResourcePolicy => encode(&svc.put_resource_policy(c, decode(body)?).await?),
        Operation::GetResourcePolicy => encode(&svc.get_resource_policy(c, decode(body)?).await?),
        Operation::DeleteResourcePolicy => {
            encode(&svc.delete_resource_policy(c, decode(body)?).await?)
        }
        Operation::ValidateResourcePolicy => {
            encode(&svc.validate_resource_policy(c, decode(body)?).await?)
        }
        other => Err(not_available(other)),
    }
}

/// The answer for operations of the model this version does not implement yet.
fn not_available(op: Operation) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidRequestException,
        format!("{} is not available in this version of Coffer.", op.name()),
    )
}
