//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. A key may have several
//! aliases; `alias/aws/` names are reserved for AWS managed keys.

use super::{err, invalid, page, resolve::KeyRef, ts};
use crate::keyring::DEFAULT_KEY_ALIAS;
use crate::{Access, ApiResult, Caller, Service};
use coffer_protocol::ErrorCode;
use coffer_store::{KmsAliasRecord, KmsKeyRecord, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

/// Input of the alias operations.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AliasInput {
    alias_name: Option<String>,
    target_key_id: Option<String>,
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

/// Checks an alias name a caller may create or change.
fn check_alias_name(name: Option<&str>) -> ApiResult<String> {
    let name = name.ok_or_else(|| invalid("AliasName is required."))?;
    if name.is_empty() || name.len() > 256 {
        return Err(invalid(
            "1 validation error detected: Value at 'aliasName' failed to satisfy constraint: Member must have length between 1 and 256",
        ));
    }
    let valid = name.starts_with("alias/")
        && name.len() > 6
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b));
    if !valid {
        return Err(err(
            ErrorCode::InvalidAliasNameException,
            format!(
                "Alias must start with the prefix \"alias/\" and contain only alphanumeric characters, forward slashes (/), underscores (_), and dashes (-): {name}"
            ),
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(err(
            ErrorCode::InvalidAliasNameException,
            "Alias names cannot begin with alias/aws/. The alias/aws/ prefix is reserved for AWS managed keys.",
        ));
    }
    Ok(name.to_owned())
}

impl Service {
    /// The target of CreateAlias/UpdateAlias: a customer key of the caller's account
    /// named by key id or key ARN (not by alias), with `kms:<action>` allowed on it.
    async fn alias_target(
        &self,
        caller: &Caller,
        id: Option<&str>,
        action: &str,
    ) -> ApiResult<KmsKeyRecord> {
        let id = id.ok_or_else(|| invalid("TargetKeyId is required."))?;
        if matches!(KeyRef::parse(caller, id), Some(KeyRef::Alias(..))) {
            return Err(invalid("Aliases must refer to keys. Not aliases"));
        }
        let key = self.kms_customer_key_for(caller, Some(id), action).await?;
        if key.account_id != caller.account_id || key.region != caller.region {
            return Err(err(
                ErrorCode::NotFoundException,
                format!("Key '{}' does not exist", key.arn),
            ));
        }
        super::resolve::not_pending_deletion(&key)?;
        Ok(key)
    }

    /// AWS authorizes alias changes twice: on the alias with IAM policies (here), and on
    /// the key with its key policy.
    async fn authorize_alias(&self, caller: &Caller, op: &str, name: &str) -> ApiResult<()> {
        let alias_arn = format!("arn:aws:kms:{}:{}:{name}", caller.region, caller.account_id);
        self.authorize(caller, &Access::new(format!("kms:{op}")), &alias_arn, None)
            .await
    }

    async fn save_alias(
        &self,
        caller: &Caller,
        alias: &KmsAliasRecord,
        create: bool,
    ) -> ApiResult<()> {
        if let Some(d) = &caller.audit {
            d.note_resource(&alias.target_arn);
        }
        let audit = self.audit_for_commit(caller, &json!({}));
        let audited = audit.is_some();
        let alias_arn = format!(
            "arn:aws:kms:{}:{}:{}",
            alias.region, alias.account_id, alias.name
        );
        match self
            .store()
            .put_kms_alias_audited(alias, create, audit)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(err(
                    ErrorCode::AlreadyExistsException,
                    format!("An alias with the name {alias_arn} already exists"),
                ));
            }
            Err(StoreError::NotFound) => {
                return Err(err(
                    ErrorCode::NotFoundException,
                    format!("Alias {alias_arn} is not found."),
                ));
            }
            Err(e) => return Err(crate::convert::store(e)),
        }
        if audited {
            self.audit_committed(caller);
        }
        Ok(())
    }

    /// CreateAlias.
    pub(crate) async fn kms_create_alias(
        &self,
        caller: &Caller,
        input: AliasInput,
    ) -> ApiResult<Value> {
        let name = check_alias_name(input.alias_name.as_deref())?;
        self.authorize_alias(caller, "CreateAlias", &name).await?;
        let key = self
            .alias_target(caller, input.target_key_id.as_deref(), "CreateAlias")
            .await?;
        let now = self.now_ms();
        let alias = KmsAliasRecord {
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            name,
            target_arn: key.arn,
            created_ms: now,
            updated_ms: now,
        };
        self.save_alias(caller, &alias, true).await?;
        Ok(json!({}))
    }

    /// UpdateAlias: points an existing alias at another key.
    pub(crate) async fn kms_update_alias(
        &self,
        caller: &Caller,
        input: AliasInput,
    ) -> ApiResult<Value> {
        let name = check_alias_name(input.alias_name.as_deref())?;
        self.authorize_alias(caller, "UpdateAlias", &name).await?;
        // The alias must exist and its current key must allow the change too.
        let current = self.kms_find_key(caller, Some(&name)).await?;
        self.kms_authorize(caller, &current, "UpdateAlias", None, None)
            .await?;
        let key = self
            .alias_target(caller, input.target_key_id.as_deref(), "UpdateAlias")
            .await?;
        let alias = KmsAliasRecord {
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            name,
            target_arn: key.arn,
            created_ms: 0,
            updated_ms: self.now_ms(),
        };
        self.save_alias(caller, &alias, false).await?;
        Ok(json!({}))
    }

    /// DeleteAlias.
    pub(crate) async fn kms_delete_alias(
        &self,
        caller: &Caller,
        input: AliasInput,
    ) -> ApiResult<Value> {
        let name = check_alias_name(input.alias_name.as_deref())?;
        self.authorize_alias(caller, "DeleteAlias", &name).await?;
        let key = self.kms_find_key(caller, Some(&name)).await?;
        self.kms_authorize(caller, &key, "DeleteAlias", None, None)
            .await?;
        let audit = self.audit_for_commit(caller, &json!({}));
        let audited = audit.is_some();
        match self
            .store()
            .delete_kms_alias_audited(&caller.account_id, &caller.region, &name, audit)
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => {
                return Err(err(
                    ErrorCode::NotFoundException,
                    format!(
                        "Alias arn:aws:kms:{}:{}:{name} is not found.",
                        caller.region, caller.account_id
                    ),
                ));
            }
            Err(e) => return Err(crate::convert::store(e)),
        }
        if audited {
            self.audit_committed(caller);
        }
        Ok(json!({}))
    }

    /// ListAliases (optionally of one key), including the AWS managed alias.
    pub(crate) async fn kms_list_aliases(
        &self,
        caller: &Caller,
        input: AliasInput,
    ) -> ApiResult<Value> {
        self.authorize(caller, &Access::new("kms:ListAliases"), "*", None)
            .await?;
        let filter = match input.key_id.as_deref() {
            Some(id) => Some(self.kms_find_key(caller, Some(id)).await?.arn),
            None => None,
        };
        let (account, region) = (&caller.account_id, &caller.region);
        let mut all = Vec::new();
        if let Some(k) = self
            .store()
            .kms_key_by_alias(account, region, DEFAULT_KEY_ALIAS)
            .await
            .map_err(crate::convert::store)?
        {
            all.push(json!({
                "AliasName": DEFAULT_KEY_ALIAS,
                "AliasArn": format!("arn:aws:kms:{region}:{account}:{DEFAULT_KEY_ALIAS}"),
                "TargetKeyId": k.key_id,
                "CreationDate": ts(k.created_ms),
                "LastUpdatedDate": ts(k.created_ms),
                "_arn": k.arn,
            }));
        }
        for a in self
            .store()
            .list_kms_aliases(account, region)
            .await
            .map_err(crate::convert::store)?
        {
            let key_id = a
                .target_arn
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            all.push(json!({
                "AliasName": a.name,
                "AliasArn": format!("arn:aws:kms:{region}:{account}:{}", a.name),
                "TargetKeyId": key_id,
                "CreationDate": ts(a.created_ms),
                "LastUpdatedDate": ts(a.updated_ms),
                "_arn": a.target_arn,
            }));
        }
        all.retain(|v| filter.as_deref().is_none_or(|f| v["_arn"] == f));
        for v in &mut all {
            if let Some(o) = v.as_object_mut() {
                o.remove("_arn");
            }
        }
        let (list, next) = page(all, input.limit, input.marker.as_deref())?;
        let mut out = json!({"Aliases": list, "Truncated": next.is_some()});
        if let Some(n) = next {
            out["NextMarker"] = json!(n);
        }
        Ok(out)
    }
}
