//! Users: CreateUser, GetUser, ListUsers, DeleteUser, TagUser, UntagUser, ListUserTags.

use coffer_iam::IamError;
use coffer_iam::model::name_key;
use coffer_iam::model::{
    Tag, User, merge_tags, new_unique_id, remove_tags, user_arn, validate_path, validate_tags,
    validate_user_name,
};
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};

use super::{IamResult, delete_doc, put_doc, wire_error, xml};
use crate::authz::identity::Entity;
use crate::authz::load::USER;
use crate::{Caller, Service};

/// Tags from `Tags.member.N.{Key,Value}`.
pub(crate) fn req_tags(req: &QueryRequest) -> IamResult<Vec<Tag>> {
    let tags: Vec<Tag> = req
        .tags("Tags")
        .map_err(wire_error)?
        .into_iter()
        .map(|(k, v)| Tag::new(k, v))
        .collect();
    validate_tags(&tags)?;
    Ok(tags)
}

/// `Path` (default `/`), validated.
pub(crate) fn req_path(req: &QueryRequest) -> IamResult<String> {
    let path = req.get("Path").unwrap_or("/").to_owned();
    validate_path(&path)?;
    Ok(path)
}

impl Service {
    pub(crate) async fn user_call(
        &self,
        caller: &Caller,
        action: &str,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let account = caller.account_id.as_str();
        match action {
            "CreateUser" => {
                let name = req.required("UserName").map_err(wire_error)?.to_owned();
                validate_user_name(&name)?;
                let path = req_path(req)?;
                let tags = req_tags(req)?;
                let boundary = req.get("PermissionsBoundary").map(str::to_owned);
                let arn = user_arn(account, &path, &name);
                self.iam_allow(caller, action, &arn).await?;
                if let Some(b) = &boundary
                    && self.managed(account, b).await?.is_none()
                {
                    return Err(IamError::NoSuchEntity(format!(
                        "Scope ARN: {b} does not exist or is not attachable."
                    )));
                }
                let user = User {
                    name: name.clone(),
                    path,
                    user_id: new_unique_id("AIDA"),
                    arn,
                    created_ms: self.now_ms(),
                    tags,
                    inline_policies: Default::default(),
                    attached: Vec::new(),
                    boundary,
                    groups: Vec::new(),
                };
                self.iam_create(caller, account, USER, &name, &user, || {
                    IamError::EntityAlreadyExists(format!("User with name {name} already exists."))
                })
                .await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.start("User");
                xml::user(&mut w, &user);
                w.end();
                Ok(w.finish(rid))
            }
            "GetUser" => {
                let name = match (req.get("UserName"), &caller.identity.entity) {
                    (Some(n), _) => n.to_owned(),
                    (None, Entity::User(n)) => n.clone(),
                    (None, _) if caller.identity.is_root() => {
                        // The root user, as AWS answers GetUser without a name.
                        let mut w = XmlWriter::new(Wire::Iam, action);
                        w.start("User")
                            .text("Path", "/")
                            .text("UserName", account)
                            .text("UserId", account)
                            .text("Arn", &format!("arn:aws:iam::{account}:root"))
                            .timestamp("CreateDate", 0)
                            .end();
                        return Ok(w.finish(rid));
                    }
                    (None, _) => {
                        return Err(IamError::ValidationError(
                            "Must specify userName when calling with non-User credentials".into(),
                        ));
                    }
                };
                let user: User = self.holder(caller, action, &name).await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.start("User");
                xml::user(&mut w, &user);
                w.end();
                Ok(w.finish(rid))
            }
            "ListUsers" => {
                self.iam_allow(caller, action, &format!("arn:aws:iam::{account}:user/"))
                    .await?;
                let prefix = req.get("PathPrefix").unwrap_or("/");
                let mut users: Vec<User> = self.iam_all(account, USER).await?;
                users.retain(|u| u.path.starts_with(prefix));
                let (users, next) = xml::page(users, req, |u| name_key(&u.name))?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.list("Users", &users, xml::user);
                xml::truncation(&mut w, next.as_deref());
                Ok(w.finish(rid))
            }
            "DeleteUser" => {
                let name = req.required("UserName").map_err(wire_error)?.to_owned();
                with_retry!({
                    let rev = self.iam_rev(account).await?;
                    let user: User = self.holder(caller, action, &name).await?;
                    self.check_user_deletable(&user).await?;
                    self.iam_commit(caller, account, rev, vec![delete_doc(USER, &name)])
                        .await?
                        .then_some(())
                })?;
                Ok(XmlWriter::without_result(Wire::Iam, action).finish(rid))
            }
            "TagUser" | "UntagUser" => {
                let name = req.required("UserName").map_err(wire_error)?.to_owned();
                let (add, keys) = if action == "TagUser" {
                    (req_tags(req)?, Vec::new())
                } else {
                    let keys: Vec<String> = req
                        .list("TagKeys")
                        .map_err(wire_error)?
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    (Vec::new(), keys)
                };
                with_retry!({
                    let rev = self.iam_rev(account).await?;
                    let mut user: User = self.holder(caller, action, &name).await?;
                    user.tags = if action == "TagUser" {
                        merge_tags(&user.tags, &add)?
                    } else {
                        let k: Vec<&str> = keys.iter().map(String::as_str).collect();
                        remove_tags(&user.tags, &k)
                    };
                    self.iam_commit(caller, account, rev, vec![put_doc(USER, &name, &user)])
                        .await?
                        .then_some(())
                })?;
                Ok(XmlWriter::without_result(Wire::Iam, action).finish(rid))
            }
            _ => {
                // ListUserTags
                let name = req.required("UserName").map_err(wire_error)?;
                let user: User = self.holder(caller, action, name).await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.tags("Tags", user.tags.iter().map(|t| (&t.key, &t.value)));
                xml::not_truncated(&mut w);
                Ok(w.finish(rid))
            }
        }
    }

    /// AWS refuses to delete a user that still has keys, policies or groups.
    async fn check_user_deletable(&self, user: &User) -> IamResult<()> {
        let account = user.arn.split(':').nth(4).unwrap_or_default();
        let keys = self
            .store
            .list_access_keys(account, &user.arn)
            .await
            .map_err(|e| super::api_error(crate::convert::store(e)))?;
        let what = if !keys.is_empty() {
            Some("access keys")
        } else if !user.inline_policies.is_empty() || !user.attached.is_empty() {
            Some("policies")
        } else if !user.groups.is_empty() {
            Some("groups")
        } else {
            None
        };
        match what {
            Some(w) => Err(IamError::DeleteConflict(format!(
                "Cannot delete entity, must delete {w} first."
            ))),
            None => Ok(()),
        }
    }
}
