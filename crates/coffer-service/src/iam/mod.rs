//! The IAM API (AWS Query protocol): users, groups, roles, managed and inline policies,
//! access keys, permissions boundaries and SimulatePrincipalPolicy.
//!
//! Every entity is a JSON document in the store; every change is one atomic batch guarded
//! by the account's IAM revision (re-read and retried on conflict), and clears this node's
//! compiled-policy cache for the account.

/// Retries `body` on conflicts: `body` is `Some(v)` when done, `None` when it lost a race.
macro_rules! with_retry {
    ($body:expr) => {{
        let mut out = None;
        for _ in 0..$crate::iam::MAX_ATTEMPTS {
            if let Some(v) = $body {
                out = Some(v);
                break;
            }
        }
        out.ok_or_else($crate::iam::contention)
    }};
}

mod entity;
mod groups;
mod keys;
mod policies;
mod roles;
mod simulate;
mod users;
mod xml;

use coffer_iam::IamError;
use coffer_iam::model::name_key;
use coffer_iam::wire::{QueryRequest, WireError};
use coffer_protocol::{ApiError, ErrorCode};
use coffer_store::{IamWrite, StoreError};

use crate::authz::Access;
use crate::{Caller, Service};

/// Result of an IAM/STS call: the XML body or an IAM error.
pub type IamResult<T> = Result<T, IamError>;

/// Most write attempts for one IAM change under contention.
const MAX_ATTEMPTS: usize = 10;

/// Maps a wire-level parse failure to its IAM error.
pub fn wire_error(e: WireError) -> IamError {
    match e {
        WireError::MissingParameter(p) => {
            IamError::MissingParameter(format!("The request must contain the parameter {p}"))
        }
        other => IamError::ValidationError(other.to_string()),
    }
}

/// Maps a service error (authorization, storage) to its IAM form.
pub fn api_error(e: ApiError) -> IamError {
    match e.code {
        ErrorCode::AccessDeniedException => IamError::AccessDenied(e.message),
        ErrorCode::ServiceUnavailableException => IamError::ServiceFailure(e.message),
        _ => IamError::ServiceFailure("An internal error occurred.".into()),
    }
}

fn store_error(e: StoreError) -> IamError {
    api_error(crate::convert::store(e))
}

impl Service {
    /// Runs one IAM action; returns the XML response body.
    pub async fn iam_call(
        &self,
        caller: &Caller,
        req: &QueryRequest,
        request_id: &str,
    ) -> IamResult<String> {
        let action = req
            .action()
            .ok_or_else(|| IamError::MissingAction("Missing Action".into()))?;
        let rid = request_id;
        match action {
            "CreateUser" | "GetUser" | "ListUsers" | "DeleteUser" | "TagUser" | "UntagUser"
            | "ListUserTags" => self.user_call(caller, action, req, rid).await,
            "CreateAccessKey"
            | "ListAccessKeys"
            | "UpdateAccessKey"
            | "DeleteAccessKey"
            | "GetAccessKeyLastUsed" => self.key_call(caller, action, req, rid).await,
            "CreateGroup"
            | "GetGroup"
            | "ListGroups"
            | "DeleteGroup"
            | "AddUserToGroup"
            | "RemoveUserFromGroup"
            | "ListGroupsForUser" => self.group_call(caller, action, req, rid).await,
            "CreateRole"
            | "GetRole"
            | "ListRoles"
            | "DeleteRole"
            | "TagRole"
            | "UntagRole"
            | "ListRoleTags"
            | "UpdateAssumeRolePolicy" => self.role_call(caller, action, req, rid).await,
            "CreatePolicy" | "GetPolicy" | "GetPolicyVersion" | "ListPolicies" | "DeletePolicy" => {
                self.policy_call(caller, action, req, rid).await
            }
            "PutUserPolicy"
            | "PutRolePolicy"
            | "PutGroupPolicy"
            | "GetUserPolicy"
            | "GetRolePolicy"
            | "GetGroupPolicy"
            | "DeleteUserPolicy"
            | "DeleteRolePolicy"
            | "DeleteGroupPolicy"
            | "ListUserPolicies"
            | "ListRolePolicies"
            | "ListGroupPolicies"
            | "AttachUserPolicy"
            | "AttachRolePolicy"
            | "AttachGroupPolicy"
            | "DetachUserPolicy"
            | "DetachRolePolicy"
            | "DetachGroupPolicy"
            | "ListAttachedUserPolicies"
            | "ListAttachedRolePolicies"
            | "ListAttachedGroupPolicies"
            | "PutUserPermissionsBoundary"
            | "PutRolePermissionsBoundary"
            | "DeleteUserPermissionsBoundary"
            | "DeleteRolePermissionsBoundary" => {
                self.entity_policy_call(caller, action, req, rid).await
            }
            "SimulatePrincipalPolicy" => self.simulate_principal_policy(caller, req, rid).await,
            other => Err(IamError::InvalidAction(format!(
                "Could not find operation {other} for version 2010-05-08"
            ))),
        }
    }

