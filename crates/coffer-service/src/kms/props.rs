//! Key policies and tags: GetKeyPolicy, PutKeyPolicy (with the lockout safety check),
//! TagResource, UntagResource, ListResourceTags.

use super::manage::{KeyInput, WireTag};
use super::{MAX_POLICY, MAX_TAGS, err, invalid, page};
use crate::{ApiResult, Caller, Service};
use coffer_protocol::ErrorCode;
use coffer_store::KmsKeyRecord;
use serde_json::{Value, json};

/// Validates tags as KMS does; returns (key, value) pairs.
pub(super) fn check_tags(tags: &[WireTag]) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(tags.len());
    for t in tags {
        let k = t.tag_key.clone().unwrap_or_default();
        let v = t.tag_value.clone().unwrap_or_default();
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(err(
                ErrorCode::TagException,
                "Tag keys must be 1-128 characters and tag values 0-256 characters.",
            ));
        }
        if k.starts_with("aws:") {
            return Err(err(
                ErrorCode::TagException,
                "Tags beginning with aws: are reserved.",
            ));
        }
        out.push((k, v));
    }
    Ok(out)
}

pub(super) fn merge_tags(
    existing: &mut Vec<(String, String)>,
    new: Vec<(String, String)>,
) -> ApiResult<()> {
    for (k, v) in new {
        match existing.iter_mut().find(|(ek, _)| *ek == k) {
            Some(e) => e.1 = v,
            None => existing.push((k, v)),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(err(
            ErrorCode::LimitExceededException,
            format!("A key can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(())
}

/// Validates a key policy document.
pub(crate) fn check_policy(text: &str) -> ApiResult<()> {
    if text.len() > MAX_POLICY {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY}"
        )));
    }
    coffer_policy::Policy::parse_with_limit(text, MAX_POLICY).map_err(|e| {
        err(
            ErrorCode::MalformedPolicyDocumentException,
            format!(
                "The new key policy will not allow you to update the key policy in the future: {}",
                e.detail()
            ),
        )
    })?;
    Ok(())
}

fn check_policy_name(name: Option<&str>) -> ApiResult<()> {
    match name {
        None | Some("default") => Ok(()),
        Some(other) => Err(err(
            ErrorCode::NotFoundException,
            format!("Policy {other} does not exist. The only valid policy name is default."),
        )),
    }
}

impl Service {
    /// The policy lockout safety check: the key's (new) policy must let the caller change
    /// the policy again.
    pub(super) async fn lockout_check(&self, caller: &Caller, key: &KmsKeyRecord) -> ApiResult<()> {
        self.kms_authorize(caller, key, "PutKeyPolicy", None, None)
            .await
            .map_err(|_| {
                err(
                    ErrorCode::MalformedPolicyDocumentException,
                    "The new key policy will not allow you to update the key policy in the future.",
                )
            })
    }

    /// GetKeyPolicy (policy name `default`).
    pub(crate) async fn kms_get_policy(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        check_policy_name(input.policy_name.as_deref())?;
        let key = self
            .kms_key_for(caller, input.key_id.as_deref(), "GetKeyPolicy")
            .await?;
        Ok(json!({"Policy": Self::kms_policy_text(&key), "PolicyName": "default"}))
    }

    /// PutKeyPolicy.
    pub(crate) async fn kms_put_policy(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> ApiResult<Value> {
        check_policy_name(input.policy_name.as_deref())?;
        let policy = input.policy.ok_or_else(|| invalid("Policy is required."))?;
        check_policy(&policy)?;
        if input.bypass_policy_lockout_safety_check != Some(true) {
            let mut key = self
                .kms_customer_key_for(caller, input.key_id.as_deref(), "PutKeyPolicy")
                .await?;
            key.meta.policy = Some(policy.clone());
            self.lockout_check(caller, &key).await?;
        }
        self.kms_mutate(caller, input.key_id.as_deref(), "PutKeyPolicy", |key, _| {
            key.meta.policy = Some(policy);
            Ok(json!({}))
        })
        .await
    }

    /// TagResource.
    pub(crate) async fn kms_tag(&self, caller: &Caller, input: KeyInput) -> ApiResult<Value> {
        let tags = check_tags(&input.tags)?;
        if tags.is_empty() || tags.len() > MAX_TAGS {
            return Err(invalid(format!("Tags must list 1 to {MAX_TAGS} tags.")));
        }
        self.kms_mutate(caller, input.key_id.as_deref(), "TagResource", |key, _| {
            super::resolve::not_pending_deletion(key)?;
            merge_tags(&mut key.meta.tags, tags)?;
            Ok(json!({}))
        })
        .await
    }

    /// UntagResource.
    pub(crate) async fn kms_untag(&self, caller: &Caller, input: KeyInput) -> ApiResult<Value> {
        let keys = input.tag_keys;
        if keys.is_empty() || keys.len() > MAX_TAGS {
            return Err(invalid(format!("TagKeys must list 1 to {MAX_TAGS} keys.")));
        }
        self.kms_mutate(
            caller,
            input.key_id.as_deref(),
            "UntagResource",
            |key, _| {
                super::resolve::not_pending_deletion(key)?;
                key.meta.tags.retain(|(k, _)| !keys.contains(k));
                Ok(json!({}))
            },
        )
        .await
    }

    /// ListResourceTags.
    pub(crate) async fn kms_list_tags(&self, caller: &Caller, input: KeyInput) -> ApiResult<Value> {
        let key = self
            .kms_key_for(caller, input.key_id.as_deref(), "ListResourceTags")
            .await?;
        let (tags, next) = page(key.meta.tags.clone(), input.limit, input.marker.as_deref())?;
        let list: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
            .collect();
        let mut out = json!({"Tags": list, "Truncated": next.is_some()});
        if let Some(n) = next {
            out["NextMarker"] = json!(n);
        }
        Ok(out)
    }
}
