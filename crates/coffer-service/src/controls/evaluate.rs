//! The rules themselves, pure: a secret record, the settings and "now" in, findings out.

use super::{ControlId, ControlsConfig, Finding};
use crate::keyring::DEFAULT_KEY_ALIAS;
use coffer_core::clock::DAY_MS;
use coffer_core::{SecretRecord, Tag};
use coffer_policy::{Effect, Policy};
use std::collections::BTreeSet;

/// The controls `cfg` turns on, in [`ControlId::ALL`] order.
pub fn enabled_controls(cfg: &ControlsConfig) -> Vec<ControlId> {
    ControlId::ALL
        .into_iter()
        .filter(|c| match c {
            ControlId::RequiredTags => !cfg.required_tags.is_empty(),
            ControlId::NameConvention => cfg.name_pattern.is_some(),
            ControlId::RotationNotEnabled => cfg.require_rotation,
            ControlId::RotationFailed => true,
            ControlId::NotAccessed => cfg.max_days_unused.is_some(),
            ControlId::NotCustomerManagedKey => cfg.require_customer_managed_key,
            ControlId::PolicyOutsideOrganization => cfg.organization_accounts.is_some(),
        })
        .collect()
}

/// Evaluates every secret not scheduled for deletion; findings sorted by (secret name,
/// control id).
pub fn evaluate(cfg: &ControlsConfig, secrets: &[SecretRecord], now_ms: i64) -> Vec<Finding> {
    let mut out: Vec<Finding> = secrets
        .iter()
        .filter(|s| !s.is_deleted())
        .flat_map(|s| evaluate_secret(cfg, s, now_ms))
        .collect();
    out.sort_by(|a, b| {
        (&a.secret_name, a.control.as_str(), &a.secret_arn).cmp(&(
            &b.secret_name,
            b.control.as_str(),
            &b.secret_arn,
        ))
    });
    out
}

/// The findings for one secret (at most one per control).
pub fn evaluate_secret(cfg: &ControlsConfig, s: &SecretRecord, now_ms: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |control: ControlId, detail: String| {
        out.push(Finding {
            control,
            secret_arn: s.arn.clone(),
            secret_name: s.name.clone(),
            account_id: s.account_id.clone(),
            region: s.region.clone(),
            detail,
        });
    };
    let missing = missing_tags(cfg, &s.tags);
    if !missing.is_empty() {
        add(
            ControlId::RequiredTags,
            format!("missing required tags: {}", missing.join(", ")),
        );
    }
    if !name_matches(cfg, &s.name) {
        add(ControlId::NameConvention, name_detail(cfg, &s.name));
    }
    if cfg.require_rotation && !s.rotation_enabled() {
        add(
            ControlId::RotationNotEnabled,
            "rotation is not enabled".to_owned(),
        );
    }
    if s.rotation_failed() {
        add(
            ControlId::RotationFailed,
            "the last rotation failed".to_owned(),
        );
    }
    if let Some(days) = cfg.max_days_unused {
        let (last, what) = match s.last_accessed_ms {
            Some(ms) => (ms, "last accessed"),
            None => (s.created_ms, "never accessed; created"),
        };
        if now_ms.saturating_sub(last) > i64::from(days) * DAY_MS {
            add(
                ControlId::NotAccessed,
                format!(
                    "{what} {} ({} days ago; limit {days} days)",
                    date(last),
                    (now_ms - last) / DAY_MS
                ),
            );
        }
    }
    if cfg.require_customer_managed_key && uses_default_key(s) {
        add(
            ControlId::NotCustomerManagedKey,
            format!("encrypted with the default key {DEFAULT_KEY_ALIAS}"),
        );
    }
    if let Some(detail) = policy_outside_organization(cfg, s) {
        add(ControlId::PolicyOutsideOrganization, detail);
    }
    out
}

/// Required tag keys absent from `tags`, in the settings' order.
pub fn missing_tags<'a>(cfg: &'a ControlsConfig, tags: &[Tag]) -> Vec<&'a str> {
    cfg.required_tags
        .iter()
        .filter(|k| !tags.iter().any(|t| &t.key == *k))
        .map(String::as_str)
        .collect()
}

