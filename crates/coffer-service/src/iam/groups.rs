//! Groups: CreateGroup, GetGroup, ListGroups, DeleteGroup, AddUserToGroup,
//! RemoveUserFromGroup, ListGroupsForUser. Membership is kept on the user.

use coffer_iam::IamError;
use coffer_iam::model::name_key;
use coffer_iam::model::{Group, User, group_arn, new_unique_id, validate_group_name};
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};

use super::users::req_path;
use super::{IamResult, delete_doc, put_doc, wire_error, xml};
use crate::authz::load::{GROUP, USER};
use crate::{Caller, Service};

/// Most groups one user may belong to (AWS's quota).
const MAX_GROUPS_PER_USER: usize = 10;

impl Service {
    pub(crate) async fn group_call(
        &self,
        caller: &Caller,
        action: &str,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let account = caller.account_id.as_str();
        let done = || Ok(XmlWriter::without_result(Wire::Iam, action).finish(rid));
        match action {
            "CreateGroup" => {
                let name = req.required("GroupName").map_err(wire_error)?.to_owned();
                validate_group_name(&name)?;
                let path = req_path(req)?;
                let arn = group_arn(account, &path, &name);
                self.iam_allow(caller, action, &arn).await?;
                let group = Group {
                    name: name.clone(),
                    path,
                    group_id: new_unique_id("AGPA"),
                    arn,
                    created_ms: self.now_ms(),
                    inline_policies: Default::default(),
                    attached: Vec::new(),
                };
                self.iam_create(caller, account, GROUP, &name, &group, || {
                    IamError::EntityAlreadyExists(format!("Group with name {name} already exists."))
                })
                .await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.start("Group");
                xml::group(&mut w, &group);
                w.end();
                Ok(w.finish(rid))
            }
            "GetGroup" => {
                let name = req.required("GroupName").map_err(wire_error)?;
                let group: Group = self.holder(caller, action, name).await?;
                let users: Vec<User> = self.iam_all(account, USER).await?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.start("Group");
                xml::group(&mut w, &group);
                w.end();
                w.list(
                    "Users",
                    users.iter().filter(|u| is_member(u, &group.name)),
                    xml::user,
                );
                xml::not_truncated(&mut w);
                Ok(w.finish(rid))
            }
            "ListGroups" => {
                self.iam_allow(caller, action, &format!("arn:aws:iam::{account}:group/"))
                    .await?;
                let groups: Vec<Group> = self.iam_all(account, GROUP).await?;
                let (groups, next) = xml::page(groups, req, |g| name_key(&g.name))?;
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.list("Groups", &groups, xml::group);
                xml::truncation(&mut w, next.as_deref());
                Ok(w.finish(rid))
            }
            "ListGroupsForUser" => {
                let name = req.required("UserName").map_err(wire_error)?;
                let user: User = self.holder(caller, action, name).await?;
                let mut groups = Vec::new();
                for g in &user.groups {
                    if let Some(group) = self.iam_read::<Group>(account, GROUP, g).await? {
                        groups.push(group);
                    }
                }
                let mut w = XmlWriter::new(Wire::Iam, action);
                w.list("Groups", &groups, xml::group);
                xml::not_truncated(&mut w);
                Ok(w.finish(rid))
            }
            "DeleteGroup" => {
                let name = req.required("GroupName").map_err(wire_error)?.to_owned();
                with_retry!({
                    let rev = self.iam_rev(account).await?;
                    let group: Group = self.holder(caller, action, &name).await?;
                    let users: Vec<User> = self.iam_all(account, USER).await?;
                    if users.iter().any(|u| is_member(u, &group.name)) {
                        return Err(IamError::DeleteConflict(
                            "Cannot delete entity, must remove users from group first.".into(),
                        ));
                    }
                    if !group.inline_policies.is_empty() || !group.attached.is_empty() {
                        return Err(IamError::DeleteConflict(
                            "Cannot delete entity, must delete policies first.".into(),
                        ));
                    }
                    self.iam_commit(caller, account, rev, vec![delete_doc(GROUP, &name)])
                        .await?
                        .then_some(())
                })?;
                done()
            }
            _ => {
                // AddUserToGroup / RemoveUserFromGroup
                let gname = req.required("GroupName").map_err(wire_error)?.to_owned();
                let uname = req.required("UserName").map_err(wire_error)?.to_owned();
                let add = action == "AddUserToGroup";
                with_retry!({
                    let rev = self.iam_rev(account).await?;
                    let group: Group = self.holder(caller, action, &gname).await?;
                    let Some(mut user) = self.iam_read::<User>(account, USER, &uname).await? else {
                        return Err(super::no_such("user", &uname));
                    };
                    let member = is_member(&user, &group.name);
                    if add == member {
                        Some(())
                    } else {
                        if add {
                            if user.groups.len() >= MAX_GROUPS_PER_USER {
                                return Err(IamError::LimitExceeded(format!(
                                    "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
                                )));
                            }
                            user.groups.push(group.name.clone());
                        } else {
                            user.groups.retain(|g| !g.eq_ignore_ascii_case(&group.name));
                        }
                        self.iam_commit(
                            caller,
                            account,
                            rev,
                            vec![put_doc(USER, &user.name, &user)],
                        )
                        .await?
                        .then_some(())
                    }
                })?;
                done()
            }
        }
    }
}

fn is_member(user: &User, group: &str) -> bool {
    user.groups.iter().any(|g| g.eq_ignore_ascii_case(group))
}
