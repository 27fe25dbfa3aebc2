//! Resource-based policies on secrets: PutResourcePolicy (with BlockPublicPolicy),
//! GetResourcePolicy, DeleteResourcePolicy, ValidateResourcePolicy.

use super::bumped;
use super::meta::update_meta;
use crate::{Access, ApiResult, Caller, Service};
use coffer_policy::{FindingKind, Policy, is_public, validate_resource_policy};
use coffer_protocol::shapes::{
    GetResourcePolicyOutput, PutResourcePolicyInput, SecretIdInput, SecretRefOutput,
    ValidateResourcePolicyInput, ValidateResourcePolicyOutput, ValidationErrorsEntry,
};
use coffer_protocol::{ApiError, ErrorCode};

/// Largest resource policy accepted (AWS's limit).
pub const MAX_RESOURCE_POLICY: usize = 20_480;

/// Checks a resource policy: size, syntax, and error-level findings.
fn check_policy(text: &str) -> ApiResult<Policy> {
    if text.is_empty() || text.len() > MAX_RESOURCE_POLICY {
        return Err(ApiError::param(format!(
            "ResourcePolicy must be 1 to {MAX_RESOURCE_POLICY} characters."
        )));
    }
    let policy = Policy::parse_with_limit(text, MAX_RESOURCE_POLICY).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedPolicyDocumentException,
            format!("This resource policy contains a syntax error: {e}"),
        )
    })?;
    if let Some(f) = validate_resource_policy(text)
        .into_iter()
        .find(|f| f.kind == FindingKind::Error)
    {
        return Err(ApiError::new(
            ErrorCode::MalformedPolicyDocumentException,
            f.message,
        ));
    }
    Ok(policy)
}

impl Service {
    /// PutResourcePolicy.
    pub async fn put_resource_policy(
        &self,
        caller: &Caller,
        input: PutResourcePolicyInput,
    ) -> ApiResult<SecretRefOutput> {
        let text = input
            .resource_policy
            .ok_or_else(|| ApiError::param("You must specify a ResourcePolicy."))?;
        let policy = check_policy(&text)?;
        let block = input.block_public_policy.unwrap_or(false);
        if block && is_public(&policy) {
            return Err(ApiError::new(
                ErrorCode::PublicPolicyException,
                "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
            ));
        }
        let access = Access::sm("PutResourcePolicy")
            .key("secretsmanager:BlockPublicPolicy", block.to_string());
        let now = self.now_ms();
        self.mutate(caller, &access, input.secret_id.as_deref(), |state| {
            let out = SecretRefOutput {
                arn: state.secret.arn.clone(),
                name: state.secret.name.clone(),
            };
            if state.secret.resource_policy() == Some(text.as_str()) {
                return Ok((None, out));
            }
            let mut secret = bumped(&state.secret, now);
            secret.set_resource_policy(Some(text.clone()));
            Ok((Some(update_meta(state, secret)), out))
        })
        .await
    }

    /// GetResourcePolicy.
    pub async fn get_resource_policy(
        &self,
        caller: &Caller,
        input: SecretIdInput,
    ) -> ApiResult<GetResourcePolicyOutput> {
        let state = self
            .resolve(
                caller,
                &Access::sm("GetResourcePolicy"),
                input.secret_id.as_deref(),
            )
            .await?;
        Ok(GetResourcePolicyOutput {
            arn: state.secret.arn.clone(),
            name: state.secret.name.clone(),
            resource_policy: state.secret.resource_policy().map(str::to_owned),
        })
    }

    /// DeleteResourcePolicy (a no-op when none is attached).
    pub async fn delete_resource_policy(
        &self,
        caller: &Caller,
        input: SecretIdInput,
    ) -> ApiResult<SecretRefOutput> {
        let now = self.now_ms();
        self.mutate(
            caller,
            &Access::sm("DeleteResourcePolicy"),
            input.secret_id.as_deref(),
            |state| {
                let out = SecretRefOutput {
                    arn: state.secret.arn.clone(),
                    name: state.secret.name.clone(),
                };
                if state.secret.resource_policy().is_none() {
                    return Ok((None, out));
                }
                let mut secret = bumped(&state.secret, now);
                secret.set_resource_policy(None);
                Ok((Some(update_meta(state, secret)), out))
            },
        )
        .await
    }

    /// ValidateResourcePolicy: syntax errors and findings, like IAM Access Analyzer.
    pub async fn validate_resource_policy(
        &self,
        caller: &Caller,
        input: ValidateResourcePolicyInput,
    ) -> ApiResult<ValidateResourcePolicyOutput> {
        let text = input
            .resource_policy
            .ok_or_else(|| ApiError::param("You must specify a ResourcePolicy."))?;
        if text.is_empty() || text.len() > MAX_RESOURCE_POLICY {
            return Err(ApiError::param(format!(
                "ResourcePolicy must be 1 to {MAX_RESOURCE_POLICY} characters."
            )));
        }
        let access = Access::sm("ValidateResourcePolicy");
        match input.secret_id.as_deref() {
            Some(id) => {
                self.resolve(caller, &access, Some(id)).await?;
            }
            None => self.authorize(caller, &access, "*", None).await?,
        }
        let findings = validate_resource_policy(&text);
        let passed = !findings.iter().any(|f| f.kind == FindingKind::Error);
        Ok(ValidateResourcePolicyOutput {
            policy_validation_passed: passed,
            validation_errors: findings
                .into_iter()
                .map(|f| ValidationErrorsEntry {
                    check_name: f.check.to_owned(),
                    error_message: f.message,
                })
                .collect(),
        })
    }
}
