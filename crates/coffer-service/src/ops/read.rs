//! GetSecretValue and BatchGetSecretValue: the hot path.

use super::meta::PageQuery;
use crate::resolve::{deleted_error, lookups};
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::{AWSCURRENT, SealedValue, SecretState, ValueKind, clock::day_start, validate};
use coffer_protocol::shapes::{
    ApiErrorEntry, BatchGetSecretValueInput, BatchGetSecretValueOutput, GetSecretValueInput,
    SecretBytes, SecretText, SecretValueEntry, ts,
};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::VersionSelector;
use zeroize::Zeroizing;

/// Most secrets one BatchGetSecretValue page returns.
const MAX_BATCH: i64 = 20;

impl Service {
    /// GetSecretValue.
    pub async fn get_secret_value(
        &self,
        caller: &Caller,
        input: GetSecretValueInput,
    ) -> ApiResult<SecretValueEntry> {
        let vid = input.version_id.as_deref();
        let stage = input.version_stage.as_deref();
        let select = match (vid, stage) {
            (Some(id), _) => VersionSelector::Id(id.to_owned()),
            (None, s) => VersionSelector::Stage(s.unwrap_or(AWSCURRENT).to_owned()),
        };
        let access = Access::sm("GetSecretValue")
            .opt("secretsmanager:VersionId", vid)
            .opt("secretsmanager:VersionStage", stage);
        let target = lookups(caller, &access, input.secret_id.as_deref())?;
        // One store round trip for metadata and value on the hot path.
        for l in &target.lookups {
            if let Some((state, sealed)) = self
                .store
                .load_with_value(l, &select)
                .await
                .map_err(crate::convert::store)?
            {
                self.authorize_secret(caller, &access, &target.id, &state)
                    .await?;
                return self
                    .read_value_with(caller, &state, vid, stage, sealed)
                    .await;
            }
        }
        Err(self.not_found(caller, &access, &target).await)
    }

    /// Picks a version (by id and/or label, default AWSCURRENT), decrypts it and records the access.
    pub(crate) async fn read_value(
        &self,
        caller: &Caller,
        state: &SecretState,
        version_id: Option<&str>,
        stage: Option<&str>,
    ) -> ApiResult<SecretValueEntry> {
        self.read_value_with(caller, state, version_id, stage, None)
            .await
    }

