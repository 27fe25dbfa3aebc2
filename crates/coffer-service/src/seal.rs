//! Initialisation, sealing and unsealing of the root key.
//!
//! - Production: `init` generates a root key, splits it into Shamir shares (shown once) and
//!   stores only a check blob; after every start the server is sealed until `threshold`
//!   shares have been submitted with `unseal`.
//! - Development (`--dev`): the root key is kept in a file next to the data. Convenient and
//!   insecure; the server says so loudly.

use crate::accounts::NewCredentials;
use crate::{ApiResult, Service};
use coffer_crypto::{SymmetricKey, shamir};
use coffer_protocol::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;
use zeroize::Zeroizing;

const META_KEY: &str = "seal-config";

/// How the root key is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SealMode {
    /// Shamir shares held by operators.
    Shamir,
    /// A plaintext key file next to the data (development only).
    Dev,
    /// Auto-unseal: the root key is stored encrypted by an external KMS (AWS KMS or another
    /// Coffer) and decrypted by it at every start.
    Kms,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SealConfig {
    mode: SealMode,
    shares: u8,
    threshold: u8,
    /// Root-key check blob, base64.
    check: String,
    /// After a rekey: the root key sealed under the unseal key the shares reconstruct
    /// (base64). Absent: the shares reconstruct the root key itself (as `init` made them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wrapped_root: Option<String>,
    /// Auto-unseal: the external key that encrypts the root key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
}

/// An external key service that encrypts and decrypts the root key (auto-unseal).
#[async_trait::async_trait]
pub trait RootKeyService: Send + Sync + std::fmt::Debug {
    /// The external key's id, recorded with the encrypted root key.
    fn key_id(&self) -> String;
    /// Encrypts the root key bytes.
    async fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, String>;
    /// Decrypts what [`RootKeyService::encrypt`] returned.
    async fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String>;
}

/// AAD of the root key sealed under an unseal key.
const ROOT_WRAP_AAD: &[u8] = b"coffer/root-wrap/v1";

/// A rekey in progress: the new share parameters and the current shares collected so far.
#[derive(Debug)]
struct Rekey {
    nonce: String,
    shares: u8,
    threshold: u8,
    collected: Vec<shamir::Share>,
}

/// Progress of a rekey (`GET`/`POST /coffer/v1/sys/rekey/…`).
#[derive(Debug, Clone, Serialize)]
pub struct RekeyStatus {
    /// Identifies this rekey; every share submitted must name it.
    pub nonce: String,
    /// Current shares needed.
    pub required: u8,
    /// Current shares submitted.
    pub progress: u8,
    /// New shares once complete (shown once), else empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_shares: Vec<String>,
}

/// What `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SealStatus {
    /// Whether `init` has run.
    pub initialized: bool,
    /// Whether the root key is absent.
    pub sealed: bool,
    /// How the root key is held.
    pub mode: Option<SealMode>,
    /// Shares needed.
    pub threshold: u8,
    /// Shares issued.
    pub shares: u8,
    /// Shares submitted so far in this unseal attempt.
    pub progress: u8,
}

/// Result of `init`: the shares and the first account's root credentials, shown once.
#[derive(Debug)]
pub struct InitResult {
    /// Shamir shares (text form).
    pub shares: Vec<Zeroizing<String>>,
    /// Root credentials of the first (admin) account.
    pub credentials: NewCredentials,
}

