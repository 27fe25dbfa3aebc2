//! Detective and preventive controls over secrets (Coffer's counterpart of AWS Config rules
//! for Secrets Manager): required tags, a naming convention, rotation, unused secrets, the
//! encryption key, and resource policies that reach outside the organization.
//!
//! [`ControlsConfig`] comes from the controls file (`coffer serve --controls-file`).
//! [`evaluate`] is pure: records, settings and "now" in, sorted [`Finding`]s out.
//! [`Service::run_controls`](crate::Service::run_controls) runs it over the caller's
//! account and region (admin operation `CofferAdmin.RunControls`); with `enforce_at_create`
//! CreateSecret and UntagResource refuse what would break the tag and name controls.
//!
//! Rotation is not implemented yet: its state is read through
//! [`SecretRecord::rotation_enabled`](coffer_core::SecretRecord::rotation_enabled) and
//! [`SecretRecord::rotation_failed`](coffer_core::SecretRecord::rotation_failed).

mod config;
mod evaluate;
mod service;

pub use config::{ControlsConfig, ControlsConfigError, MAX_PATTERN_CHARS};
pub use evaluate::{enabled_controls, evaluate, evaluate_secret, missing_tags, name_matches};
pub use service::{ControlsReport, Violation};

use serde::Serialize;

/// A control, identified on the wire by a stable kebab-case id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlId {
    /// `required-tags`: the secret lacks a required tag key.
    RequiredTags,
    /// `name-convention`: the name does not match the pattern.
    NameConvention,
    /// `rotation-not-enabled`: rotation is off (only with `require_rotation`).
    RotationNotEnabled,
    /// `rotation-failed`: the last rotation failed.
    RotationFailed,
    /// `not-accessed`: not read (or created, if never read) within `max_days_unused` days.
    NotAccessed,
    /// `not-customer-managed-key`: encrypted with the default `aws/secretsmanager` key.
    NotCustomerManagedKey,
    /// `policy-outside-organization`: the resource policy is public or grants another
    /// account outside `organization_accounts`.
    PolicyOutsideOrganization,
}

impl ControlId {
    /// Every control, in documentation order.
    pub const ALL: [ControlId; 7] = [
        ControlId::RequiredTags,
        ControlId::NameConvention,
        ControlId::RotationNotEnabled,
        ControlId::RotationFailed,
        ControlId::NotAccessed,
        ControlId::NotCustomerManagedKey,
        ControlId::PolicyOutsideOrganization,
    ];

    /// The stable id, e.g. `required-tags`.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlId::RequiredTags => "required-tags",
            ControlId::NameConvention => "name-convention",
            ControlId::RotationNotEnabled => "rotation-not-enabled",
            ControlId::RotationFailed => "rotation-failed",
            ControlId::NotAccessed => "not-accessed",
            ControlId::NotCustomerManagedKey => "not-customer-managed-key",
            ControlId::PolicyOutsideOrganization => "policy-outside-organization",
        }
    }
}

impl std::fmt::Display for ControlId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One secret failing one control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which control.
    pub control: ControlId,
    /// The secret's ARN.
    pub secret_arn: String,
    /// The secret's name.
    pub secret_name: String,
    /// The secret's account.
    pub account_id: String,
    /// The secret's region.
    pub region: String,
    /// What is wrong, for people.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable() {
        for c in ControlId::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(
            ControlId::PolicyOutsideOrganization.to_string(),
            "policy-outside-organization"
        );
    }
}
