//! The request context a policy sees: global keys from the caller and the clock, the
//! resource's tags, and the operation's own keys.

use coffer_core::{SecretRecord, Tag};
use coffer_policy::{PrincipalKind, RequestContext};

use super::PrincipalPolicies;
use crate::{Caller, Service};

/// One action and its request-specific condition keys.
#[derive(Debug, Clone)]
pub struct Access {
    /// Full action name, e.g. `secretsmanager:GetSecretValue`.
    pub action: String,
    keys: Vec<(String, Vec<String>)>,
}

impl Access {
    /// A Secrets Manager action (`op` without the `secretsmanager:` prefix).
    pub fn sm(op: &str) -> Access {
        Access::new(format!("secretsmanager:{op}"))
    }

    /// Any action, with its service prefix.
    pub fn new(action: impl Into<String>) -> Access {
        Access {
            action: action.into(),
            keys: Vec::new(),
        }
    }

    /// The operation name without the service prefix.
    pub fn op(&self) -> &str {
        self.action
            .split_once(':')
            .map_or(self.action.as_str(), |(_, op)| op)
    }

    /// Adds a condition key with one value.
    pub fn key(mut self, key: &str, value: impl Into<String>) -> Access {
        self.keys.push((key.to_owned(), vec![value.into()]));
        self
    }

    /// Adds a condition key if `value` is present.
    pub fn opt(self, key: &str, value: Option<impl Into<String>>) -> Access {
        match value {
            Some(v) => self.key(key, v),
            None => self,
        }
    }

    /// Adds a multi-valued condition key.
    pub fn multi(mut self, key: &str, values: Vec<String>) -> Access {
        self.keys.push((key.to_owned(), values));
        self
    }

    /// Adds `aws:RequestTag/<k>` for each tag and `aws:TagKeys`.
    pub fn request_tags<'a>(
        mut self,
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Access {
        let mut keys = Vec::new();
        for (k, v) in tags {
            self.keys
                .push((format!("aws:RequestTag/{k}"), vec![v.to_owned()]));
            keys.push(k.to_owned());
        }
        if !keys.is_empty() {
            self.keys.push(("aws:TagKeys".to_owned(), keys));
        }
        self
    }

    /// Adds `aws:TagKeys` (UntagResource).
    pub fn tag_keys(self, keys: &[String]) -> Access {
        self.multi("aws:TagKeys", keys.to_vec())
    }
}

/// `(key, value)` pairs of secret tags.
pub(crate) fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))
}

impl Service {
    /// Builds the context for one decision.
    pub(crate) fn request_context(
        &self,
        caller: &Caller,
        access: &Access,
        resource: &str,
        secret: Option<&SecretRecord>,
        policies: &PrincipalPolicies,
    ) -> RequestContext {
        let id = &caller.identity;
        let p = &id.principal;
        let mut ctx = RequestContext::new(access.action.clone(), resource, p.clone());
        // For role sessions aws:PrincipalArn is the role's ARN, as in AWS.
        let principal_arn = match (p.kind, &p.role_arn) {
            (PrincipalKind::AssumedRole, Some(role)) => role.as_str(),
            _ => p.arn.as_str(),
        };
        ctx.set("aws:PrincipalArn", principal_arn)
            .set("aws:PrincipalAccount", p.account.clone())
            .set("aws:PrincipalType", p.kind.aws_principal_type())
            .set("aws:userid", id.user_id.clone())
            .set("aws:RequestedRegion", caller.region.clone())
            .set("aws:SecureTransport", caller.secure_transport.to_string());
        if let Some(name) = &id.username {
            ctx.set("aws:username", name.clone());
        }
        let now = self.now_ms();
        ctx.set("aws:CurrentTime", coffer_iam::wire::format_timestamp(now))
            .set("aws:EpochTime", (now / 1000).to_string());
        if let Some(ip) = &caller.source_ip {
            ctx.set("aws:SourceIp", ip.clone());
        }
        for (k, v) in &policies.tags {
            ctx.set(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
        if let Some(session) = &id.session {
            // Session tags override the role's tags of the same key.
            for (k, v) in &session.tags {
                ctx.set(&format!("aws:PrincipalTag/{k}"), v.clone());
            }
            if let Some(si) = &session.source_identity {
                ctx.set("aws:SourceIdentity", si.clone());
            }
        }
        if let Some(s) = secret {
            for (k, v) in tag_pairs(&s.tags) {
                ctx.set(&format!("secretsmanager:ResourceTag/{k}"), v)
                    .set(&format!("aws:ResourceTag/{k}"), v);
            }
            ctx.set("secretsmanager:SecretPrimaryRegion", s.region.clone());
        }
        for (k, values) in &access.keys {
            ctx.set_multi(k, values.clone());
        }
        ctx
    }
}