/// Whether `name` satisfies the naming convention (true when none is set).
pub fn name_matches(cfg: &ControlsConfig, name: &str) -> bool {
    cfg.name_pattern.as_ref().is_none_or(|p| p.is_match(name))
}

/// Why `name` fails the naming convention.
pub(crate) fn name_detail(cfg: &ControlsConfig, name: &str) -> String {
    let pattern = cfg.name_pattern.as_ref().map_or("", |p| p.as_str());
    format!("name {name:?} does not match the required pattern {pattern}")
}

/// Whether the secret is encrypted with the account's default `aws/secretsmanager` key
/// (stored as no key id; the alias or its ARN are treated the same).
fn uses_default_key(s: &SecretRecord) -> bool {
    match s.kms_key_id.as_deref() {
        None | Some("") => true,
        Some(id) => id == DEFAULT_KEY_ALIAS || id.ends_with(&format!(":{DEFAULT_KEY_ALIAS}")),
    }
}

/// The policy-outside-organization verdict: `Some(detail)` when the secret's resource
/// policy is public (per [`coffer_policy::is_public`]) or an `Allow` statement's `AWS`
/// principal names an account outside the organization and the secret's own account.
/// `*` principals pinned by conditions count as not public, as BlockPublicPolicy sees them.
fn policy_outside_organization(cfg: &ControlsConfig, s: &SecretRecord) -> Option<String> {
    let org = cfg.organization_accounts.as_ref()?;
    let text = s.resource_policy()?;
    let policy = match Policy::parse_with_limit(text, crate::ops::policy::MAX_RESOURCE_POLICY) {
        Ok(p) => p,
        Err(e) => return Some(format!("the resource policy can't be parsed: {e}")),
    };
    if coffer_policy::is_public(&policy) {
        return Some("the resource policy is public: it grants access to everyone".to_owned());
    }
    let outside: BTreeSet<&str> = policy
        .statements()
        .iter()
        .filter(|st| st.effect() == Effect::Allow)
        .filter_map(|st| st.principal())
        .filter(|p| !p.negated)
        .flat_map(|p| p.values.iter().filter_map(|v| v.account()))
        .filter(|a| *a != s.account_id && !org.iter().any(|o| o == a))
        .collect();
    if outside.is_empty() {
        return None;
    }
    Some(format!(
        "the resource policy grants access to accounts outside the organization: {}",
        outside.into_iter().collect::<Vec<_>>().join(", ")
    ))
}

