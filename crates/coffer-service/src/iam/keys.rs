//! Access keys of IAM users: create (secret shown once), list, activate/deactivate,
//! delete, last use.

use coffer_iam::IamError;
use coffer_iam::model::User;
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};
use coffer_store::{AccessKeyRecord, StoreError};

use super::{IamResult, api_error, store_error, wire_error, xml};
use crate::authz::identity::Entity;
use crate::{Caller, Service};

/// Most access keys one user may have (AWS's quota).
const MAX_KEYS_PER_USER: usize = 2;

impl Service {
    pub(crate) async fn key_call(
        &self,
        caller: &Caller,
        action: &str,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let account = caller.account_id.as_str();
        if action == "GetAccessKeyLastUsed" {
            let id = req.required("AccessKeyId").map_err(wire_error)?;
            let key = self.key_in_account(account, id).await?;
            self.iam_allow(caller, action, &key.principal_arn).await?;
            let mut w = XmlWriter::new(Wire::Iam, action);
            w.text("UserName", user_name(&key));
            w.start("AccessKeyLastUsed");
            match &key.last_used {
                Some(u) => {
                    w.timestamp("LastUsedDate", u.ms)
                        .text("ServiceName", &u.service)
                        .text("Region", &u.region);
                }
                None => {
                    w.text("ServiceName", "N/A").text("Region", "N/A");
                }
            }
            w.end();
            return Ok(w.finish(rid));
        }
        // The user whose keys are meant: the named one, else the caller.
        let (principal_arn, name) = match (req.get("UserName"), &caller.identity.entity) {
            (Some(n), _) => {
                let user: User = self.holder(caller, action, n).await?;
                (user.arn, user.name)
            }
            (None, Entity::User(n)) => {
                let user: User = self.holder(caller, action, n).await?;
                (user.arn, user.name)
            }
            (None, _) if caller.identity.is_root() => {
                (caller.identity.principal.arn.clone(), account.to_owned())
            }
            (None, _) => {
                return Err(IamError::ValidationError(
                    "Must specify userName when calling with non-User credentials".into(),
                ));
            }
        };
        let keys = self
            .store
            .list_access_keys(account, &principal_arn)
            .await
            .map_err(store_error)?;
        match action {
            "CreateAccessKey" => {
                if keys.len() >= MAX_KEYS_PER_USER {
                    return Err(IamError::LimitExceeded(format!(
                        "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                    )));
                }
                let creds = self
                    .create_access_key_audited(account, &principal_arn, Some(caller))
                    .await
                    .map_err(api_error)?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.start("AccessKey")
                    .text("UserName", &name)
                    .text("AccessKeyId", &creds.access_key_id)
                    .text("Status", "Active")
                    .text("SecretAccessKey", &creds.secret_access_key)
                    .timestamp("CreateDate", self.now_ms())
                    .end();
                Ok(w.finish(rid))
            }
            "ListAccessKeys" => {
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.list("AccessKeyMetadata", &keys, |w, k| {
                    w.text("UserName", &name)
                        .text("AccessKeyId", &k.access_key_id)
                        .text("Status", &k.status)
                        .timestamp("CreateDate", k.created_ms);
                });
                xml::not_truncated(&mut w);
                Ok(w.finish(rid))
            }
            "UpdateAccessKey" | "DeleteAccessKey" => {
                let id = req.required("AccessKeyId").map_err(wire_error)?;
                if !keys.iter().any(|k| k.access_key_id == id) {
                    return Err(IamError::NoSuchEntity(format!(
                        "The Access Key with id {id} cannot be found."
                    )));
                }
                let audit = self.audit_for_commit(caller, &serde_json::Value::Null);
                let audited = audit.is_some();
                let result = if action == "UpdateAccessKey" {
                    let status = req.required("Status").map_err(wire_error)?;
                    if status != "Active" && status != "Inactive" {
                        return Err(IamError::constraint(
                            "Status",
                            Some(status),
                            "satisfy enum value set: [Active, Inactive, Expired]",
                        ));
                    }
                    self.store
                        .set_access_key_status_audited(id, status, audit)
                        .await
                } else {
                    self.store.delete_access_key_audited(id, audit).await
                };
                match result {
                    Ok(()) => {
                        if audited {
                            self.audit_committed(caller);
                        }
                    }
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(store_error(e)),
                }
                self.key_epoch
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                Ok(XmlWriter::without_result(Wire::Iam, action).finish(rid))
            }
            other => Err(IamError::InvalidAction(format!(
                "Could not find operation {other}"
            ))),
        }
    }

    async fn key_in_account(&self, account: &str, id: &str) -> IamResult<AccessKeyRecord> {
        match self.store.get_access_key(id).await.map_err(store_error)? {
            Some(k) if k.account_id == account => Ok(k),
            _ => Err(IamError::NoSuchEntity(format!(
                "The Access Key with id {id} cannot be found."
            ))),
        }
    }

    /// True when a use of `access_key_id` for `service` in `region` in this minute has not
    /// been recorded yet (cheap, in memory); the caller then calls [`Service::note_key_use`].
    pub fn key_use_is_new(&self, access_key_id: &str, service: &str, region: &str) -> bool {
        let minute = self.now_ms() / 60_000 * 60_000;
        let seen = self.key_use.lock().unwrap_or_else(|p| p.into_inner());
        !seen.get(access_key_id).is_some_and(|uses| {
            uses.iter()
                .any(|(s, r, m)| s == service && r == region && *m == minute)
        })
    }

    /// Records that a key was used (kept to the minute; one write per key, service, region
    /// and minute at most).
    pub async fn note_key_use(&self, access_key_id: &str, service: &str, region: &str) {
        let used = coffer_store::AccessKeyUse {
            ms: self.now_ms() / 60_000 * 60_000,
            service: service.to_owned(),
            region: region.to_owned(),
        };
        {
            let mut seen = self.key_use.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() >= 10_000 {
                seen.clear();
            }
            let uses = seen.entry(access_key_id.to_owned()).or_default();
            uses.retain(|(s, r, _)| !(s == service && r == region));
            uses.truncate(15);
            uses.push((service.to_owned(), region.to_owned(), used.ms));
        }
        if let Err(e) = self.store.touch_access_key(access_key_id, &used).await {
            tracing::warn!(error = %e, "could not record access key use");
        }
    }
}

fn user_name(k: &AccessKeyRecord) -> &str {
    k.principal_arn.rsplit('/').next().unwrap_or_default()
}
