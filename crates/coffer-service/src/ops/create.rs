//! CreateSecret.

use super::{Value, same_value, take_value, token_or_new};
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::{AWSCURRENT, SecretArn, SecretRecord, SecretState, Tag, validate};
use coffer_protocol::shapes::{CreateSecretInput, CreateSecretOutput};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::{Change, Lookup, StoreError};

pub(crate) fn tags_from(tags: Option<Vec<coffer_protocol::shapes::Tag>>) -> Vec<Tag> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|t| Tag {
            key: t.key,
            value: t.value,
        })
        .collect()
}

impl Service {
    /// CreateSecret: a new secret, with a first version labeled AWSCURRENT if a value is given.
    /// Retrying with the same ClientRequestToken and value returns the existing secret.
    pub async fn create_secret(
        &self,
        caller: &Caller,
        input: CreateSecretInput,
    ) -> ApiResult<CreateSecretOutput> {
        let name = input
            .name
            .ok_or_else(|| ApiError::param("You must specify a Name."))?;
        validate::secret_name(&name).map_err(crate::convert::core)?;
        if let Some(d) = &input.description {
            validate::description(d).map_err(crate::convert::core)?;
        }
        let tags = tags_from(input.tags);
        validate::tags(&tags).map_err(crate::convert::core)?;
        self.enforce_create_controls(&name, &tags)?;
        if input
            .add_replica_regions
            .as_ref()
            .is_some_and(|r| !r.is_empty())
        {
            return Err(ApiError::request(
                "Replication to other regions is not available in this version of Coffer.",
            ));
        }
        if input.secret_type.is_some() {
            return Err(ApiError::param(
                "Managed external secrets (Type) are not supported.",
            ));
        }
        let value = take_value(input.secret_string, input.secret_binary)?;
        let token = token_or_new(input.client_request_token)?;
        let kms_key_id = self
            .check_kms_key_id(caller, input.kms_key_id.as_deref())
            .await?;

        let arn = SecretArn::new_for(&caller.region, &caller.account_id, &name).render();
        let access = Access::sm("CreateSecret")
            .key("secretsmanager:Name", name.clone())
            .opt("secretsmanager:Description", input.description.clone())
            .opt("secretsmanager:KmsKeyId", input.kms_key_id.clone())
            .request_tags(tags.iter().map(|t| (t.key.as_str(), t.value.as_str())));
        self.authorize(caller, &access, &arn, None).await?;
        let lookup = Lookup::Name {
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            name: name.clone(),
        };
        if let Some(existing) = self
            .store
            .load(&lookup)
            .await
            .map_err(crate::convert::store)?
        {
            return self
                .create_conflict(caller, existing, &token, value.as_ref())
                .await;
        }

        let now = self.now_ms();
        let secret = SecretRecord {
            arn: arn.clone(),
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            name: name.clone(),
            description: input.description,
            kms_key_id,
            tags,
            created_ms: now,
            last_changed_ms: now,
            last_accessed_ms: None,
            deleted_ms: None,
            deletion_ms: None,
            revision: 1,
            extra: serde_json::Value::Object(Default::default()),
        };
        let version = match &value {
            Some(v) => Some(
                self.seal_version(caller, &secret, &token, vec![AWSCURRENT.to_owned()], v)
                    .await?,
            ),
            None => None,
        };
        let version_id = version.as_ref().map(|v| v.record.version_id.clone());
        let out = CreateSecretOutput {
            arn,
            name,
            version_id,
        };
        let audit = self.audit_for_commit(caller, &out);
        let audited = audit.is_some();
        match self
            .store
            .commit_audited(Change::Create { secret, version }, audit)
            .await
        {
            Ok(()) => {
                if audited {
                    self.audit_committed(caller);
                }
                Ok(out)
            }
            Err(StoreError::NameTaken) | Err(StoreError::Conflict) => {
                // Lost a race with a concurrent create: answer as if we had seen it first.
                match self
                    .store
                    .load(&lookup)
                    .await
                    .map_err(crate::convert::store)?
                {
                    Some(existing) => {
                        self.create_conflict(caller, existing, &token, value.as_ref())
                            .await
                    }
                    None => Err(ApiError::internal()),
                }
            }
            Err(e) => Err(crate::convert::store(e)),
        }
    }

    /// CreateSecret on a name that is taken: an idempotent retry succeeds, anything else fails.
    async fn create_conflict(
        &self,
        caller: &Caller,
        existing: SecretState,
        token: &str,
        value: Option<&Value>,
    ) -> ApiResult<CreateSecretOutput> {
        let s = &existing.secret;
        if s.is_deleted() {
            return Err(ApiError::request(format!(
                "You can't create this secret because a secret with this name ({}) is already scheduled for deletion.",
                s.name
            )));
        }
        if let (Some(v), Some(_)) = (value, existing.version(token)) {
            let stored = self.open_version(caller, s, token).await?;
            if same_value(&stored, v) {
                return Ok(CreateSecretOutput {
                    arn: s.arn.clone(),
                    name: s.name.clone(),
                    version_id: Some(token.to_owned()),
                });
            }
        }
        Err(ApiError::new(
            ErrorCode::ResourceExistsException,
            format!(
                "The operation failed because the secret {} already exists.",
                s.name
            ),
        ))
    }
}
