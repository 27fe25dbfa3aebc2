//! Operations addressed by `X-Amz-Target: secretsmanager.<Name>`.

macro_rules! operations {
    ($( $(#[$doc:meta])* $name:ident => $implemented:expr ),* $(,)?) => {
        /// One Secrets Manager operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $( $(#[$doc])* $name ),* }

        impl Operation {
            /// All operations in botocore's model.
            pub const ALL: &'static [Operation] = &[$(Operation::$name),*];
            /// The operation's wire name.
            pub fn name(self) -> &'static str {
                match self { $(Operation::$name => stringify!($name)),* }
            }
            /// Whether this server version implements it (others answer a clear error).
            pub fn implemented(self) -> bool {
                match self { $(Operation::$name => $implemented),* }
            }
            /// Parses the part of `X-Amz-Target` after `secretsmanager.`.
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $(stringify!($name) => Some(Operation::$name),)* _ => None }
            }
        }
    };
}

operations! {
    /// Reads up to 20 secret values at once.
    BatchGetSecretValue => true,
    /// Cancels automatic rotation.
    CancelRotateSecret => false,
    /// Creates a secret.
    CreateSecret => true,
    /// Removes a secret's resource policy.
    DeleteResourcePolicy => true,
    /// Schedules (or forces) deletion of a secret.
    DeleteSecret => true,
    /// Describes a secret's metadata.
    DescribeSecret => true,
    /// Generates a random password.
    GetRandomPassword => true,
    /// Reads a secret's resource policy.
    GetResourcePolicy => true,
    /// Reads a secret value.
    GetSecretValue => true,
    /// Lists a secret's versions.
    ListSecretVersionIds => true,
    /// Lists secrets.
    ListSecrets => true,
    /// Attaches a resource policy.
    PutResourcePolicy => true,
    /// Stores a new secret value.
    PutSecretValue => true,
    /// Stops replication to regions.
    RemoveRegionsFromReplication => false,
    /// Replicates a secret to other regions.
    ReplicateSecretToRegions => false,
    /// Cancels a scheduled deletion.
    RestoreSecret => true,
    /// Configures and starts rotation.
    RotateSecret => false,
    /// Promotes a replica to a standalone secret.
    StopReplicationToReplica => false,
    /// Adds tags.
    TagResource => true,
    /// Removes tags.
    UntagResource => true,
    /// Changes a secret's metadata or value.
    UpdateSecret => true,
    /// Moves a staging label between versions.
    UpdateSecretVersionStage => true,
    /// Validates a resource policy.
    ValidateResourcePolicy => true,
}

impl Operation {
    /// True for operations that only read.
    pub fn read_only(self) -> bool {
        matches!(
            self,
            Self::BatchGetSecretValue
                | Self::DescribeSecret
                | Self::GetRandomPassword
                | Self::GetResourcePolicy
                | Self::GetSecretValue
                | Self::ListSecretVersionIds
                | Self::ListSecrets
                | Self::ValidateResourcePolicy
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
        assert_eq!(Operation::ALL.len(), 23);
        assert!(Operation::from_name("getSecretValue").is_none());
    }
}
