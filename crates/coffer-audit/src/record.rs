//! One audit record in CloudTrail's record format (event version 1.08).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `eventVersion` of every record Coffer writes.
pub const EVENT_VERSION: &str = "1.08";

/// A CloudTrail record. Field names and order follow CloudTrail's documentation so that
/// tools that read CloudTrail logs read these unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Always [`EVENT_VERSION`].
    pub event_version: String,
    /// Who made the call.
    pub user_identity: UserIdentity,
    /// When the call arrived, `YYYY-MM-DDTHH:MM:SSZ`.
    pub event_time: String,
    /// `secretsmanager.amazonaws.com`, `iam.amazonaws.com`, …
    pub event_source: String,
    /// The operation, e.g. `GetSecretValue`.
    pub event_name: String,
    /// Region of the request.
    pub aws_region: String,
    /// Client IP address.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// The client's `User-Agent` (truncated to 1 KiB).
    pub user_agent: String,
    /// AWS error code of a failed call.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// Error message of a failed call.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_message: Option<String>,
    /// The request's parameters, secret material replaced by [`crate::HIDDEN`].
    pub request_parameters: Value,
    /// The response of a successful mutating call (null for reads and failures).
    pub response_elements: Value,
    /// The `x-amzn-RequestId` the client saw.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// Unique id of this record.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// True for calls that change nothing.
    pub read_only: bool,
    /// Resources the call touched.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub resources: Vec<Resource>,
    /// `AwsApiCall` or `AwsServiceEvent`.
    pub event_type: String,
    /// Always true: every Secrets Manager call is a management event.
    pub management_event: bool,
    /// Account whose log holds the record.
    pub recipient_account_id: String,
    /// Details of a service event (rotation outcome, purge, …).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub service_event_details: Option<Value>,
    /// Always `Management`.
    pub event_category: String,
    /// TLS details when the call came over TLS.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls_details: Option<Value>,
}

/// `userIdentity`: the caller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `Root`, `IAMUser`, `AssumedRole`, `WebIdentityUser`, `AWSService` or `Unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unique id of the principal (`AIDA…`, `AROA…:session`, the account id for root).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub principal_id: Option<String>,
    /// The principal's ARN.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arn: Option<String>,
    /// The principal's account.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// The access key used to sign.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub access_key_id: Option<String>,
    /// IAM user name (IAMUser only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_name: Option<String>,
    /// For temporary credentials: the issuing role and the session's attributes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub session_context: Option<SessionContext>,
    /// For service events: the service that acted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub invoked_by: Option<String>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    /// The role the session was issued for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub session_issuer: Option<SessionIssuer>,
    /// `creationDate`, `mfaAuthenticated`.
    pub attributes: Value,
    /// Source identity set when the role was assumed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_identity: Option<String>,
}

/// `sessionContext.sessionIssuer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    /// `Role`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The role's unique id.
    pub principal_id: String,
    /// The role's ARN.
    pub arn: String,
    /// The role's account.
    pub account_id: String,
    /// The role's name.
    pub user_name: String,
}

/// One entry of `resources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Owning account.
    #[serde(rename = "accountId")]
    pub account_id: String,
    /// e.g. `AWS::SecretsManager::Secret`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource's ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl Record {
    /// A record with the fixed fields filled and everything else empty.
    pub fn new(event_source: &str, event_name: &str) -> Record {
        Record {
            event_version: EVENT_VERSION.to_owned(),
            user_identity: UserIdentity {
                kind: "Unknown".to_owned(),
                ..Default::default()
            },
            event_time: String::new(),
            event_source: event_source.to_owned(),
            event_name: event_name.to_owned(),
            aws_region: String::new(),
            source_ip_address: String::new(),
            user_agent: String::new(),
            error_code: None,
            error_message: None,
            request_parameters: Value::Null,
            response_elements: Value::Null,
            request_id: String::new(),
            event_id: String::new(),
            read_only: false,
            resources: Vec::new(),
            event_type: "AwsApiCall".to_owned(),
            management_event: true,
            recipient_account_id: String::new(),
            service_event_details: None,
            event_category: "Management".to_owned(),
            tls_details: None,
        }
    }

    /// The `Username` LookupEvents filters on: the IAM user name, the role session name,
    /// `root`, or empty.
    pub fn lookup_username(&self) -> String {
        let id = &self.user_identity;
        match id.kind.as_str() {
            "Root" => "root".to_owned(),
            "IAMUser" => id.user_name.clone().unwrap_or_default(),
            "AssumedRole" | "WebIdentityUser" => id
                .arn
                .as_deref()
                .and_then(|a| a.rsplit('/').next())
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        }
    }
}
