//! AWS-managed policies Coffer offers for attachment (`arn:aws:iam::aws:policy/…`).
//!
//! Documents are the default versions AWS publishes in the "AWS Managed Policy
//! Reference Guide" (docs.aws.amazon.com/aws-managed-policy/latest/reference/):
//! `AdministratorAccess` v1, `IAMFullAccess` v2, `SecretsManagerReadWrite` v5 (edited
//! 2024-02-22) and `AWSSecretsManagerClientReadOnlyAccess` v1 (2025-11-05; AWS has since
//! published v3/v4, whose text we could not verify). Statements that name other AWS
//! services are kept verbatim; Coffer simply never evaluates those actions.
//!
//! `CofferSecretsManagerReadOnly` is Coffer's own: AWS's read-only policy grants only
//! `GetSecretValue` and `DescribeSecret` (plus `kms:Decrypt`), which is not enough for
//! tools that list secrets or use `BatchGetSecretValue`. It lives under the `aws`
//! account so every Coffer account can attach it, like the real ones.

use crate::model::ManagedPolicy;

/// A built-in policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsManagedPolicy {
    /// Policy name.
    pub name: &'static str,
    /// `arn:aws:iam::aws:policy/{name}`.
    pub arn: &'static str,
    /// Path (`/`).
    pub path: &'static str,
    /// Default version ID as AWS reports it.
    pub version_id: &'static str,
    /// JSON document.
    pub document: &'static str,
    /// Description.
    pub description: &'static str,
}

impl AwsManagedPolicy {
    /// As a [`ManagedPolicy`] record, with a stable ID and `created_ms` of 0.
    pub fn to_policy(&self) -> ManagedPolicy {
        ManagedPolicy {
            name: self.name.to_owned(),
            path: self.path.to_owned(),
            policy_id: stable_id(self.name),
            arn: self.arn.to_owned(),
            default_version_id: self.version_id.to_owned(),
            document: self.document.to_owned(),
            created_ms: 0,
            updated_ms: 0,
            attachment_count: 0,
            description: Some(self.description.to_owned()),
            is_aws_managed: true,
            tags: Vec::new(),
        }
    }
}

/// `ANPA` + 17 base32 characters derived from the name, so the ID is the same on every
/// server and restart.
fn stable_id(name: &str) -> String {
    const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let mut id = String::from("ANPA");
    id.extend(
        digest.as_ref()[..17]
            .iter()
            .map(|b| B32[usize::from(b & 31)] as char),
    );
    id
}

/// All built-in policies.
pub fn aws_managed_policies() -> &'static [AwsManagedPolicy] {
    POLICIES
}

/// Looks a built-in policy up by ARN.
pub fn find_aws_managed_policy(arn: &str) -> Option<&'static AwsManagedPolicy> {
    POLICIES.iter().find(|p| p.arn == arn)
}

static POLICIES: &[AwsManagedPolicy] = &[
    AwsManagedPolicy {
        name: "AdministratorAccess",
        arn: "arn:aws:iam::aws:policy/AdministratorAccess",
        path: "/",
        version_id: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        description: "Provides full access to AWS services and resources.",
    },
    AwsManagedPolicy {
        name: "IAMFullAccess",
        arn: "arn:aws:iam::aws:policy/IAMFullAccess",
        path: "/",
        version_id: "v2",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
        description: "Provides full access to IAM via the AWS Management Console.",
    },
    AwsManagedPolicy {
        name: "SecretsManagerReadWrite",
        arn: "arn:aws:iam::aws:policy/SecretsManagerReadWrite",
        path: "/",
        version_id: "v5",
        document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"BasePermissions","Effect":"Allow","Action":["secretsmanager:*","cloudformation:CreateChangeSet","cloudformation:DescribeChangeSet","cloudformation:DescribeStackResource","cloudformation:DescribeStacks","cloudformation:ExecuteChangeSet","docdb-elastic:GetCluster","docdb-elastic:ListClusters","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs","kms:DescribeKey","kms:ListAliases","kms:ListKeys","lambda:ListFunctions","rds:DescribeDBClusters","rds:DescribeDBInstances","redshift:DescribeClusters","redshift-serverless:ListWorkgroups","redshift-serverless:GetNamespace","tag:GetResources"],"Resource":"*"},{"Sid":"LambdaPermissions","Effect":"Allow","Action":["lambda:AddPermission","lambda:CreateFunction","lambda:GetFunction","lambda:InvokeFunction","lambda:UpdateFunctionConfiguration"],"Resource":"arn:aws:lambda:*:*:function:SecretsManager*"},{"Sid":"SARPermissions","Effect":"Allow","Action":["serverlessrepo:CreateCloudFormationChangeSet","serverlessrepo:GetApplication"],"Resource":"arn:aws:serverlessrepo:*:*:applications/SecretsManager*"},{"Sid":"S3Permissions","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::awsserverlessrepo-changesets*","arn:aws:s3:::secrets-manager-rotation-apps-*/*"]}]}"#,
        description: "Provides read/write access to AWS Secrets Manager via the AWS Management Console. Note: this exludes IAM actions, so combine with IAMFullAccess if rotation configuration is required.",
    },
    AwsManagedPolicy {
        name: "AWSSecretsManagerClientReadOnlyAccess",
        arn: "arn:aws:iam::aws:policy/AWSSecretsManagerClientReadOnlyAccess",
        path: "/",
        version_id: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"SecretsManagerGetAndDescribeSecret","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:*:secret:*"},{"Sid":"KMSDecryptKey","Effect":"Allow","Action":["kms:Decrypt"],"Resource":"arn:aws:kms:*:*:key/*","Condition":{"StringLike":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:*:*:secret:*","kms:ViaService":"secretsmanager.*.amazonaws.com"}}}]}"#,
        description: "Provides access to retrieve and describe secrets from Secrets Manager. This policy also allows decrypting KMS keys for Secrets Manager secrets.",
    },
    AwsManagedPolicy {
        name: "CofferSecretsManagerReadOnly",
        arn: "arn:aws:iam::aws:policy/CofferSecretsManagerReadOnly",
        path: "/",
        version_id: "v1",
        document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"SecretsManagerReadOnly","Effect":"Allow","Action":["secretsmanager:BatchGetSecretValue","secretsmanager:DescribeSecret","secretsmanager:GetRandomPassword","secretsmanager:GetResourcePolicy","secretsmanager:GetSecretValue","secretsmanager:ListSecretVersionIds","secretsmanager:ListSecrets"],"Resource":"*"}]}"#,
        description: "Coffer built-in: read-only access to Secrets Manager (describe, get, list, batch get).",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MANAGED_POLICY_QUOTA, parse_iam_arn, policy_size};

    #[test]
    fn documents_are_valid() {
        for p in aws_managed_policies() {
            let v: serde_json::Value = serde_json::from_str(p.document).unwrap();
            assert_eq!(v["Version"], "2012-10-17", "{}", p.name);
            assert!(
                policy_size(p.document) <= MANAGED_POLICY_QUOTA,
                "{}",
                p.name
            );
            let arn = parse_iam_arn(p.arn).unwrap();
            assert_eq!((arn.account, arn.name, arn.path), ("aws", p.name, p.path));
            let rec = p.to_policy();
            assert_eq!(rec.policy_id.len(), 21);
            assert_eq!(find_aws_managed_policy(p.arn), Some(p));
        }
    }
}