/// Coordinates the seal state of one server.
#[derive(Debug)]
pub struct SealManager {
    service: Service,
    pending: Mutex<Vec<shamir::Share>>,
    rekey: Mutex<Option<Rekey>>,
    /// The external KMS configured for auto-unseal (target of a migration to it).
    kms: Mutex<Option<std::sync::Arc<dyn RootKeyService>>>,
    /// The dev key file this server was unsealed from (removed when migrating away).
    dev_key_file: Mutex<Option<std::path::PathBuf>>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl SealManager {
    /// A manager for `service`'s keyring and store.
    pub fn new(service: Service) -> Self {
        Self {
            service,
            pending: Mutex::new(Vec::new()),
            rekey: Mutex::new(None),
            kms: Mutex::new(None),
            dev_key_file: Mutex::new(None),
        }
    }

    async fn config(&self) -> ApiResult<Option<SealConfig>> {
        let raw = self
            .service
            .store()
            .get_meta(META_KEY)
            .await
            .map_err(crate::convert::store)?;
        raw.map(|r| {
            serde_json::from_slice(&r).map_err(|e| {
                tracing::error!(error = %e, "seal config unreadable");
                ApiError::internal()
            })
        })
        .transpose()
    }

    async fn save_config(&self, cfg: &SealConfig) -> ApiResult<()> {
        let bytes = serde_json::to_vec(cfg).map_err(|_| ApiError::internal())?;
        self.service
            .store()
            .put_meta(META_KEY, &bytes)
            .await
            .map_err(crate::convert::store)
    }

    /// Current status.
    pub async fn status(&self) -> ApiResult<SealStatus> {
        let cfg = self.config().await?;
        let progress = self.pending.lock().unwrap_or_else(|p| p.into_inner()).len() as u8;
        Ok(SealStatus {
            initialized: cfg.is_some(),
            sealed: !self.service.keyring().is_unsealed(),
            mode: cfg.as_ref().map(|c| c.mode),
            threshold: cfg.as_ref().map_or(0, |c| c.threshold),
            shares: cfg.as_ref().map_or(0, |c| c.shares),
            progress,
        })
    }

    async fn first_init(&self, root: SymmetricKey, cfg: SealConfig) -> ApiResult<NewCredentials> {
        self.save_config(&cfg).await?;
        self.service.keyring().set_root(root);
        self.service.create_account(true, None).await
    }

    /// Initialises a new server with Shamir shares; fails if already initialised.
    pub async fn init(&self, shares: u8, threshold: u8) -> ApiResult<InitResult> {
        if self.config().await?.is_some() {
            return Err(ApiError::request("Coffer is already initialized."));
        }
        let root = SymmetricKey::generate();
        let parts = shamir::split(&root, threshold, shares)
            .map_err(|e| ApiError::param(format!("Invalid share parameters: {e}")))?;
        let check = coffer_crypto::root_check_blob(&root).map_err(crate::convert::encrypt)?;
        let cfg = SealConfig {
            mode: SealMode::Shamir,
            shares,
            threshold,
            check: base64::Engine::encode(&b64(), check),
            wrapped_root: None,
            kms_key_id: None,
        };
        let credentials = self.first_init(root, cfg).await?;
        Ok(InitResult {
            shares: parts.into_iter().map(Zeroizing::new).collect(),
            credentials,
        })
    }

    /// Submits one share; unseals once enough valid shares are in. Returns the new status.
    pub async fn unseal(&self, share: &str) -> ApiResult<SealStatus> {
        let cfg = self.config().await?.ok_or_else(|| {
            ApiError::request("Coffer is not initialized: run coffer operator init.")
        })?;
        match cfg.mode {
            SealMode::Shamir => {}
            SealMode::Dev => {
                return Err(ApiError::request(
                    "This server is in --dev mode; it has no shares.",
                ));
            }
            SealMode::Kms => {
                return Err(ApiError::request(
                    "This server auto-unseals through an external KMS; it has no shares.",
                ));
            }
        }
        if self.service.keyring().is_unsealed() {
            return self.status().await;
        }
        let share = shamir::parse_share(share.trim())
            .map_err(|e| ApiError::param(format!("Invalid unseal share: {e}")))?;
        let ready = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            if !pending.iter().any(|s| s.index() == share.index()) {
                pending.push(share);
            }
            if pending.len() >= usize::from(cfg.threshold) {
                Some(std::mem::take(&mut *pending))
            } else {
                None
            }
        };
        if let Some(shares) = ready {
            match root_from_shares(&cfg, &shares)? {
                Some(k) => self.service.keyring().set_root(k),
                None => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameterException,
                        "The submitted shares do not reconstruct the root key; unseal progress was reset.",
                    ));
                }
            }
        }
        self.status().await
    }

    /// Starts a rekey to `shares` new shares of which `threshold` unseal. Replaces a rekey
    /// in progress. The root key and all data stay as they are.
    pub async fn rekey_init(&self, shares: u8, threshold: u8) -> ApiResult<RekeyStatus> {
        let cfg = self.shamir_config().await?;
        // Check the parameters the way split will, before any share is collected.
        shamir::split(&SymmetricKey::generate(), threshold, shares)
            .map_err(|e| ApiError::param(format!("Invalid share parameters: {e}")))?;
        let nonce = uuid::Uuid::new_v4().to_string();
        *self.rekey.lock().unwrap_or_else(|p| p.into_inner()) = Some(Rekey {
            nonce: nonce.clone(),
            shares,
            threshold,
            collected: Vec::new(),
        });
        Ok(RekeyStatus {
            nonce,
            required: cfg.threshold,
            progress: 0,
            new_shares: Vec::new(),
        })
    }

    /// Submits one current share to the rekey `nonce`. With the threshold reached, the
    /// shares are checked, a new unseal key seals the root key, and the new shares are
    /// returned (once); the old shares no longer unseal.
    pub async fn rekey_update(&self, nonce: &str, share: &str) -> ApiResult<RekeyStatus> {
        let mut cfg = self.shamir_config().await?;
        let share = shamir::parse_share(share.trim())
            .map_err(|e| ApiError::param(format!("Invalid share: {e}")))?;
        let (ready, new_shares, new_threshold) = {
            let mut guard = self.rekey.lock().unwrap_or_else(|p| p.into_inner());
            let Some(r) = guard.as_mut().filter(|r| r.nonce == nonce) else {
                return Err(ApiError::request(
                    "No rekey with this nonce is in progress; start one with rekey init.",
                ));
            };
            if !r.collected.iter().any(|s| s.index() == share.index()) {
                r.collected.push(share);
            }
            if r.collected.len() < usize::from(cfg.threshold) {
                return Ok(RekeyStatus {
                    nonce: nonce.to_owned(),
                    required: cfg.threshold,
                    progress: r.collected.len() as u8,
                    new_shares: Vec::new(),
                });
            }
            let done = guard
                .take()
                .unwrap_or_else(|| unreachable!("checked above"));
            (done.collected, done.shares, done.threshold)
        };
        let Some(root) = root_from_shares(&cfg, &ready)? else {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "The submitted shares do not reconstruct the root key; the rekey was cancelled.",
            ));
        };
        let unseal_key = SymmetricKey::generate();
        let wrapped = unseal_key
            .seal(ROOT_WRAP_AAD, root.expose_bytes())
            .map_err(crate::convert::encrypt)?;
        let parts = shamir::split(&unseal_key, new_threshold, new_shares)
            .map_err(|e| ApiError::param(format!("Invalid share parameters: {e}")))?;
        cfg.shares = new_shares;
        cfg.threshold = new_threshold;
        cfg.wrapped_root = Some(base64::Engine::encode(&b64(), wrapped));
        self.save_config(&cfg).await?;
        tracing::warn!(
            shares = new_shares,
            threshold = new_threshold,
            "rekey complete: the old shares no longer unseal"
        );
        Ok(RekeyStatus {
            nonce: nonce.to_owned(),
            required: cfg.threshold,
            progress: new_threshold,
            new_shares: parts,
        })
    }

    /// The rekey in progress, if any.
    pub fn rekey_status(&self) -> Option<RekeyStatus> {
        let guard = self.rekey.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(|r| RekeyStatus {
            nonce: r.nonce.clone(),
            required: 0,
            progress: r.collected.len() as u8,
            new_shares: Vec::new(),
        })
    }

    async fn shamir_config(&self) -> ApiResult<SealConfig> {
        match self.config().await? {
            Some(c) if c.mode == SealMode::Shamir => Ok(c),
            Some(_) => Err(ApiError::request(
                "This server is in --dev mode; it has no shares.",
            )),
            None => Err(ApiError::request(
                "Coffer is not initialized: run coffer operator init.",
            )),
        }
    }

    /// Auto-unseal at start: on a new data directory, generates the root key, has `kms`
    /// encrypt it and creates the admin account (its credentials are returned once); on an
    /// initialized one, has `kms` decrypt the stored root key and checks it.
    pub async fn kms_start(&self, kms: &dyn RootKeyService) -> ApiResult<Option<NewCredentials>> {
        let failed = |what: &str, e: String| {
            tracing::error!(error = %e, "auto-unseal: {what} failed");
            ApiError::new(
                ErrorCode::ServiceUnavailableException,
                format!("Auto-unseal: the external KMS could not {what} the root key."),
            )
        };
        match self.config().await? {
            Some(c) if c.mode != SealMode::Kms => Err(ApiError::request(format!(
                "This data directory uses {:?} sealing, not an external KMS; migrate it first.",
                c.mode
            ))),
            Some(c) => {
                let sealed =
                    base64::Engine::decode(&b64(), c.wrapped_root.as_deref().unwrap_or(""))
                        .map_err(|_| ApiError::internal())?;
                let raw = kms
                    .decrypt(&sealed)
                    .await
                    .map_err(|e| failed("decrypt", e))?;
                let root = SymmetricKey::from_bytes(&raw).map_err(|_| ApiError::internal())?;
                let check =
                    base64::Engine::decode(&b64(), &c.check).map_err(|_| ApiError::internal())?;
                if !coffer_crypto::verify_root_check(&root, &check) {
                    return Err(ApiError::new(
                        ErrorCode::InternalServiceError,
                        "Auto-unseal: the external KMS returned a key that does not match this data directory.",
                    ));
                }
                self.service.keyring().set_root(root);
                Ok(None)
            }
            None => {
                let root = SymmetricKey::generate();
                let sealed = kms
                    .encrypt(root.expose_bytes())
                    .await
                    .map_err(|e| failed("encrypt", e))?;
                let check =
                    coffer_crypto::root_check_blob(&root).map_err(crate::convert::encrypt)?;
                let cfg = SealConfig {
                    mode: SealMode::Kms,
                    shares: 0,
                    threshold: 0,
                    check: base64::Engine::encode(&b64(), check),
                    wrapped_root: Some(base64::Engine::encode(&b64(), sealed)),
                    kms_key_id: Some(kms.key_id()),
                };
                Ok(Some(self.first_init(root, cfg).await?))
            }
        }
    }

    /// Sets the external KMS this server may auto-unseal with (and migrate to).
    pub fn set_kms(&self, kms: std::sync::Arc<dyn RootKeyService>) {
        *self.kms.lock().unwrap_or_else(|p| p.into_inner()) = Some(kms);
    }

    /// Moves an unsealed server to Shamir shares: a new unseal key, split into `shares`
    /// of which `threshold` unseal, seals the root key. Returns the shares (shown once).
    /// No secret data is touched; the next start needs the shares.
    pub async fn migrate_to_shamir(&self, shares: u8, threshold: u8) -> ApiResult<Vec<String>> {
        let mut cfg = self.config().await?.ok_or_else(|| {
            ApiError::request("Coffer is not initialized: run coffer operator init.")
        })?;
        let root = self.service.keyring().root()?;
        let unseal_key = SymmetricKey::generate();
        let parts = shamir::split(&unseal_key, threshold, shares)
            .map_err(|e| ApiError::param(format!("Invalid share parameters: {e}")))?;
        let wrapped = unseal_key
            .seal(ROOT_WRAP_AAD, root.expose_bytes())
            .map_err(crate::convert::encrypt)?;
        cfg.mode = SealMode::Shamir;
        cfg.shares = shares;
        cfg.threshold = threshold;
        cfg.wrapped_root = Some(base64::Engine::encode(&b64(), wrapped));
        cfg.kms_key_id = None;
        self.save_config(&cfg).await?;
        self.remove_dev_key_file();
        Ok(parts)
    }

    /// After migrating away from `--dev`: the plaintext root key file must not outlive it.
    fn remove_dev_key_file(&self) {
        if let Some(path) = self
            .dev_key_file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            match std::fs::remove_file(&path) {
                Ok(()) => tracing::warn!(file = %path.display(), "removed the dev root key file"),
                Err(e) => {
                    tracing::error!(error = %e, file = %path.display(), "could not remove the dev root key file: delete it by hand")
                }
            }
        }
    }

    /// Moves an unsealed server to auto-unseal with the configured external KMS: the root
    /// key is encrypted there; the shares (or dev key file) stop being needed.
    pub async fn migrate_to_kms(&self) -> ApiResult<String> {
        let kms = self
            .kms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| {
                ApiError::request(
                    "No external KMS is configured: start the server with --seal-kms-endpoint and --seal-kms-key-id.",
                )
            })?;
        let mut cfg = self.config().await?.ok_or_else(|| {
            ApiError::request("Coffer is not initialized: run coffer operator init.")
        })?;
        let root = self.service.keyring().root()?;
        let sealed = kms.encrypt(root.expose_bytes()).await.map_err(|e| {
            tracing::error!(error = %e, "seal migration: the external KMS could not encrypt");
            ApiError::new(
                ErrorCode::ServiceUnavailableException,
                "The external KMS could not encrypt the root key; nothing was changed.",
            )
        })?;
        cfg.mode = SealMode::Kms;
        cfg.shares = 0;
        cfg.threshold = 0;
        cfg.wrapped_root = Some(base64::Engine::encode(&b64(), sealed));
        cfg.kms_key_id = Some(kms.key_id());
        self.save_config(&cfg).await?;
        self.remove_dev_key_file();
        Ok(kms.key_id())
    }

    /// Drops the root key and all key material from memory.
    pub fn seal(&self) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.service.keyring().clear();
    }

    /// Development mode: loads the root key from `key_file`, creating it (and the first
    /// account) on first start. Returns the new credentials when it created them.
    pub async fn dev_start(&self, key_file: &Path) -> ApiResult<Option<NewCredentials>> {
        *self.dev_key_file.lock().unwrap_or_else(|p| p.into_inner()) = Some(key_file.to_owned());
        let cfg = self.config().await?;
        match cfg {
            Some(c) if c.mode == SealMode::Shamir => Err(ApiError::request(
                "This data directory was initialized with Shamir shares; start without --dev and unseal it.",
            )),
            Some(c) if c.mode == SealMode::Kms => Err(ApiError::request(
                "This data directory auto-unseals through an external KMS; start it with --seal-kms-endpoint and --seal-kms-key-id.",
            )),
            Some(c) => {
                let bytes = Zeroizing::new(std::fs::read(key_file).map_err(|e| {
                    tracing::error!(error = %e, file = %key_file.display(), "dev root key file unreadable");
                    ApiError::new(ErrorCode::InternalServiceError, "dev root key file unreadable")
                })?);
                let text = Zeroizing::new(String::from_utf8_lossy(&bytes).trim().to_owned());
                let raw = Zeroizing::new(
                    base64::Engine::decode(&b64(), text.as_bytes())
                        .map_err(|_| ApiError::internal())?,
                );
                let root = SymmetricKey::from_bytes(&raw).map_err(|_| ApiError::internal())?;
                let check =
                    base64::Engine::decode(&b64(), &c.check).map_err(|_| ApiError::internal())?;
                if !coffer_crypto::verify_root_check(&root, &check) {
                    return Err(ApiError::new(
                        ErrorCode::InternalServiceError,
                        "the dev root key file does not match this data directory",
                    ));
                }
                self.service.keyring().set_root(root);
                Ok(None)
            }
            None => {
                let root = SymmetricKey::generate();
                let encoded = Zeroizing::new(base64::Engine::encode(&b64(), root.expose_bytes()));
                write_private(key_file, encoded.as_bytes()).map_err(|e| {
                    tracing::error!(error = %e, "cannot write dev root key file");
                    ApiError::internal()
                })?;
                let check =
                    coffer_crypto::root_check_blob(&root).map_err(crate::convert::encrypt)?;
                let cfg = SealConfig {
                    mode: SealMode::Dev,
                    shares: 0,
                    threshold: 0,
                    check: base64::Engine::encode(&b64(), check),
                    wrapped_root: None,
                    kms_key_id: None,
                };
                Ok(Some(self.first_init(root, cfg).await?))
            }
        }
    }
}

/// Writes a file readable only by its owner, durably.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The root key the `shares` give under `cfg` (checked against the check blob), or `None`.
fn root_from_shares(cfg: &SealConfig, shares: &[shamir::Share]) -> ApiResult<Option<SymmetricKey>> {
    let check = base64::Engine::decode(&b64(), &cfg.check).map_err(|_| ApiError::internal())?;
    let Ok(key) = shamir::combine(shares) else {
        return Ok(None);
    };
    let root = match &cfg.wrapped_root {
        None => key,
        Some(w) => {
            let sealed = base64::Engine::decode(&b64(), w).map_err(|_| ApiError::internal())?;
            let Ok(raw) = key.open(ROOT_WRAP_AAD, &sealed) else {
                return Ok(None);
            };
            SymmetricKey::from_bytes(&raw).map_err(|_| ApiError::internal())?
        }
    };
    Ok(coffer_crypto::verify_root_check(&root, &check).then_some(root))
}
