//! `POST /` with a form-encoded body (or `GET /?Action=…`): the IAM and STS APIs in the AWS
//! Query protocol, routed by the signing name of the credential scope. XML in and out.

use axum::body::Body;
use axum::response::Response;
use coffer_iam::IamError;
use coffer_iam::wire::{QueryRequest, Service as Wire};
use coffer_protocol::{ApiError, ErrorCode};
use http::{HeaderValue, StatusCode};

use crate::AppState;
use crate::api::{authenticate, caller_of, read_body};
use coffer_audit::AuditDraft;
use std::sync::Arc;

/// True when the request is for the Query protocol: no `X-Amz-Target`, and a form body or
/// an `Action` in the URL.
pub fn is_query(parts: &http::request::Parts) -> bool {
    if parts.headers.contains_key("x-amz-target") {
        return false;
    }
    let form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    form || parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")))
}

/// Handles one IAM or STS request.
pub async fn handle(
    state: &AppState,
    parts: http::request::Parts,
    body: Body,
    request_id: String,
) -> Response {
    let (started, mut action) = (std::time::Instant::now(), None);
    let mut call = crate::audit::Call::new(state, &parts, &request_id);
    call.event_source = "iam.amazonaws.com";
    let mut draft = None;
    let (wire, result) = run(state, &parts, body, &request_id, &mut call, &mut draft).await;
    action = (!call.event_name.is_empty())
        .then(|| call.event_name.clone())
        .or(action);
    let draft = draft.unwrap_or_else(|| call.draft(state, None));
    let audited = match &result {
        // XML responses are not copied into the record (responseElements stay null).
        Ok(_) => crate::audit::finish(state, &draft, Ok(None)).await,
        Err(e) => {
            let message = e.to_string();
            crate::audit::finish(state, &draft, Err((e.code(), &message))).await
        }
    };
    let result = match audited {
        Ok(()) => result,
        Err(e) => Err(IamError::ServiceFailure(e.message)),
    };
    let code = result.as_ref().err().map(IamError::code);
    let sts = wire == Wire::Sts;
    state
        .metrics
        .observe_query(sts, action.as_deref(), code, started.elapsed());
    match result {
        Ok(xml) => respond(StatusCode::OK, &request_id, xml),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            if status.is_server_error() {
                tracing::warn!(%request_id, code = e.code(), "query request failed");
            }
            respond(status, &request_id, e.to_xml(wire, &request_id))
        }
    }
}

async fn run(
    state: &AppState,
    parts: &http::request::Parts,
    body: Body,
    request_id: &str,
    call: &mut crate::audit::Call,
    draft: &mut Option<Arc<AuditDraft>>,
) -> (Wire, Result<String, IamError>) {
    let body = match read_body(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return (Wire::Iam, Err(from_api(e))),
    };
    let req = match QueryRequest::parse(&body, parts.uri.query()) {
        Ok(r) => r,
        Err(e) => return (Wire::Iam, Err(IamError::from(e))),
    };
    let action: String = req
        .action()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(128)
        .collect();
    call.event_name = action;
    call.request_parameters = coffer_audit::request_parameters_from_form(req.params());
    // AssumeRoleWithWebIdentity is unsigned: the web identity token is the credential.
    let unsigned = !parts.headers.contains_key(http::header::AUTHORIZATION)
        && !parts
            .uri
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature="));
    if unsigned && req.action() == Some("AssumeRoleWithWebIdentity") {
        call.event_source = "sts.amazonaws.com";
        call.read_only = true;
        let mut d = call.draft(state, None);
        if let Some(account) = req.get("RoleArn").and_then(|a| a.split(':').nth(4)) {
            let mut r = d.record().clone();
            r.user_identity.kind = "WebIdentityUser".to_owned();
            r.recipient_account_id = account.to_owned();
            d = Arc::new(AuditDraft::new(r, call.time_ms));
        }
        *draft = Some(d);
        if !state.service.keyring().is_unsealed() {
            return (
                Wire::Sts,
                Err(IamError::ServiceFailure("Coffer is sealed.".into())),
            );
        }
        return (
            Wire::Sts,
            state.service.sts_call(None, &req, request_id).await,
        );
    }
    let who = match authenticate(state, parts, &body, &["iam", "sts"]).await {
        Ok(w) => w,
        Err(e) => return (Wire::Iam, Err(from_api(e))),
    };
    if who.service == "sts" {
        call.event_source = "sts.amazonaws.com";
    }
    call.read_only = crate::audit::is_read_only(call.event_source, &call.event_name);
    let d = call.draft(state, Some(&who));
    *draft = Some(Arc::clone(&d));
    let mut caller = caller_of(&who, parts);
    caller.audit = Some(d);
    if who.service == "sts" {
        (
            Wire::Sts,
            state
                .service
                .sts_call(Some(&caller), &req, request_id)
                .await,
        )
    } else {
        (
            Wire::Iam,
            state.service.iam_call(&caller, &req, request_id).await,
        )
    }
}

/// Authentication failures in the Query protocol's codes.
fn from_api(e: ApiError) -> IamError {
    match e.code {
        ErrorCode::UnrecognizedClientException => IamError::InvalidClientTokenId(e.message),
        ErrorCode::ExpiredTokenException => IamError::ExpiredToken(e.message),
        ErrorCode::ServiceUnavailableException | ErrorCode::InternalServiceError => {
            IamError::ServiceFailure(e.message)
        }
        ErrorCode::RequestEntityTooLargeException => IamError::ValidationError(e.message),
        ErrorCode::MissingAuthenticationTokenException => {
            IamError::MissingAuthenticationToken(e.message)
        }
        ErrorCode::AccessDeniedException => IamError::AccessDenied(e.message),
        _ => IamError::SignatureDoesNotMatch(e.message),
    }
}

fn respond(status: StatusCode, request_id: &str, xml: String) -> Response {
    let mut resp = Response::new(Body::from(xml));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}
