//! CloudTrail's LookupEvents over the audit log: the caller's account, newest first, one
//! lookup attribute, a time range, paging.

use base64::Engine;
use coffer_protocol::{ApiError, ErrorCode};

use crate::ApiResult;
use coffer_store::{AuditAttribute, AuditQuery, AuditRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::authz::Access;
use crate::{Caller, Service};

/// LookupEvents input (CloudTrail JSON 1.1).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LookupEventsInput {
    /// At most one attribute.
    pub lookup_attributes: Option<Vec<LookupAttribute>>,
    /// Epoch seconds.
    pub start_time: Option<f64>,
    /// Epoch seconds.
    pub end_time: Option<f64>,
    /// Only `management` is supported (all Coffer events are).
    pub event_category: Option<String>,
    /// 1–50, default 50.
    pub max_results: Option<i64>,
    /// From a previous page.
    pub next_token: Option<String>,
}

/// One lookup attribute.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LookupAttribute {
    /// EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource,
    /// AccessKeyId.
    pub attribute_key: String,
    /// The value to match.
    pub attribute_value: String,
}

/// LookupEvents output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEventsOutput {
    /// Newest first.
    pub events: Vec<Event>,
    /// Present when more events match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One event of the output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Event {
    /// `eventID`.
    pub event_id: String,
    /// `eventName`.
    pub event_name: String,
    /// `"true"` or `"false"`, as CloudTrail answers.
    pub read_only: String,
    /// Access key used.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub access_key_id: String,
    /// Epoch seconds.
    pub event_time: f64,
    /// `eventSource`.
    pub event_source: String,
    /// Username.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Resources of the record.
    pub resources: Vec<ResourceOut>,
    /// The whole record as a JSON string.
    pub cloud_trail_event: String,
}

/// A resource of an event.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceOut {
    /// e.g. `AWS::SecretsManager::Secret`.
    pub resource_type: String,
    /// The ARN.
    pub resource_name: String,
}

const TOKEN_PREFIX: &str = "coffer-lookup-v1:";

fn invalid(code: ErrorCode, msg: impl Into<String>) -> ApiError {
    ApiError::new(code, msg)
}

impl Service {
    /// LookupEvents: the caller's account's records.
    pub async fn lookup_events(
        &self,
        caller: &Caller,
        input: LookupEventsInput,
    ) -> ApiResult<LookupEventsOutput> {
        self.authorize(caller, &Access::new("cloudtrail:LookupEvents"), "*", None)
            .await?;
        let limit = match input.max_results {
            None => 50,
            Some(n @ 1..=50) => n as usize,
            Some(_) => {
                return Err(invalid(
                    ErrorCode::InvalidMaxResultsException,
                    "MaxResults must be between 1 and 50.",
                ));
            }
        };
        let attrs = input.lookup_attributes.unwrap_or_default();
        if attrs.len() > 1 {
            return Err(invalid(
                ErrorCode::InvalidLookupAttributesException,
                "You can specify only one lookup attribute.",
            ));
        }
        let attribute = attrs.first().map(attribute).transpose()?;
        let to_ms = |s: f64| (s * 1000.0).round() as i64;
        let start_ms = input.start_time.map_or(0, to_ms);
        let end_ms = input.end_time.map_or(i64::MAX, to_ms);
        if start_ms > end_ms {
            return Err(invalid(
                ErrorCode::InvalidTimeRangeException,
                "StartTime must be before EndTime.",
            ));
        }
        if let Some(c) = &input.event_category
            && c != "insight"
            && c != "management"
        {
            return Err(invalid(
                ErrorCode::InvalidParameterException,
                "EventCategory must be insight.",
            ));
        }
        let before_seq = input.next_token.as_deref().map(decode_token).transpose()?;
        let mut q = AuditQuery {
            account_id: Some(caller.account_id.clone()),
            start_ms,
            end_ms,
            attribute: None,
            before_seq,
            limit: limit + 1,
        };
        // Attributes the store does not index are filtered here, page by page.
        let (store_attr, post): (Option<AuditAttribute>, Option<(&str, String)>) = match attribute {
            Some(Ok(a)) => (Some(a), None),
            Some(Err(post)) => (None, Some(post)),
            None => (None, None),
        };
        q.attribute = store_attr;
        let mut events = Vec::with_capacity(limit);
        let mut next_token = None;
        'pages: loop {
            let rows = self
                .store
                .audit_lookup(&q)
                .await
                .map_err(crate::convert::store)?;
            let exhausted = rows.len() < q.limit;
            for row in rows {
                q.before_seq = Some(row.seq);
                let record: Value = serde_json::from_str(&row.entry.json).unwrap_or(Value::Null);
                if let Some((key, want)) = &post
                    && !post_match(&record, key, want)
                {
                    continue;
                }
                if events.len() == limit {
                    next_token = Some(encode_token(row.seq + 1));
                    break 'pages;
                }
                events.push(event(&row, &record));
            }
            if exhausted {
                break;
            }
        }
        Ok(LookupEventsOutput { events, next_token })
    }
}

