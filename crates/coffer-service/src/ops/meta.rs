//! DescribeSecret, ListSecrets, ListSecretVersionIds, TagResource, UntagResource.

use super::bumped;
use super::create::tags_from;
use crate::authz::context_tag_pairs as tag_pairs;
use crate::paging::{self, Cursor, num_key};
use crate::resolve::deleted_error;
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::{SecretState, filter, validate};
use coffer_protocol::ApiError;
use coffer_protocol::shapes::{
    DescribeSecretOutput, ListSecretVersionIdsInput, ListSecretVersionIdsOutput, ListSecretsInput,
    ListSecretsOutput, SecretIdInput, Tag, TagResourceInput, UntagResourceInput, VersionEntry, ts,
};
use coffer_store::Change;
use std::collections::BTreeMap;

/// Default and maximum page size of the list operations.
const MAX_PAGE: i64 = 100;

/// The metadata view of a secret, as DescribeSecret and ListSecrets show it.
pub(crate) fn describe(state: &SecretState, list_form: bool) -> DescribeSecretOutput {
    let s = &state.secret;
    let stages: BTreeMap<String, Vec<String>> = state
        .versions
        .iter()
        .filter(|v| !v.stages.is_empty())
        .map(|v| (v.version_id.clone(), v.stages.clone()))
        .collect();
    DescribeSecretOutput {
        arn: s.arn.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        kms_key_id: s.kms_key_id.clone(),
        rotation_enabled: list_form.then_some(false),
        last_changed_date: ts(s.last_changed_ms),
        last_accessed_date: s.last_accessed_ms.map(ts),
        deleted_date: s.deleted_ms.map(ts),
        tags: s
            .tags
            .iter()
            .map(|t| Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
        version_ids_to_stages: (!list_form).then(|| stages.clone()),
        secret_versions_to_stages: list_form.then_some(stages),
        created_date: ts(s.created_ms),
        primary_region: s.region.clone(),
    }
}

/// The sort key of a secret for ListSecrets' SortBy.
fn sort_key(s: &SecretState, by: &str) -> String {
    match by {
        "name" => s.secret.name.clone(),
        "last-changed-date" => num_key(s.secret.last_changed_ms),
        "last-accessed-date" => num_key(s.secret.last_accessed_ms.unwrap_or(0)),
        _ => num_key(s.secret.created_ms),
    }
}

/// Which secrets of the caller's account and region to list, in what order, from where.
pub(crate) struct PageQuery<'a> {
    /// Names the operation in the token digest, so tokens don't cross operations.
    pub tag: &'a str,
    /// Raw (key, values) filters.
    pub filters: Vec<(String, Vec<String>)>,
    /// Include secrets scheduled for deletion.
    pub include_deleted: bool,
    /// A ListSecrets SortBy value.
    pub sort_by: &'a str,
    /// Descending order.
    pub desc: bool,
    /// Page size.
    pub max: i64,
    /// Token of the previous page.
    pub next_token: Option<&'a str>,
}

impl Service {
    /// One page of the caller's secrets matching `q`, and the token of the next page.
    pub(crate) async fn filtered_page(
        &self,
        caller: &Caller,
        q: PageQuery<'_>,
    ) -> ApiResult<(Vec<SecretState>, Option<String>)> {
        let filters = filter::parse_filters(&q.filters).map_err(crate::convert::core)?;
        let digest = coffer_crypto::sha256_hex(
            format!(
                "{}{:?}{}{}{}",
                q.tag, q.filters, q.sort_by, q.desc, q.include_deleted
            )
            .as_bytes(),
        );
        let all = self
            .store
            .list(&caller.account_id, &caller.region)
            .await
            .map_err(crate::convert::store)?;
        let mut items: Vec<(String, SecretState)> = all
            .into_iter()
            .filter(|s| q.include_deleted || !s.secret.is_deleted())
            .filter(|s| filter::matches(&s.secret, &filters))
            .map(|s| (sort_key(&s, q.sort_by), s))
            .collect();
        items.sort_by(|a, b| (&a.0, &a.1.secret.arn).cmp(&(&b.0, &b.1.secret.arn)));
        if q.desc {
            items.reverse();
        }
        let start = match paging::resume_after(q.next_token, &digest)? {
            Some(cur) => items
                .iter()
                .position(|(k, s)| {
                    let here = (k.clone(), s.secret.arn.clone());
                    if q.desc { here < cur } else { here > cur }
                })
                .unwrap_or(items.len()),
            None => 0,
        };
        let total = items.len();
        let page: Vec<(String, SecretState)> =
            items.into_iter().skip(start).take(q.max as usize).collect();
        let next_token = (start + page.len() < total)
            .then(|| page.last())
            .flatten()
            .map(|(k, s)| {
                paging::encode(&Cursor {
                    k: k.clone(),
                    id: s.secret.arn.clone(),
                    q: digest,
                })
            });
        Ok((page.into_iter().map(|(_, s)| s).collect(), next_token))
    }

    /// DescribeSecret (works on secrets scheduled for deletion).
    pub async fn describe_secret(
        &self,
        caller: &Caller,
        input: SecretIdInput,
    ) -> ApiResult<DescribeSecretOutput> {
        let state = self
            .resolve(
                caller,
                &Access::sm("DescribeSecret"),
                input.secret_id.as_deref(),
            )
            .await?;
        Ok(describe(&state, false))
    }