    /// Checks `iam:<action>` on `resource` for the caller.
    pub(crate) async fn iam_allow(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
    ) -> IamResult<()> {
        self.authorize(
            caller,
            &Access::new(format!("iam:{action}")),
            resource,
            None,
        )
        .await
        .map_err(api_error)
    }

    /// The account's current IAM revision, read from the store (not cached).
    pub(crate) async fn iam_rev(&self, account: &str) -> IamResult<u64> {
        self.store.iam_revision(account).await.map_err(store_error)
    }

    /// Reads one IAM document.
    pub(crate) async fn iam_read<T: serde::de::DeserializeOwned>(
        &self,
        account: &str,
        kind: &str,
        name: &str,
    ) -> IamResult<Option<T>> {
        self.iam_doc(account, kind, name).await.map_err(api_error)
    }

    /// All documents of one kind.
    pub(crate) async fn iam_all<T: serde::de::DeserializeOwned>(
        &self,
        account: &str,
        kind: &str,
    ) -> IamResult<Vec<T>> {
        let docs = self
            .store
            .iam_list(account, kind)
            .await
            .map_err(store_error)?;
        docs.iter()
            .map(|d| {
                serde_json::from_str(d).map_err(|_| {
                    IamError::ServiceFailure("A stored IAM document is corrupt.".into())
                })
            })
            .collect()
    }

    /// Commits a batch at `rev`: `Ok(false)` if another writer got there first.
    /// The caller's audit record goes into the same transaction.
    pub(crate) async fn iam_commit(
        &self,
        caller: &Caller,
        account: &str,
        rev: u64,
        writes: Vec<IamWrite>,
    ) -> IamResult<bool> {
        let audit = self.audit_for_commit(caller, &serde_json::Value::Null);
        let audited = audit.is_some();
        match self
            .store
            .iam_commit_audited(account, rev, writes, audit)
            .await
        {
            Ok(_) => {
                if audited {
                    self.audit_committed(caller);
                }
                self.authz.invalidate(account);
                Ok(true)
            }
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }
}

impl Service {
    /// Stores a new entity unless one of that kind and name exists (`exists` is then the
    /// error), retrying on concurrent IAM changes.
    pub(crate) async fn iam_create<T: serde::Serialize>(
        &self,
        caller: &Caller,
        account: &str,
        kind: &str,
        name: &str,
        doc: &T,
        exists: impl Fn() -> IamError,
    ) -> IamResult<()> {
        with_retry!({
            let rev = self.iam_rev(account).await?;
            let taken = self
                .store
                .iam_get(account, kind, &name_key(name))
                .await
                .map_err(store_error)?
                .is_some();
            if taken {
                return Err(exists());
            }
            self.iam_commit(caller, account, rev, vec![put_doc(kind, name, doc)])
                .await?
                .then_some(())
        })
    }
}

/// A write of one document.
pub(crate) fn put_doc<T: serde::Serialize>(kind: &str, name: &str, doc: &T) -> IamWrite {
    IamWrite::Put {
        kind: kind.to_owned(),
        name_key: name_key(name),
        doc: serde_json::to_string(doc).unwrap_or_default(),
    }
}

/// A deletion of one document.
pub(crate) fn delete_doc(kind: &str, name: &str) -> IamWrite {
    IamWrite::Delete {
        kind: kind.to_owned(),
        name_key: name_key(name),
    }
}

/// The error after repeated lost races.
pub(crate) fn contention() -> IamError {
    IamError::ConcurrentModification(
        "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.".into(),
    )
}

/// `NoSuchEntity` in AWS's words.
pub(crate) fn no_such(kind: &str, name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The {kind} with name {name} cannot be found."))
}