/// An attribute the store filters on (`Ok`), or one filtered after reading (`Err`).
#[allow(clippy::type_complexity)]
fn attribute(a: &LookupAttribute) -> ApiResult<Result<AuditAttribute, (&'static str, String)>> {
    let v = a.attribute_value.clone();
    if v.is_empty() || v.len() > 2000 {
        return Err(invalid(
            ErrorCode::InvalidLookupAttributesException,
            "AttributeValue must be 1 to 2000 characters.",
        ));
    }
    Ok(match a.attribute_key.as_str() {
        "EventId" => Ok(AuditAttribute::EventId(v)),
        "EventName" => Ok(AuditAttribute::EventName(v)),
        "Username" => Ok(AuditAttribute::Username(v)),
        "AccessKeyId" => Ok(AuditAttribute::AccessKeyId(v)),
        "ResourceName" => Ok(AuditAttribute::ResourceName(v)),
        "ReadOnly" => match v.as_str() {
            "true" => Ok(AuditAttribute::ReadOnly(true)),
            "false" => Ok(AuditAttribute::ReadOnly(false)),
            _ => {
                return Err(invalid(
                    ErrorCode::InvalidLookupAttributesException,
                    "ReadOnly must be true or false.",
                ));
            }
        },
        "EventSource" => Err(("eventSource", v)),
        "ResourceType" => Err(("resourceType", v)),
        other => {
            return Err(invalid(
                ErrorCode::InvalidLookupAttributesException,
                format!("Unknown lookup attribute {other:?}."),
            ));
        }
    })
}

fn post_match(record: &Value, key: &str, want: &str) -> bool {
    match key {
        "resourceType" => record["resources"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r["type"] == want)),
        _ => record[key] == want,
    }
}

fn event(row: &AuditRow, record: &Value) -> Event {
    let resources = record["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| ResourceOut {
                    resource_type: r["type"].as_str().unwrap_or_default().to_owned(),
                    resource_name: r["ARN"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    Event {
        event_id: row.entry.event_id.clone(),
        event_name: row.entry.event_name.clone(),
        read_only: row.entry.read_only.to_string(),
        access_key_id: row.entry.access_key_id.clone(),
        event_time: (row.entry.time_ms / 1000) as f64,
        event_source: record["eventSource"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        username: row.entry.username.clone(),
        resources,
        cloud_trail_event: row.entry.json.clone(),
    }
}

fn encode_token(before_seq: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_PREFIX}{before_seq}"))
}

fn decode_token(t: &str) -> ApiResult<u64> {
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(TOKEN_PREFIX).and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            invalid(
                ErrorCode::InvalidNextTokenException,
                "The NextToken is not valid.",
            )
        })
}