    /// [`Service::read_value`] with the version's sealed value possibly already loaded.
    async fn read_value_with(
        &self,
        caller: &Caller,
        state: &SecretState,
        version_id: Option<&str>,
        stage: Option<&str>,
        prefetched: Option<SealedValue>,
    ) -> ApiResult<SecretValueEntry> {
        if let Some(v) = version_id {
            validate::version_id(v).map_err(crate::convert::core)?;
        }
        if let Some(s) = stage {
            validate::version_stage(s).map_err(crate::convert::core)?;
        }
        let secret = &state.secret;
        if secret.is_deleted() {
            return Err(deleted_error());
        }
        let version = match (version_id, stage) {
            (Some(id), stage) => state
                .version(id)
                .filter(|v| stage.is_none_or(|s| v.stages.iter().any(|x| x == s))),
            (None, s) => state.version_with_label(s.unwrap_or(AWSCURRENT)),
        }
        .ok_or_else(|| {
            let what = match (version_id, stage) {
                (Some(id), _) => format!("VersionId: {id}"),
                (None, s) => format!("staging label: {}", s.unwrap_or(AWSCURRENT)),
            };
            ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!("Secrets Manager can't find the specified secret value for {what}"),
            )
        })?;
        let value = match prefetched {
            Some(sealed) => {
                self.open_sealed(caller, secret, &version.version_id, &sealed)
                    .await?
            }
            None => {
                self.open_version(caller, secret, &version.version_id)
                    .await?
            }
        };
        self.note_access(state, &version.version_id);
        let (secret_string, secret_binary) = match value.kind {
            ValueKind::String => {
                let text = String::from_utf8(value.bytes.to_vec()).map_err(|_| {
                    ApiError::new(
                        ErrorCode::DecryptionFailure,
                        "Stored secret text is not UTF-8.",
                    )
                })?;
                (Some(SecretText(Zeroizing::new(text))), None)
            }
            ValueKind::Binary => (None, Some(SecretBytes(value.bytes))),
        };
        Ok(SecretValueEntry {
            arn: secret.arn.clone(),
            name: secret.name.clone(),
            version_id: version.version_id.clone(),
            secret_string,
            secret_binary,
            version_stages: version.stages.clone(),
            created_date: ts(version.created_ms),
        })
    }

    /// Records LastAccessedDate (day resolution) without slowing the read: at most one
    /// background write per secret version per day.
    fn note_access(&self, state: &SecretState, version_id: &str) {
        let day = day_start(self.now_ms());
        let version_day = state.version(version_id).and_then(|v| v.last_accessed_ms);
        if state.secret.last_accessed_ms == Some(day) && version_day == Some(day) {
            return;
        }
        let store = self.store.clone();
        let arn = state.secret.arn.clone();
        let vid = version_id.to_owned();
        tokio::spawn(async move {
            if let Err(e) = store.touch_accessed(&arn, &vid, day).await {
                tracing::warn!(error = %e, "could not record last access");
            }
        });
    }

    /// BatchGetSecretValue: by explicit ids (per-secret errors) or by filters (paged).
    pub async fn batch_get_secret_value(
        &self,
        caller: &Caller,
        input: BatchGetSecretValueInput,
    ) -> ApiResult<BatchGetSecretValueOutput> {
        self.authorize(caller, &Access::sm("BatchGetSecretValue"), "*", None)
            .await?;
        match (input.secret_id_list, input.filters) {
            (Some(_), Some(_)) => Err(ApiError::param(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
            )),
            (None, None) => Err(ApiError::param(
                "Either 'SecretIdList' or 'Filters' must be provided.",
            )),
            (Some(ids), None) => {
                if input.max_results.is_some() || input.next_token.is_some() {
                    return Err(ApiError::param(
                        "'MaxResults' and 'NextToken' can only be used with 'Filters'.",
                    ));
                }
                if ids.is_empty() || ids.len() > MAX_BATCH as usize {
                    return Err(ApiError::param(
                        "SecretIdList must contain 1 to 20 secret ids.",
                    ));
                }
                let mut out = BatchGetSecretValueOutput {
                    secret_values: Vec::new(),
                    errors: Vec::new(),
                    next_token: None,
                };
                for id in ids {
                    let get = Access::sm("GetSecretValue");
                    let r = match self.resolve(caller, &get, Some(&id)).await {
                        Ok(state) => self.read_value(caller, &state, None, None).await,
                        Err(e) => Err(e),
                    };
                    collect(&mut out, id, r)?;
                }
                Ok(out)
            }
            (None, Some(raw)) => {
                let max = input.max_results.unwrap_or(MAX_BATCH);
                validate::max_results(max, MAX_BATCH).map_err(crate::convert::core)?;
                let filters = raw.into_iter().map(|f| (f.key, f.values)).collect();
                let (page, next_token) = self
                    .filtered_page(
                        caller,
                        PageQuery {
                            tag: "batch",
                            filters,
                            include_deleted: false,
                            sort_by: "created-date",
                            desc: false,
                            max,
                            next_token: input.next_token.as_deref(),
                        },
                    )
                    .await?;
                let mut out = BatchGetSecretValueOutput {
                    secret_values: Vec::new(),
                    errors: Vec::new(),
                    next_token,
                };
                let get = Access::sm("GetSecretValue");
                for s in &page {
                    let r = match self.authorize_secret(caller, &get, &s.secret.arn, s).await {
                        Ok(()) => self.read_value(caller, s, None, None).await,
                        Err(e) => Err(e),
                    };
                    collect(&mut out, s.secret.arn.clone(), r)?;
                }
                Ok(out)
            }
        }
    }
}

/// Adds one BatchGetSecretValue result: a value, or a per-secret error entry. Failures of
/// the server itself (sealed, internal) fail the whole call instead.
fn collect(
    out: &mut BatchGetSecretValueOutput,
    secret_id: String,
    r: ApiResult<SecretValueEntry>,
) -> ApiResult<()> {
    match r {
        Ok(v) => out.secret_values.push(v),
        Err(e)
            if e.code == ErrorCode::ServiceUnavailableException
                || e.code == ErrorCode::InternalServiceError =>
        {
            return Err(e);
        }
        Err(e) => out.errors.push(ApiErrorEntry {
            secret_id,
            error_code: e.code.as_str().to_owned(),
            message: e.message,
        }),
    }
    Ok(())
}
