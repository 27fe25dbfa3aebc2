//! XML renderings of IAM entities, as the IAM API returns them.

use coffer_iam::model::{Group, ManagedPolicy, Role, User};
use coffer_iam::wire::XmlWriter;

/// `<User>`-shaped content (caller opens the element).
pub(crate) fn user(w: &mut XmlWriter, u: &User) {
    w.text("Path", &u.path)
        .text("UserName", &u.name)
        .text("UserId", &u.user_id)
        .text("Arn", &u.arn)
        .timestamp("CreateDate", u.created_ms);
    if let Some(b) = &u.boundary {
        boundary(w, b);
    }
    if !u.tags.is_empty() {
        w.tags("Tags", u.tags.iter().map(|t| (&t.key, &t.value)));
    }
}

/// `<Role>`-shaped content.
pub(crate) fn role(w: &mut XmlWriter, r: &Role) {
    w.text("Path", &r.path)
        .text("RoleName", &r.name)
        .text("RoleId", &r.role_id)
        .text("Arn", &r.arn)
        .timestamp("CreateDate", r.created_ms)
        .policy_document("AssumeRolePolicyDocument", &r.trust_policy)
        .opt_text("Description", r.description.as_deref())
        .int("MaxSessionDuration", i64::from(r.max_session_duration_s));
    if let Some(b) = &r.boundary {
        boundary(w, b);
    }
    if !r.tags.is_empty() {
        w.tags("Tags", r.tags.iter().map(|t| (&t.key, &t.value)));
    }
}

/// `<Group>`-shaped content.
pub(crate) fn group(w: &mut XmlWriter, g: &Group) {
    w.text("Path", &g.path)
        .text("GroupName", &g.name)
        .text("GroupId", &g.group_id)
        .text("Arn", &g.arn)
        .timestamp("CreateDate", g.created_ms);
}

/// `<Policy>`-shaped content.
pub(crate) fn policy(w: &mut XmlWriter, p: &ManagedPolicy) {
    w.text("PolicyName", &p.name)
        .text("PolicyId", &p.policy_id)
        .text("Arn", &p.arn)
        .text("Path", &p.path)
        .text("DefaultVersionId", &p.default_version_id)
        .int("AttachmentCount", i64::from(p.attachment_count))
        .int("PermissionsBoundaryUsageCount", 0)
        .bool("IsAttachable", true)
        .opt_text("Description", p.description.as_deref())
        .timestamp("CreateDate", p.created_ms)
        .timestamp("UpdateDate", p.updated_ms);
    if !p.tags.is_empty() {
        w.tags("Tags", p.tags.iter().map(|t| (&t.key, &t.value)));
    }
}

fn boundary(w: &mut XmlWriter, arn: &str) {
    w.start("PermissionsBoundary")
        .text("PermissionsBoundaryType", "Policy")
        .text("PermissionsBoundaryArn", arn)
        .end();
}

/// Closes a list response that is never truncated.
pub(crate) fn not_truncated(w: &mut XmlWriter) {
    w.bool("IsTruncated", false);
}

/// Largest `MaxItems` IAM accepts.
const MAX_ITEMS: i64 = 1000;

/// One page of `items` (sorted by `key`, ascending): `MaxItems` (1–1000, default 100) from
/// just after `Marker` (the opaque key of the previous page's last item). Returns the page
/// and the next marker, if more remain.
pub(crate) fn page<T>(
    mut items: Vec<T>,
    req: &coffer_iam::wire::QueryRequest,
    key: impl Fn(&T) -> String,
) -> super::IamResult<(Vec<T>, Option<String>)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let max = req
        .get_i64("MaxItems")
        .map_err(super::wire_error)?
        .unwrap_or(100);
    if !(1..=MAX_ITEMS).contains(&max) {
        return Err(coffer_iam::IamError::constraint(
            "MaxItems",
            Some(&max.to_string()),
            &format!("have value between 1 and {MAX_ITEMS}"),
        ));
    }
    if let Some(m) = req.get("Marker") {
        let after = b64
            .decode(m)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| coffer_iam::IamError::InvalidInput("Invalid Marker.".into()))?;
        items.retain(|t| key(t) > after);
    }
    let more = items.len() > max as usize;
    items.truncate(max as usize);
    let next = more
        .then(|| items.last().map(|t| b64.encode(key(t))))
        .flatten();
    Ok((items, next))
}

/// `IsTruncated` and, when truncated, `Marker`.
pub(crate) fn truncation(w: &mut XmlWriter, next: Option<&str>) {
    w.bool("IsTruncated", next.is_some());
    w.opt_text("Marker", next);
}
