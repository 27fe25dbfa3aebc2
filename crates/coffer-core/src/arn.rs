//! Secret ARNs: `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random chars>`.

use rand::Rng;

/// The parts of a secret ARN, complete or partial (without the random suffix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretArn {
    /// AWS partition, normally `aws`.
    pub partition: String,
    /// Region.
    pub region: String,
    /// 12-digit account id.
    pub account_id: String,
    /// Everything after `secret:` — the name, possibly followed by `-XXXXXX`.
    pub resource: String,
}

impl SecretArn {
    /// Parses `arn:<partition>:secretsmanager:<region>:<account>:secret:<rest>`.
    /// Returns None for anything else (then the id is treated as a name).
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("arn:")?;
        let mut parts = rest.splitn(6, ':');
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let kind = parts.next()?;
        let resource = parts.next()?;
        if service != "secretsmanager" || kind != "secret" || partition.is_empty() {
            return None;
        }
        if resource.is_empty() {
            return None;
        }
        Some(Self {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account_id: account.to_owned(),
            resource: resource.to_owned(),
        })
    }

    /// Renders the ARN string.
    pub fn render(&self) -> String {
        format!(
            "arn:{}:secretsmanager:{}:{}:secret:{}",
            self.partition, self.region, self.account_id, self.resource
        )
    }

    /// A fresh ARN for a new secret named `name`: the name plus `-` and 6 random alphanumerics.
    pub fn new_for(region: &str, account_id: &str, name: &str) -> Self {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut rng = rand::thread_rng();
        let suffix: String = (0..6)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        Self {
            partition: "aws".to_owned(),
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            resource: format!("{name}-{suffix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_render_roundtrip() {
        let s = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db/prod-AbCdEf";
        let a = SecretArn::parse(s).unwrap();
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.account_id, "123456789012");
        assert_eq!(a.resource, "db/prod-AbCdEf");
        assert_eq!(a.render(), s);
    }

    #[test]
    fn names_with_colons_stay_whole() {
        let a = SecretArn::parse("arn:aws:secretsmanager:r:1:secret:a:b").unwrap();
        assert_eq!(a.resource, "a:b");
    }

    #[test]
    fn rejects_other_services() {
        assert!(SecretArn::parse("arn:aws:kms:us-east-1:1:key/x").is_none());
        assert!(SecretArn::parse("my-secret").is_none());
    }

    #[test]
    fn new_arn_has_suffix() {
        let a = SecretArn::new_for("eu-west-1", "111122223333", "x");
        assert!(a.resource.starts_with("x-") && a.resource.len() == 8);
    }
}
