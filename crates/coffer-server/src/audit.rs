//! One audit record per API call: drafted when the request arrives (and again once the
//! caller is known), finished with the outcome. Writes commit their record inside their own
//! transaction (the service marks the draft); everything else is written here, through the
//! group-commit writer, before the response leaves.

use std::sync::Arc;

use coffer_audit::{AuditDraft, Record, UserIdentity};
use coffer_protocol::ApiError;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticated;

/// Longest `userAgent` kept.
const MAX_USER_AGENT: usize = 1024;

/// What is known about a call before it runs.
#[derive(Debug, Clone)]
pub struct Call {
    /// `secretsmanager.amazonaws.com`, `iam.amazonaws.com`, …
    pub event_source: &'static str,
    /// Operation name.
    pub event_name: String,
    /// Changes nothing.
    pub read_only: bool,
    /// Redacted parameters.
    pub request_parameters: Value,
    /// Client IP.
    pub source_ip: String,
    /// Over TLS.
    pub tls: bool,
    /// `User-Agent`.
    pub user_agent: String,
    /// The request id the client sees.
    pub request_id: String,
    /// When the call arrived (ms).
    pub time_ms: i64,
    /// Access key named by the request, even if it did not verify.
    pub access_key_id: String,
    /// Region named by the request's credential scope (when known).
    pub region: String,
}

impl Call {
    /// The fields of a request; the rest is filled by the protocol handler.
    pub fn new(state: &AppState, parts: &http::request::Parts, request_id: &str) -> Call {
        let peer = parts.extensions.get::<crate::state::Peer>();
        let mut user_agent = parts
            .headers
            .get(http::header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if user_agent.len() > MAX_USER_AGENT {
            let mut end = MAX_USER_AGENT;
            while !user_agent.is_char_boundary(end) {
                end -= 1;
            }
            user_agent.truncate(end);
        }
        let (access_key_id, region) = credential_of(parts);
        Call {
            event_source: "secretsmanager.amazonaws.com",
            event_name: String::new(),
            read_only: false,
            request_parameters: Value::Null,
            source_ip: peer.map(|p| p.ip.to_string()).unwrap_or_default(),
            tls: peer.is_some_and(|p| p.tls),
            user_agent,
            request_id: request_id.to_owned(),
            time_ms: state.service.now_ms(),
            access_key_id,
            region,
        }
    }

    /// The draft for this call by `who` (`None`: the caller could not be identified).
    pub fn draft(&self, state: &AppState, who: Option<&Authenticated>) -> Arc<AuditDraft> {
        let mut r = Record::new(self.event_source, &self.event_name);
        r.event_time = coffer_iam::wire::format_timestamp(self.time_ms);
        r.aws_region = match who {
            Some(w) => w.region.clone(),
            None => self.region.clone(),
        };
        r.source_ip_address = self.source_ip.clone();
        r.user_agent = self.user_agent.clone();
        r.request_parameters = self.request_parameters.clone();
        r.request_id = self.request_id.clone();
        r.event_id = state.event_ids.next_id();
        r.read_only = self.read_only;
        if self.tls {
            r.tls_details = Some(json!({"clientProvidedHostHeader": true}));
        }
        match who {
            Some(w) => {
                r.user_identity =
                    coffer_service::audit::user_identity(&w.identity, &w.access_key_id);
                r.recipient_account_id = w.account_id.clone();
            }
            None => {
                r.user_identity = UserIdentity {
                    kind: "Unknown".to_owned(),
                    access_key_id: (!self.access_key_id.is_empty())
                        .then(|| self.access_key_id.clone()),
                    ..Default::default()
                };
            }
        }
        Arc::new(AuditDraft::new(r, self.time_ms))
    }
}

/// Writes the call's record unless its write already committed it. `Err` (fail-closed
/// mode only) means the response must not be sent.
pub async fn finish(
    state: &AppState,
    draft: &AuditDraft,
    outcome: Result<Option<&Value>, (&str, &str)>,
) -> Result<(), ApiError> {
    if draft.is_committed() {
        return Ok(());
    }
    let entry = match outcome {
        Ok(response) => draft.success(response),
        Err((code, message)) => draft.failure(code, message),
    };
    state
        .service
        .audit_writer()
        .record(entry)
        .await
        .map_err(|e| coffer_service::audit::unavailable(&e))
}

/// The access key id and region named in the `Authorization` header or the presigned query
/// (for records of calls that fail authentication).
fn credential_of(parts: &http::request::Parts) -> (String, String) {
    let from_header = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or("").to_owned());
    let from_query = || {
        parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Credential="))
                .map(|c| c.replace("%2F", "/").replace("%2f", "/"))
        })
    };
    let cred = from_header.or_else(from_query).unwrap_or_default();
    let mut it = cred.split('/');
    let akid = it.next().unwrap_or("");
    let region = it.nth(1).unwrap_or("");
    let ok = |s: &str| s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (
        if ok(akid) {
            akid.to_owned()
        } else {
            String::new()
        },
        if ok(region) {
            region.to_owned()
        } else {
            String::new()
        },
    )
}

/// True for operations that change nothing (CloudTrail's `readOnly`).
pub fn is_read_only(event_source: &str, name: &str) -> bool {
    if event_source == "sts.amazonaws.com" {
        return true;
    }
    // As CloudTrail: KMS cryptographic operations are read-only (and their responses,
    // which carry plaintext, are never parsed into the record).
    if event_source == "kms.amazonaws.com"
        && ["Encrypt", "Decrypt", "GenerateDataKey", "ReEncrypt"]
            .iter()
            .any(|p| name.starts_with(p))
    {
        return true;
    }
    [
        "Get", "List", "Describe", "BatchGet", "Lookup", "Validate", "Simulate",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_operations() {
        for (src, op, ro) in [
            ("secretsmanager.amazonaws.com", "GetSecretValue", true),
            ("secretsmanager.amazonaws.com", "BatchGetSecretValue", true),
            ("secretsmanager.amazonaws.com", "GetRandomPassword", true),
            (
                "secretsmanager.amazonaws.com",
                "ValidateResourcePolicy",
                true,
            ),
            ("secretsmanager.amazonaws.com", "PutSecretValue", false),
            ("secretsmanager.amazonaws.com", "DeleteSecret", false),
            ("iam.amazonaws.com", "CreateUser", false),
            ("iam.amazonaws.com", "SimulatePrincipalPolicy", true),
            ("sts.amazonaws.com", "AssumeRole", true),
        ] {
            assert_eq!(is_read_only(src, op), ro, "{op}");
        }
    }

    #[test]
    fn credential_is_taken_from_the_header() {
        let req = http::Request::builder()
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261125/eu-west-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=abc",
            )
            .body(())
            .unwrap();
        let (parts, _) = req.into_parts();
        assert_eq!(
            credential_of(&parts),
            ("AKIAEXAMPLE".to_owned(), "eu-west-1".to_owned())
        );
    }
}
