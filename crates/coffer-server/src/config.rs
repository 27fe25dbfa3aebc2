//! Server settings (the CLI fills them from flags and `COFFER_*` environment variables).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything `coffer serve` can be told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory holding the database (and, in dev mode, the root key file).
    pub data_dir: PathBuf,
    /// Development mode: root key in a file, auto-unseal.
    pub dev: bool,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address.
    pub allow_plain_http: bool,
    /// Regions accepted in credential scopes; empty = any well-formed region.
    pub regions: Vec<String>,
    /// Region printed with dev credentials.
    pub default_region: String,
    /// Allowed clock skew for SigV4 (seconds).
    pub max_skew_secs: i64,
    /// Accept presigned (query-string) SigV4.
    pub allow_presigned: bool,
    /// Seconds between purges of secrets whose recovery window ended.
    pub purge_interval_secs: u64,
    /// Largest request body accepted (bytes).
    pub max_body_bytes: usize,
    /// OIDC issuers trusted by AssumeRoleWithWebIdentity: `ISSUER|JWKS_FILE[|AUD,AUD…]`.
    pub oidc_issuers: Vec<String>,
    /// Testing aid: shift the server's clock by this many seconds.
    pub clock_offset_secs: i64,
    /// Auto-unseal through an external KMS: (endpoint, key id, region). Credentials come
    /// from `COFFER_SEAL_KMS_ACCESS_KEY_ID` / `COFFER_SEAL_KMS_SECRET_ACCESS_KEY`.
    pub seal_kms: Option<(String, String, String)>,
    /// What a call does when its audit record cannot be written.
    pub audit_mode: coffer_service::audit::AuditMode,
    /// Seconds between signed digests of the audit chain.
    pub audit_digest_interval_secs: u64,
    /// Days audit records are kept (`None`: forever).
    pub audit_retention_days: Option<u32>,
    /// Detective and preventive controls settings (JSON), if any.
    pub controls_file: Option<PathBuf>,
    /// Serve Prometheus metrics at `GET /metrics` (unauthenticated).
    pub metrics: bool,
    /// The log is JSON lines on stderr: start-up warnings are logged as events instead of
    /// printed as text.
    pub json_logs: bool,
    /// Audit sink specs (`--audit-sink`), parsed by [`crate::sinks::SinkSpec::parse_all`].
    pub audit_sinks: Vec<String>,
    /// Event rules file replacing the stored rules at start (`--rules-file`).
    pub rules_file: Option<PathBuf>,
    /// ARN globs of break-glass principals (`--break-glass-principal`).
    pub break_glass_principals: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("static address"),
            data_dir: PathBuf::from("./coffer-data"),
            dev: false,
            tls_cert: None,
            tls_key: None,
            allow_plain_http: false,
            regions: Vec::new(),
            default_region: "us-east-1".to_owned(),
            max_skew_secs: 900,
            allow_presigned: true,
            purge_interval_secs: 60,
            max_body_bytes: 256 * 1024,
            oidc_issuers: Vec::new(),
            clock_offset_secs: 0,
            seal_kms: None,
            audit_mode: coffer_service::audit::AuditMode::default(),
            audit_digest_interval_secs: 60,
            audit_retention_days: None,
            controls_file: None,
            metrics: true,
            json_logs: false,
            audit_sinks: Vec::new(),
            rules_file: None,
            break_glass_principals: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// Rejects unsafe or inconsistent settings.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            anyhow::bail!("--tls-cert and --tls-key must be given together");
        }
        if self.tls_cert.is_none() && !self.listen.ip().is_loopback() && !self.allow_plain_http {
            anyhow::bail!(
                "refusing to serve plain HTTP on {} (not loopback): give --tls-cert/--tls-key, or --allow-plain-http if a TLS proxy is in front",
                self.listen
            );
        }
        for r in &self.regions {
            if !valid_region(r) {
                anyhow::bail!("invalid region name {r:?}");
            }
        }
        if !(60..=3600).contains(&self.max_skew_secs) {
            anyhow::bail!("--max-skew-secs must be between 60 and 3600");
        }
        Ok(())
    }

    /// Whether `region` may be used in a credential scope.
    pub fn region_allowed(&self, region: &str) -> bool {
        if self.regions.is_empty() {
            valid_region(region)
        } else {
            self.regions.iter().any(|r| r == region)
        }
    }
}

/// `xx-name-N` style region names (lowercase letters, digits and hyphens, 4–32 chars).
pub fn valid_region(r: &str) -> bool {
    (4..=32).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && r.contains('-')
        && !r.starts_with('-')
        && !r.ends_with('-')
}

/// Parses `ISSUER|JWKS_FILE[|AUD,AUD…]` specs and reads their key sets.
pub fn load_oidc_issuers(specs: &[String]) -> anyhow::Result<Vec<coffer_iam::oidc::IssuerConfig>> {
    use anyhow::Context;
    specs
        .iter()
        .map(|spec| {
            let mut parts = spec.splitn(3, '|');
            let issuer = parts.next().unwrap_or_default().to_owned();
            let path = parts.next().with_context(|| {
                format!("--oidc-issuer {spec:?}: want ISSUER|JWKS_FILE[|AUD,…]")
            })?;
            let audiences = parts
                .next()
                .map(|a| {
                    a.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let bytes = std::fs::read(path).with_context(|| format!("reading JWKS {path}"))?;
            let jwks = coffer_iam::oidc::Jwks::parse(&bytes)
                .map_err(|e| anyhow::anyhow!("JWKS {path}: {e}"))?;
            Ok(coffer_iam::oidc::IssuerConfig {
                issuer,
                audiences,
                jwks,
            })
        })
        .collect()
}

/// Reads and validates the controls file, if one is configured.
pub fn load_controls(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Option<coffer_service::controls::ControlsConfig>> {
    use anyhow::Context;
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading controls file {}", path.display()))?;
    let cfg = coffer_service::controls::ControlsConfig::from_json(&text)
        .with_context(|| format!("invalid controls file {}", path.display()))?;
    Ok(Some(cfg))
}
