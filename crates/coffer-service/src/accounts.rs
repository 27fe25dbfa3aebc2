//! Accounts and their access keys. A secret access key is stored only sealed under the
//! root key; it is shown once, when created.

use crate::Caller;
use crate::{ApiResult, Service};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::{AccessKeyRecord, AccountRecord, StoreError};
use zeroize::Zeroizing;

const AKID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const WRAP_LABEL: &str = "coffer/access-key/v1";

/// A freshly created key pair, to show the operator once.
pub struct NewCredentials {
    /// Account id.
    pub account_id: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (zeroized on drop).
    pub secret_access_key: Zeroizing<String>,
}

impl std::fmt::Debug for NewCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredentials")
            .field("account_id", &self.account_id)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// An access key resolved for signature verification.
pub struct ResolvedKey {
    /// Owning account.
    pub account_id: String,
    /// Principal ARN.
    pub principal_arn: String,
    /// Whether the account may call admin operations.
    pub admin: bool,
    /// The secret access key.
    pub secret: Zeroizing<String>,
    /// Who the key belongs to.
    pub identity: crate::Identity,
}

impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("account_id", &self.account_id)
            .field("principal_arn", &self.principal_arn)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Creates a new account with a random 12-digit id and a root access key. The audit
    /// record of `caller`'s call (if any) commits with the account.
    pub async fn create_account(
        &self,
        admin: bool,
        caller: Option<&Caller>,
    ) -> ApiResult<NewCredentials> {
        for _ in 0..5 {
            let id = coffer_crypto::random_string(b"0123456789", 12);
            let rec = AccountRecord {
                account_id: id.clone(),
                created_ms: self.now_ms(),
                admin,
            };
            let audit = caller
                .and_then(|c| self.audit_for_commit(c, &serde_json::json!({"AccountId": id})));
            let audited = audit.is_some();
            match self.store.create_account_audited(&rec, audit).await {
                Ok(()) => {
                    if let (true, Some(c)) = (audited, caller) {
                        self.audit_committed(c);
                    }
                    return self.create_access_key(&id).await;
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(crate::convert::store(e)),
            }
        }
        Err(ApiError::internal())
    }

    /// Creates an access key for the account's root principal.
    pub async fn create_access_key(&self, account_id: &str) -> ApiResult<NewCredentials> {
        let root = format!("arn:aws:iam::{account_id}:root");
        self.create_access_key_for(account_id, &root).await
    }

    /// Creates an access key for a principal (the root or an IAM user) of an account.
    pub async fn create_access_key_for(
        &self,
        account_id: &str,
        principal_arn: &str,
    ) -> ApiResult<NewCredentials> {
        self.create_access_key_audited(account_id, principal_arn, None)
            .await
    }

    /// [`Service::create_access_key_for`] with `caller`'s audit record in the same write.
    pub(crate) async fn create_access_key_audited(
        &self,
        account_id: &str,
        principal_arn: &str,
        caller: Option<&Caller>,
    ) -> ApiResult<NewCredentials> {
        let akid = format!("AKIA{}", coffer_crypto::random_string(AKID_ALPHABET, 16));
        let secret = Zeroizing::new(coffer_crypto::random_string(SECRET_ALPHABET, 40));
        let wrapped = self
            .keyring
            .wrap(WRAP_LABEL, &[akid.as_bytes()], secret.as_bytes())?;
        let rec = AccessKeyRecord {
            access_key_id: akid.clone(),
            account_id: account_id.to_owned(),
            principal_arn: principal_arn.to_owned(),
            wrapped_secret: wrapped,
            status: "Active".to_owned(),
            created_ms: self.now_ms(),
            last_used: None,
        };
        let audit = caller.and_then(|c| {
            let user = principal_arn.rsplit_once(":user/").map(|(_, u)| u);
            self.audit_for_commit(
                c,
                &serde_json::json!({"AccessKey": {"AccessKeyId": akid, "Status": "Active", "UserName": user}}),
            )
        });
        let audited = audit.is_some();
        self.store
            .put_access_key_audited(&rec, audit)
            .await
            .map_err(crate::convert::store)?;
        if let (true, Some(c)) = (audited, caller) {
            self.audit_committed(c);
        }
        Ok(NewCredentials {
            account_id: account_id.to_owned(),
            access_key_id: akid,
            secret_access_key: secret,
        })
    }

    /// Looks up an active access key and unwraps its secret; `None` if unknown or inactive.
    pub async fn resolve_access_key(&self, access_key_id: &str) -> ApiResult<Option<ResolvedKey>> {
        if access_key_id.len() > 128 {
            return Ok(None);
        }
        let Some(rec) = self
            .store
            .get_access_key(access_key_id)
            .await
            .map_err(crate::convert::store)?
        else {
            return Ok(None);
        };
        if rec.status != "Active" {
            return Ok(None);
        }
        let account = self
            .store
            .get_account(&rec.account_id)
            .await
            .map_err(crate::convert::store)?
            .ok_or_else(|| ApiError::new(ErrorCode::InternalServiceError, "account missing"))?;
        let bytes = self.keyring.unwrap(
            WRAP_LABEL,
            &[rec.access_key_id.as_bytes()],
            &rec.wrapped_secret,
        )?;
        let secret =
            Zeroizing::new(String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::internal())?);
        let identity = if rec.principal_arn == format!("arn:aws:iam::{}:root", rec.account_id) {
            crate::Identity::root(&rec.account_id)
        } else {
            let name = rec.principal_arn.rsplit('/').next().unwrap_or_default();
            let user: Option<coffer_iam::model::User> = self
                .iam_doc(&rec.account_id, crate::authz::load::USER, name)
                .await?;
            // A key whose user is gone authenticates nobody.
            let Some(user) = user.filter(|u| u.arn == rec.principal_arn) else {
                return Ok(None);
            };
            crate::Identity::user(&rec.account_id, &user.arn, &user.name, &user.user_id)
        };
        Ok(Some(ResolvedKey {
            account_id: rec.account_id,
            principal_arn: rec.principal_arn,
            admin: account.admin,
            secret,
            identity,
        }))
    }
}
