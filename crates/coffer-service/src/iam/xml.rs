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