/// `YYYY-MM-DD` of a timestamp (UTC).
fn date(ms: i64) -> String {
    let mut t = coffer_iam::wire::format_timestamp(ms);
    t.truncate(10);
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_core::{Clock, ManualClock};

    const ACCOUNT: &str = "123456789012";
    const T0: i64 = 1_700_000_000_000;

    fn secret(name: &str, tags: &[(&str, &str)]) -> SecretRecord {
        SecretRecord {
            arn: format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf"),
            account_id: ACCOUNT.into(),
            region: "us-east-1".into(),
            name: name.into(),
            description: None,
            kms_key_id: None,
            tags: tags
                .iter()
                .map(|(k, v)| Tag {
                    key: (*k).into(),
                    value: (*v).into(),
                })
                .collect(),
            created_ms: T0,
            last_changed_ms: T0,
            last_accessed_ms: None,
            deleted_ms: None,
            deletion_ms: None,
            revision: 1,
            extra: serde_json::json!({}),
        }
    }

    fn cfg(json: &str) -> ControlsConfig {
        ControlsConfig::from_json(json).unwrap()
    }

    fn controls(f: &[Finding]) -> Vec<(&str, ControlId)> {
        f.iter()
            .map(|f| (f.secret_name.as_str(), f.control))
            .collect()
    }

    #[test]
    fn required_tags_lists_missing_keys() {
        let c = cfg(r#"{"required_tags":["team","env","owner"]}"#);
        let f = evaluate_secret(&c, &secret("a", &[("env", "prod")]), T0);
        assert_eq!(controls(&f), [("a", ControlId::RequiredTags)]);
        assert_eq!(f[0].detail, "missing required tags: team, owner");
        let tags = [("team", "x"), ("env", "y"), ("owner", "")];
        assert!(evaluate_secret(&c, &secret("b", &tags), T0).is_empty());
        // Keys are case-sensitive, as tag keys are.
        let f = evaluate_secret(
            &c,
            &secret("c", &[("Team", "x"), ("env", "y"), ("owner", "z")]),
            T0,
        );
        assert_eq!(f[0].detail, "missing required tags: team");
    }

    #[test]
    fn name_convention() {
        let c = cfg(r#"{"name_pattern":"^(prod|dev)/[a-z0-9-]+(/[a-z0-9-]+)*$"}"#);
        assert!(evaluate_secret(&c, &secret("prod/db/main", &[]), T0).is_empty());
        let f = evaluate_secret(&c, &secret("Prod/DB", &[]), T0);
        assert_eq!(controls(&f), [("Prod/DB", ControlId::NameConvention)]);
        assert!(
            f[0].detail.contains("\"Prod/DB\" does not match"),
            "{}",
            f[0].detail
        );
    }

    #[test]
    fn rotation_not_enabled_only_when_required() {
        let on = cfg(r#"{"require_rotation":true}"#);
        let off = cfg("{}");
        let plain = secret("a", &[]);
        let mut enabled = secret("b", &[]);
        enabled.extra = serde_json::json!({"rotation": {"enabled": true}});
        let mut truthy = secret("c", &[]);
        truthy.extra = serde_json::json!({"rotation": {"enabled": "true"}});
        assert_eq!(
            controls(&evaluate_secret(&on, &plain, T0)),
            [("a", ControlId::RotationNotEnabled)]
        );
        assert!(evaluate_secret(&on, &enabled, T0).is_empty());
        assert_eq!(evaluate_secret(&on, &truthy, T0).len(), 1);
        assert!(evaluate_secret(&off, &plain, T0).is_empty());
    }

    #[test]
    fn rotation_failed_always_checked() {
        let mut s = secret("a", &[]);
        s.extra = serde_json::json!({"rotation": {"enabled": true, "last_outcome": "failed"}});
        let f = evaluate_secret(&cfg("{}"), &s, T0);
        assert_eq!(controls(&f), [("a", ControlId::RotationFailed)]);
        s.extra = serde_json::json!({"rotation": {"enabled": true, "last_outcome": "succeeded"}});
        assert!(evaluate_secret(&cfg("{}"), &s, T0).is_empty());
    }

    #[test]
    fn not_accessed_by_the_clock() {
        let c = cfg(r#"{"max_days_unused":90}"#);
        let clock = ManualClock::new(T0);
        let never = secret("never", &[]);
        let mut read = secret("read", &[]);
        read.last_accessed_ms = Some(T0 + 30 * DAY_MS);
        clock.advance(90 * DAY_MS);
        assert!(evaluate(&c, &[never.clone(), read.clone()], clock.now_ms()).is_empty());
        clock.advance(1);
        let f = evaluate(&c, &[never.clone(), read.clone()], clock.now_ms());
        assert_eq!(controls(&f), [("never", ControlId::NotAccessed)]);
        assert_eq!(
            f[0].detail,
            "never accessed; created 2023-11-14 (90 days ago; limit 90 days)"
        );
        clock.advance(30 * DAY_MS);
        let f = evaluate(&c, &[never, read], clock.now_ms());
        assert_eq!(
            controls(&f),
            [
                ("never", ControlId::NotAccessed),
                ("read", ControlId::NotAccessed)
            ]
        );
        assert!(
            f[1].detail.starts_with("last accessed 2023-12-14"),
            "{}",
            f[1].detail
        );
    }

    #[test]
    fn default_key_is_not_customer_managed() {
        let c = cfg(r#"{"require_customer_managed_key":true}"#);
        let f = evaluate_secret(&c, &secret("a", &[]), T0);
        assert_eq!(controls(&f), [("a", ControlId::NotCustomerManagedKey)]);
        let mut alias = secret("b", &[]);
        alias.kms_key_id = Some(format!(
            "arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/secretsmanager"
        ));
        assert_eq!(evaluate_secret(&c, &alias, T0).len(), 1);
        let mut cmk = secret("c", &[]);
        cmk.kms_key_id = Some(format!(
            "arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(evaluate_secret(&c, &cmk, T0).is_empty());
        assert!(evaluate_secret(&cfg("{}"), &secret("d", &[]), T0).is_empty());
    }

    fn with_policy(name: &str, principal: &str, condition: &str) -> SecretRecord {
        let mut s = secret(name, &[]);
        s.set_resource_policy(Some(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},
                "Action":"secretsmanager:GetSecretValue","Resource":"*"{condition}}}]}}"#
        )));
        s
    }

    #[test]
    fn policy_outside_organization() {
        let c = cfg(r#"{"organization_accounts":["111111111111"]}"#);
        let inside = with_policy(
            "inside",
            &format!(
                r#"{{"AWS":["111111111111","arn:aws:iam::{ACCOUNT}:role/app","arn:aws:iam::111111111111:root"]}}"#
            ),
            "",
        );
        assert!(evaluate_secret(&c, &inside, T0).is_empty());
        let outside = with_policy(
            "outside",
            r#"{"AWS":["arn:aws:iam::999999999999:user/eve","111111111111","arn:aws:sts::888888888888:assumed-role/r/s"]}"#,
            "",
        );
        let f = evaluate_secret(&c, &outside, T0);
        assert_eq!(
            controls(&f),
            [("outside", ControlId::PolicyOutsideOrganization)]
        );
        assert!(
            f[0].detail.ends_with(": 888888888888, 999999999999"),
            "{}",
            f[0].detail
        );
        let public = with_policy("public", r#"{"AWS":"*"}"#, "");
        let f = evaluate_secret(&c, &public, T0);
        assert!(f[0].detail.contains("public"), "{}", f[0].detail);
        // `*` pinned to the organization's account is not public.
        let pinned = with_policy(
            "pinned",
            r#""*""#,
            r#","Condition":{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}"#,
        );
        assert!(evaluate_secret(&c, &pinned, T0).is_empty());
        // A Deny naming outsiders grants nothing; services are not accounts.
        let mut deny = secret("deny", &[]);
        deny.set_resource_policy(Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"999999999999"},"Action":"*","Resource":"*"},
               {"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"*","Resource":"*"}]}"#
                .into(),
        ));
        assert!(evaluate_secret(&c, &deny, T0).is_empty());
        // Off without organization_accounts.
        assert!(evaluate_secret(&cfg("{}"), &outside, T0).is_empty());
        // An empty organization allows the secret's own account only.
        let own = cfg(r#"{"organization_accounts":[]}"#);
        assert!(evaluate_secret(&own, &inside, T0).len() == 1);
    }

    #[test]
    fn deleted_skipped_and_sorted() {
        let c = cfg(r#"{"required_tags":["team"],"name_pattern":"^[a-z]+$"}"#);
        let mut gone = secret("gone", &[]);
        gone.deleted_ms = Some(T0);
        let f = evaluate(&c, &[secret("b", &[]), gone, secret("A", &[])], T0);
        assert_eq!(
            controls(&f),
            [
                ("A", ControlId::NameConvention),
                ("A", ControlId::RequiredTags),
                ("b", ControlId::RequiredTags)
            ]
        );
    }

    #[test]
    fn enabled_set() {
        assert_eq!(enabled_controls(&cfg("{}")), [ControlId::RotationFailed]);
        let all = cfg(
            r#"{"required_tags":["t"],"name_pattern":"x","max_days_unused":1,"require_rotation":true,
                "require_customer_managed_key":true,"organization_accounts":[]}"#,
        );
        assert_eq!(enabled_controls(&all), ControlId::ALL);
    }
}
