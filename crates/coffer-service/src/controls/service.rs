//! The controls inside the service: settings held by [`Service`], the detective run over
//! the caller's account and region, and the preventive checks of CreateSecret and
//! UntagResource.

use super::{ControlId, ControlsConfig, Finding, evaluate, missing_tags, name_matches};
use crate::{Access, ApiResult, Caller, Service};
use coffer_core::Tag;
use coffer_protocol::{ApiError, ErrorCode};
use std::sync::Arc;

/// IAM action that allows [`Service::run_controls`] (the account root always may).
pub const RUN_CONTROLS_ACTION: &str = "coffer:RunControls";

/// The result of one detective run.
#[derive(Debug, Clone)]
pub struct ControlsReport {
    /// Findings sorted by (secret name, control id).
    pub findings: Vec<Finding>,
    /// Number of secrets evaluated (those not scheduled for deletion).
    pub evaluated: usize,
    /// The controls that were on.
    pub controls: Vec<ControlId>,
}

/// Why a preventive control refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// The new secret lacks required tag keys.
    #[error("missing required tags: {}", .0.join(", "))]
    MissingTags(Vec<String>),
    /// The new secret's name does not match the naming convention.
    #[error("{0}")]
    Name(String),
    /// UntagResource would remove required tags.
    #[error("required tags can't be removed: {}", .0.join(", "))]
    RequiredTagRemoval(Vec<String>),
}

/// The settings' violations of a secret about to be created as `name` with `tags`
/// (empty unless `enforce_at_create`).
pub fn create_violations(cfg: &ControlsConfig, name: &str, tags: &[Tag]) -> Vec<Violation> {
    let mut out = Vec::new();
    if !cfg.enforce_at_create {
        return out;
    }
    let missing = missing_tags(cfg, tags);
    if !missing.is_empty() {
        out.push(Violation::MissingTags(
            missing.into_iter().map(str::to_owned).collect(),
        ));
    }
    if !name_matches(cfg, name) {
        out.push(Violation::Name(super::evaluate::name_detail(cfg, name)));
    }
    out
}

/// The violation of removing tag `keys` (none unless `enforce_at_create`).
pub fn untag_violation(cfg: &ControlsConfig, keys: &[String]) -> Option<Violation> {
    if !cfg.enforce_at_create {
        return None;
    }
    let required: Vec<String> = cfg
        .required_tags
        .iter()
        .filter(|k| keys.contains(k))
        .cloned()
        .collect();
    (!required.is_empty()).then_some(Violation::RequiredTagRemoval(required))
}

/// The AccessDeniedException for `op` refused by `violations`.
fn refused(op: &str, violations: &[Violation]) -> ApiError {
    let why: Vec<String> = violations.iter().map(ToString::to_string).collect();
    ApiError::new(
        ErrorCode::AccessDeniedException,
        format!("{op} refused by a preventive control: {}", why.join("; ")),
    )
}

impl Service {
    /// Installs the controls settings (`None`: defaults, nothing enforced).
    pub fn set_controls(&self, cfg: Option<ControlsConfig>) {
        *self.controls.write().unwrap_or_else(|p| p.into_inner()) = cfg.map(Arc::new);
    }

    /// The controls settings in force (defaults when none were installed).
    pub fn controls(&self) -> Arc<ControlsConfig> {
        self.controls
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default()
    }

    /// Runs the detective controls over the secrets of the caller's account and region.
    /// Needs the account root or an identity allowed [`RUN_CONTROLS_ACTION`] on `*`.
    pub async fn run_controls(&self, caller: &Caller) -> ApiResult<ControlsReport> {
        self.authorize(caller, &Access::new(RUN_CONTROLS_ACTION), "*", None)
            .await?;
        let secrets: Vec<_> = self
            .store
            .list(&caller.account_id, &caller.region)
            .await
            .map_err(crate::convert::store)?
            .into_iter()
            .map(|s| s.secret)
            .filter(|s| !s.is_deleted())
            .collect();
        let cfg = self.controls();
        Ok(ControlsReport {
            findings: evaluate(&cfg, &secrets, self.now_ms()),
            evaluated: secrets.len(),
            controls: super::enabled_controls(&cfg),
        })
    }

    /// CreateSecret's preventive check (before anything is written).
    pub(crate) fn enforce_create_controls(&self, name: &str, tags: &[Tag]) -> ApiResult<()> {
        let v = create_violations(&self.controls(), name, tags);
        if v.is_empty() {
            Ok(())
        } else {
            Err(refused("CreateSecret", &v))
        }
    }

    /// UntagResource's preventive check: required tags stay.
    pub(crate) fn enforce_untag_controls(&self, keys: &[String]) -> ApiResult<()> {
        match untag_violation(&self.controls(), keys) {
            Some(v) => Err(refused("UntagResource", &[v])),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str) -> Tag {
        Tag {
            key: k.into(),
            value: "v".into(),
        }
    }

    #[test]
    fn preventive_checks_only_when_enforcing() {
        let json = r#"{"required_tags":["team","env"],"name_pattern":"^prod/"}"#;
        let off = ControlsConfig::from_json(json).unwrap();
        assert!(create_violations(&off, "x", &[]).is_empty());
        assert!(untag_violation(&off, &["team".into()]).is_none());
        let on =
            ControlsConfig::from_json(&json.replace('}', r#","enforce_at_create":true}"#)).unwrap();
        assert!(create_violations(&on, "prod/a", &[tag("team"), tag("env")]).is_empty());
        let v = create_violations(&on, "dev/a", &[tag("env")]);
        let err = refused("CreateSecret", &v);
        assert_eq!(err.code, ErrorCode::AccessDeniedException);
        assert_eq!(
            err.message,
            "CreateSecret refused by a preventive control: missing required tags: team; name \"dev/a\" does not match the required pattern ^prod/"
        );
        assert_eq!(
            untag_violation(&on, &["other".into(), "env".into()]),
            Some(Violation::RequiredTagRemoval(vec!["env".into()]))
        );
        assert!(untag_violation(&on, &["other".into()]).is_none());
    }
}
