//! The Coffer server: accepts connections (TLS or loopback HTTP), authenticates each request
//! with SigV4, dispatches it to the [`coffer_service::Service`] and renders AWS JSON 1.1.
//!
//! Flow of one request: [`listen`] (TCP, TLS, HTTP/1.1 or h2) → [`api::handle`] (body limit,
//! target, [`auth`] SigV4) → service operation → JSON response or AWS error.

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod events;
mod jobs;
pub mod kms_seal;
pub mod listen;
pub mod metrics;
pub mod query;
pub mod sinks;
mod state;
pub mod sys;
pub mod tail;

pub use config::ServerConfig;
pub use state::AppState;

use anyhow::Context;
use coffer_core::{Clock, OffsetClock, SystemClock};
use coffer_service::{Keyring, SealManager, Service};
use coffer_store::sqlite::SqliteStore;
use std::sync::Arc;

/// Opens the data directory, unseals in dev mode, and serves until SIGINT/SIGTERM.
pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    config.check()?;
    let controls = config::load_controls(config.controls_file.as_deref())?;
    // Bad sink specs or rules stop the server before anything else happens.
    let sink_specs = sinks::SinkSpec::parse_all(&config.audit_sinks, &|k| std::env::var(k).ok())?;
    let file_rules = match &config.rules_file {
        Some(path) => Some(
            events::stored::Rules::read_file(path)
                .with_context(|| format!("invalid rules file {}", path.display()))?,
        ),
        None => None,
    };
    // Fail on a busy port or unreadable TLS files before touching the data directory.
    let listener = listen::bind(&config).await?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let db = config.data_dir.join("coffer.db");
    let store = SqliteStore::open(&db).with_context(|| format!("opening {}", db.display()))?;
    let clock: Arc<dyn Clock> = if config.clock_offset_secs == 0 {
        Arc::new(SystemClock)
    } else {
        tracing::warn!(
            offset_secs = config.clock_offset_secs,
            "server clock shifted (testing aid)"
        );
        Arc::new(OffsetClock {
            offset_ms: config.clock_offset_secs.saturating_mul(1000),
        })
    };
    let service = Service::new(Arc::new(store), Arc::new(Keyring::new()), clock)
        .with_audit_mode(config.audit_mode);
    service.set_oidc_issuers(config::load_oidc_issuers(&config.oidc_issuers)?);
    service.set_controls(controls);
    let seal = Arc::new(SealManager::new(service.clone()));

    if config.dev {
        let key_file = config.data_dir.join("dev-root.key");
        if config.json_logs {
            // stderr carries only JSON lines.
            tracing::warn!(
                root_key_file = %key_file.display(),
                "--dev mode: the root key is stored UNENCRYPTED; anyone who can read that file can decrypt every secret. Never use --dev in production."
            );
        } else {
            eprintln!(
                "\n  WARNING: --dev mode. The root key is stored UNENCRYPTED in {}.\n  \
                 Anyone who can read that file can decrypt every secret. Never use --dev in production.\n",
                key_file.display()
            );
        }
        let created = seal
            .dev_start(&key_file)
            .await
            .map_err(|e| anyhow::anyhow!("dev unseal failed: {}", e.message))?;
        if let Some(c) = created {
            println!(
                "Coffer initialized in dev mode. Root access key for account {} (shown only once):",
                c.account_id
            );
            println!("  AWS_ACCESS_KEY_ID={}", c.access_key_id);
            println!("  AWS_SECRET_ACCESS_KEY={}", &*c.secret_access_key);
            println!("  AWS_DEFAULT_REGION={}", config.default_region);
        }
    } else if let Some((endpoint, key_id, region)) = &config.seal_kms {
        let akid = std::env::var("COFFER_SEAL_KMS_ACCESS_KEY_ID")
            .context("--seal-kms-endpoint needs COFFER_SEAL_KMS_ACCESS_KEY_ID")?;
        let secret = zeroize::Zeroizing::new(
            std::env::var("COFFER_SEAL_KMS_SECRET_ACCESS_KEY")
                .context("--seal-kms-endpoint needs COFFER_SEAL_KMS_SECRET_ACCESS_KEY")?,
        );
        let kms = Arc::new(kms_seal::RemoteKms::new(
            endpoint, key_id, region, &akid, secret,
        )?);
        seal.set_kms(kms.clone());
        let seal = Arc::clone(&seal);
        let region = config.default_region.clone();
        // The server comes up sealed and unseals as soon as the external KMS answers.
        tokio::spawn(async move {
            loop {
                match seal.kms_start(kms.as_ref()).await {
                    Ok(created) => {
                        tracing::info!(key = %kms.key_id, "auto-unsealed through the external KMS");
                        if let Some(c) = created {
                            println!(
                                "Coffer initialized with auto-unseal. Root access key for account {} (shown only once):",
                                c.account_id
                            );
                            println!("  AWS_ACCESS_KEY_ID={}", c.access_key_id);
                            println!("  AWS_SECRET_ACCESS_KEY={}", &*c.secret_access_key);
                            println!("  AWS_DEFAULT_REGION={region}");
                        }
                        return;
                    }
                    Err(e) if e.code == coffer_protocol::ErrorCode::ServiceUnavailableException => {
                        tracing::warn!(error = %e.message, "auto-unseal failed; retrying in 2 s");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e.message, "auto-unseal refused; the server stays sealed (unseal it with its shares, then `coffer operator migrate-seal --to kms`)");
                        return;
                    }
                }
            }
        });
    } else {
        let st = seal
            .status()
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        if !st.initialized {
            tracing::warn!("coffer is not initialized: run `coffer operator init`");
        } else {
            tracing::warn!(
                threshold = st.threshold,
                "coffer is sealed: run `coffer operator unseal`"
            );
        }
    }
    let state = AppState::new(service, seal, config.clone());
    sinks::start(&state, sink_specs).await?;
    events::start(
        &state,
        events::EventsOptions {
            break_glass_principals: config.break_glass_principals.clone(),
            file_rules,
        },
    )
    .await?;
    jobs::spawn(state.clone());
    let result = listen::serve(state.clone(), listener).await;
    // A last digest so the log's end is signed.
    if state.service.keyring().is_unsealed()
        && let Err(e) = state.service.write_audit_digest().await
    {
        tracing::warn!(error = %e, "final audit digest failed");
    }
    result
}