    /// ListSecrets with filters, sorting and cursor paging.
    pub async fn list_secrets(
        &self,
        caller: &Caller,
        input: ListSecretsInput,
    ) -> ApiResult<ListSecretsOutput> {
        let max = input.max_results.unwrap_or(MAX_PAGE);
        validate::max_results(max, MAX_PAGE).map_err(crate::convert::core)?;
        let by = input
            .sort_by
            .clone()
            .unwrap_or_else(|| "created-date".to_owned());
        if ![
            "created-date",
            "last-accessed-date",
            "last-changed-date",
            "name",
        ]
        .contains(&by.as_str())
        {
            return Err(ApiError::param(format!(
                "Invalid SortBy '{by}': must be one of created-date, last-accessed-date, last-changed-date, name."
            )));
        }
        let desc = match input.sort_order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(o) => {
                return Err(ApiError::param(format!(
                    "Invalid SortOrder '{o}': must be asc or desc."
                )));
            }
        };
        self.authorize(caller, &Access::sm("ListSecrets"), "*", None)
            .await?;
        let filters = input
            .filters
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f.key, f.values))
            .collect();
        let (page, next_token) = self
            .filtered_page(
                caller,
                PageQuery {
                    tag: "list",
                    filters,
                    include_deleted: input.include_planned_deletion.unwrap_or(false),
                    sort_by: &by,
                    desc,
                    max,
                    next_token: input.next_token.as_deref(),
                },
            )
            .await?;
        Ok(ListSecretsOutput {
            secret_list: page.iter().map(|s| describe(s, true)).collect(),
            next_token,
        })
    }

    /// ListSecretVersionIds, newest first, with cursor paging.
    pub async fn list_secret_version_ids(
        &self,
        caller: &Caller,
        input: ListSecretVersionIdsInput,
    ) -> ApiResult<ListSecretVersionIdsOutput> {
        let max = input.max_results.unwrap_or(MAX_PAGE);
        validate::max_results(max, MAX_PAGE).map_err(crate::convert::core)?;
        let state = self
            .resolve(
                caller,
                &Access::sm("ListSecretVersionIds"),
                input.secret_id.as_deref(),
            )
            .await?;
        let include = input.include_deprecated.unwrap_or(false);
        let mut versions: Vec<_> = state
            .versions
            .iter()
            .filter(|v| include || !v.stages.is_empty())
            .collect();
        versions.sort_by(|a, b| (b.created_ms, &b.version_id).cmp(&(a.created_ms, &a.version_id)));
        let digest =
            coffer_crypto::sha256_hex(format!("versions{}{include}", state.secret.arn).as_bytes());
        let start = match paging::resume_after(input.next_token.as_deref(), &digest)? {
            Some(cur) => versions
                .iter()
                .position(|v| (num_key(v.created_ms), v.version_id.clone()) < cur)
                .unwrap_or(versions.len()),
            None => 0,
        };
        let page: Vec<_> = versions.iter().skip(start).take(max as usize).collect();
        let next_token = (start + page.len() < versions.len())
            .then(|| page.last())
            .flatten()
            .map(|v| {
                paging::encode(&Cursor {
                    k: num_key(v.created_ms),
                    id: v.version_id.clone(),
                    q: digest.clone(),
                })
            });
        Ok(ListSecretVersionIdsOutput {
            versions: page
                .iter()
                .map(|v| VersionEntry {
                    version_id: v.version_id.clone(),
                    version_stages: v.stages.clone(),
                    last_accessed_date: v.last_accessed_ms.map(ts),
                    created_date: ts(v.created_ms),
                    kms_key_ids: vec![v.kms_key_arn.clone()],
                })
                .collect(),
            next_token,
            arn: state.secret.arn.clone(),
            name: state.secret.name.clone(),
        })
    }

    /// TagResource: adds tags, overwriting values of existing keys.
    pub async fn tag_resource(&self, caller: &Caller, input: TagResourceInput) -> ApiResult<()> {
        let tags = tags_from(input.tags);
        if tags.is_empty() {
            return Err(ApiError::param("You must specify at least one tag."));
        }
        validate::tags(&tags).map_err(crate::convert::core)?;
        let now = self.now_ms();
        let access = Access::sm("TagResource").request_tags(tag_pairs(&tags));
        self.mutate(caller, &access, input.secret_id.as_deref(), |state| {
            if state.secret.is_deleted() {
                return Err(deleted_error());
            }
            let mut secret = bumped(&state.secret, now);
            for t in &tags {
                match secret.tags.iter_mut().find(|x| x.key == t.key) {
                    Some(x) => x.value = t.value.clone(),
                    None => secret.tags.push(t.clone()),
                }
            }
            validate::tag_count(secret.tags.len()).map_err(crate::convert::core)?;
            Ok((Some(update_meta(state, secret)), ()))
        })
        .await
    }

    /// UntagResource: removes tags by key (missing keys are ignored).
    pub async fn untag_resource(
        &self,
        caller: &Caller,
        input: UntagResourceInput,
    ) -> ApiResult<()> {
        let keys = input.tag_keys.unwrap_or_default();
        if keys.is_empty() {
            return Err(ApiError::param("You must specify at least one tag key."));
        }
        validate::tag_keys(&keys).map_err(crate::convert::core)?;
        let now = self.now_ms();
        self.mutate(
            caller,
            &Access::sm("UntagResource").tag_keys(&keys),
            input.secret_id.as_deref(),
            |state| {
                if state.secret.is_deleted() {
                    return Err(deleted_error());
                }
                self.enforce_untag_controls(&keys)?;
                let mut secret = bumped(&state.secret, now);
                secret.tags.retain(|t| !keys.contains(&t.key));
                Ok((Some(update_meta(state, secret)), ()))
            },
        )
        .await
    }
}

/// A metadata-only update.
pub(crate) fn update_meta(state: &SecretState, secret: coffer_core::SecretRecord) -> Change {
    Change::Update {
        secret,
        expected_revision: state.secret.revision,
        new_version: None,
        set_stages: Vec::new(),
        delete_versions: Vec::new(),
    }
}
