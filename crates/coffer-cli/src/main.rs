//! `coffer`: the server and its operator tools in one binary.

mod audit;
mod client;
mod controls;
mod iam;
mod operator;
mod rules;

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Coffer: a self-hosted secrets manager that speaks the AWS Secrets Manager API.
///
/// Point any AWS SDK, the aws CLI or boto3 at `coffer serve` with an endpoint URL.
#[derive(Parser)]
#[command(name = "coffer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Initialise, unseal, seal and inspect a server.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// Manage accounts (needs an admin account's access key).
    #[command(subcommand)]
    Account(operator::AccountCommand),
    /// IAM helpers (`explain`: which statement decides a request and why).
    #[command(subcommand)]
    Iam(iam::IamCommand),
    /// The audit log: verify its integrity, search it, export it.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Run the detective controls over your account and region (AWS_* credentials).
    /// Exit status: 0 without findings, 3 with findings.
    Controls(controls::ControlsArgs),
    /// Event rules: put, delete, list, test a pattern (needs an admin account's access key).
    #[command(subcommand)]
    Rules(rules::RulesCommand),
}

/// Options of `coffer serve`.
#[derive(clap::Args)]
struct ServeArgs {
    /// Development mode: keep the root key in a file in the data directory and unseal
    /// automatically. Insecure; never use in production.
    #[arg(long)]
    dev: bool,
    /// Address to listen on.
    #[arg(long, env = "COFFER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory (created if absent).
    #[arg(long, env = "COFFER_DATA_DIR", default_value = "./coffer-data")]
    data_dir: PathBuf,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "COFFER_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "COFFER_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long, env = "COFFER_ALLOW_PLAIN_HTTP")]
    allow_plain_http: bool,
    /// Regions clients may use (repeatable; default: any well-formed region name).
    #[arg(long = "region", env = "COFFER_REGIONS", value_delimiter = ',')]
    regions: Vec<String>,
    /// Largest allowed difference between a request's X-Amz-Date and the server clock.
    #[arg(long, env = "COFFER_MAX_SKEW_SECS", default_value_t = 900)]
    max_skew_secs: i64,
    /// Refuse presigned (query-string) SigV4 requests.
    #[arg(long, env = "COFFER_NO_PRESIGNED")]
    no_presigned: bool,
    /// Seconds between purges of secrets whose recovery window has ended.
    #[arg(long, env = "COFFER_PURGE_INTERVAL_SECS", default_value_t = 60)]
    purge_interval_secs: u64,
    /// OIDC issuer trusted by AssumeRoleWithWebIdentity, as `ISSUER|JWKS_FILE[|AUD,AUD…]`
    /// (repeatable), e.g. `https://token.actions.githubusercontent.com|/etc/coffer/gh.jwks|sts.amazonaws.com`.
    #[arg(
        long = "oidc-issuer",
        env = "COFFER_OIDC_ISSUERS",
        value_delimiter = ';'
    )]
    oidc_issuers: Vec<String>,
    /// Testing aid: run the server's clock this many seconds ahead (or behind).
    #[arg(
        long,
        env = "COFFER_TEST_CLOCK_OFFSET_SECS",
        default_value_t = 0,
        hide = true
    )]
    test_clock_offset_secs: i64,
    /// When an audit record cannot be written: `closed` fails the call (default), `open`
    /// answers it and counts the loss, `off` records nothing (benchmark baseline only).
    #[arg(long, env = "COFFER_AUDIT_MODE", default_value = "closed")]
    audit_mode: coffer_service::audit::AuditMode,
    /// Seconds between Ed25519-signed digests of the audit chain.
    #[arg(long, env = "COFFER_AUDIT_DIGEST_INTERVAL_SECS", default_value_t = 60)]
    audit_digest_interval_secs: u64,
    /// Days audit records are kept (default: forever).
    #[arg(long, env = "COFFER_AUDIT_RETENTION_DAYS")]
    audit_retention_days: Option<u32>,
    /// Detective and preventive controls (JSON): required_tags, name_pattern,
    /// max_days_unused, require_rotation, require_customer_managed_key,
    /// organization_accounts, enforce_at_create.
    #[arg(long, env = "COFFER_CONTROLS_FILE")]
    controls_file: Option<PathBuf>,
    /// Auto-unseal: the URL of an external KMS (AWS KMS or another Coffer) whose key
    /// encrypts the root key; credentials from COFFER_SEAL_KMS_ACCESS_KEY_ID and
    /// COFFER_SEAL_KMS_SECRET_ACCESS_KEY.
    #[arg(
        long,
        env = "COFFER_SEAL_KMS_ENDPOINT",
        requires = "seal_kms_key_id",
        conflicts_with = "dev"
    )]
    seal_kms_endpoint: Option<String>,
    /// Auto-unseal: the external key's id or ARN.
    #[arg(long, env = "COFFER_SEAL_KMS_KEY_ID", requires = "seal_kms_endpoint")]
    seal_kms_key_id: Option<String>,
    /// Auto-unseal: the region to sign for.
    #[arg(long, env = "COFFER_SEAL_KMS_REGION", default_value = "us-east-1")]
    seal_kms_region: String,
    /// Do not serve Prometheus metrics at `GET /metrics` (served unauthenticated by default).
    #[arg(long, env = "COFFER_NO_METRICS")]
    no_metrics: bool,
    /// Log format: `json` writes one JSON object per line to stderr.
    #[arg(long, env = "COFFER_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Deliver every audit record to a sink (repeatable): `file:PATH?max_bytes=N&max_files=N`,
    /// `stdout:`, `syslog+udp://HOST:PORT`, `syslog+tcp://HOST:PORT`,
    /// `webhook:URL?batch=N&interval_ms=N&secret_env=VAR`; `from=start` delivers the whole
    /// log to a new sink.
    #[arg(long = "audit-sink", env = "COFFER_AUDIT_SINKS", value_delimiter = ';')]
    audit_sinks: Vec<String>,
    /// Event rules file (`{"rules": [...]}`) replacing the stored rules at start.
    #[arg(long, env = "COFFER_RULES_FILE")]
    rules_file: Option<PathBuf>,
    /// ARN glob of a break-glass principal whose deletions raise "Deletion By Break-Glass
    /// Principal" events (repeatable).
    #[arg(
        long = "break-glass-principal",
        env = "COFFER_BREAK_GLASS_PRINCIPALS",
        value_delimiter = ';'
    )]
    break_glass_principals: Vec<String>,
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COFFER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let json = format == "json";
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(!json && std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(a) => {
            init_logging(&a.log_format);
            let config = coffer_server::ServerConfig {
                listen: a.listen,
                data_dir: a.data_dir,
                dev: a.dev,
                tls_cert: a.tls_cert,
                tls_key: a.tls_key,
                allow_plain_http: a.allow_plain_http,
                regions: a.regions,
                max_skew_secs: a.max_skew_secs,
                allow_presigned: !a.no_presigned,
                purge_interval_secs: a.purge_interval_secs,
                oidc_issuers: a.oidc_issuers,
                clock_offset_secs: a.test_clock_offset_secs,
                seal_kms: a
                    .seal_kms_endpoint
                    .zip(a.seal_kms_key_id)
                    .map(|(e, k)| (e, k, a.seal_kms_region)),
                audit_mode: a.audit_mode,
                audit_digest_interval_secs: a.audit_digest_interval_secs,
                audit_retention_days: a.audit_retention_days,
                controls_file: a.controls_file,
                metrics: !a.no_metrics,
                json_logs: a.log_format == "json",
                audit_sinks: a.audit_sinks,
                rules_file: a.rules_file,
                break_glass_principals: a.break_glass_principals,
                ..Default::default()
            };
            rt.block_on(coffer_server::run(config))?;
        }
        Command::Operator(c) => rt.block_on(operator::run_operator(c))?,
        Command::Account(c) => rt.block_on(operator::run_account(c))?,
        Command::Iam(c) => rt.block_on(iam::run(c))?,
        Command::Audit(c) => return rt.block_on(audit::run(c)),
        Command::Rules(c) => {
            let code = rt.block_on(rules::run(c))?;
            if code != 0 {
                return Ok(std::process::ExitCode::from(code));
            }
        }
        Command::Controls(a) => {
            let code = rt.block_on(controls::run(a))?;
            if code != 0 {
                use std::io::Write;
                std::io::stdout().flush()?;
                return Ok(std::process::ExitCode::from(code as u8));
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
