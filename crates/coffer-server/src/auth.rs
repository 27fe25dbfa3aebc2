//! SigV4 authentication of API requests, with two caches on the hot path:
//! resolved access keys (30 s, so revocations propagate) and derived signing keys
//! (per access key, date, region — derivation is four HMACs we need not repeat).

use crate::AppState;
use coffer_protocol::{ApiError, ErrorCode};
use coffer_service::Identity;
use coffer_service::accounts::ResolvedKey;
use coffer_service::sts::TokenError;
use coffer_sigv4::{Parsed, Policy, Request, SigningKey};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a resolved access key is trusted before it is read again.
const KEY_TTL: Duration = Duration::from_secs(30);
/// Bound on cached entries (cleared wholesale when exceeded).
const MAX_ENTRIES: usize = 10_000;

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Account of the key.
    pub account_id: String,
    /// The caller's identity.
    pub identity: Arc<Identity>,
    /// Access key id.
    pub access_key_id: String,
    /// Region of the credential scope.
    pub region: String,
    /// Signing name of the credential scope (`secretsmanager`, `iam`, `sts`).
    pub service: &'static str,
    /// Admin account (long-term root keys of the admin account only).
    pub admin: bool,
}

struct CachedKey {
    key: ResolvedKey,
    identity: Arc<Identity>,
    fetched: Instant,
    /// The service's key epoch when fetched: a deactivated or deleted key invalidates.
    epoch: u64,
}

/// An opened session token.
struct CachedSession {
    /// The token it was opened from (a request must present the same one).
    token: String,
    identity: Arc<Identity>,
    secret: zeroize::Zeroizing<String>,
    account_id: String,
    expires_ms: i64,
    fetched: Instant,
}

fn expired() -> ApiError {
    ApiError::new(
        ErrorCode::ExpiredTokenException,
        "The security token included in the request is expired",
    )
}

/// The session behind a temporary key and its token: from the cache (same token, not
/// expired, fetched within [`KEY_TTL`] so changed managed session policies are re-read),
/// else opened and cached.
async fn session(
    state: &AppState,
    akid: &str,
    token: &str,
) -> Result<Arc<CachedSession>, ApiError> {
    let hit = state
        .auth
        .sessions
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(akid)
        .filter(|c| {
            c.fetched.elapsed() < KEY_TTL
                && coffer_crypto::constant_time_eq(c.token.as_bytes(), token.as_bytes())
        })
        .cloned();
    if let Some(c) = hit {
        if state.service.now_ms() >= c.expires_ms {
            return Err(expired());
        }
        return Ok(c);
    }
    let claims = state
        .service
        .open_session(akid, token)
        .map_err(|e| match e {
            TokenError::Expired => expired(),
            TokenError::Invalid => unrecognized(),
        })?;
    let identity = state.service.session_identity(&claims).await?;
    let entry = Arc::new(CachedSession {
        token: token.to_owned(),
        identity: Arc::new(identity),
        secret: zeroize::Zeroizing::new(claims.secret_access_key.expose().to_owned()),
        account_id: claims.account_id.clone(),
        expires_ms: claims.expires_ms,
        fetched: Instant::now(),
    });
    let mut map = state
        .auth
        .sessions
        .write()
        .unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(akid.to_owned(), Arc::clone(&entry));
    Ok(entry)
}

/// Caches of resolved access keys and derived signing keys.
#[derive(Default)]
pub struct AuthCache {
    keys: RwLock<HashMap<String, Arc<CachedKey>>>,
    /// Opened session tokens by temporary access key id, so a session's token is
    /// decrypted and its session policies compiled once, not on every request.
    sessions: RwLock<HashMap<String, Arc<CachedSession>>>,
    /// (access key, date, region, service) → signing key.
    signing: RwLock<HashMap<(String, String, String, String), SigningKey>>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthCache(..)")
    }
}

impl AuthCache {
    /// Forgets everything (on seal).
    pub fn clear(&self) {
        self.keys.write().unwrap_or_else(|p| p.into_inner()).clear();
        self.sessions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.signing
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

fn sig_error(e: coffer_sigv4::SigV4Error) -> ApiError {
    let code = ErrorCode::parse(e.aws_code()).unwrap_or(ErrorCode::InvalidSignatureException);
    ApiError::new(code, e.to_string())
}

fn unrecognized() -> ApiError {
    ApiError::new(
        ErrorCode::UnrecognizedClientException,
        "The security token included in the request is invalid.",
    )
}

async fn resolve(state: &AppState, akid: &str) -> Result<Arc<CachedKey>, ApiError> {
    if let Some(c) = state
        .auth
        .keys
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(akid)
        && c.fetched.elapsed() < KEY_TTL
        && c.epoch == state.service.key_epoch()
    {
        return Ok(c.clone());
    }
    let epoch = state.service.key_epoch();
    let key = state
        .service
        .resolve_access_key(akid)
        .await?
        .ok_or_else(unrecognized)?;
    let entry = Arc::new(CachedKey {
        identity: Arc::new(key.identity.clone()),
        key,
        fetched: Instant::now(),
        epoch,
    });
    let mut map = state.auth.keys.write().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(akid.to_owned(), entry.clone());
    Ok(entry)
}

fn signing_key(state: &AppState, parsed: &Parsed, secret: &str) -> SigningKey {
    if parsed.access_key_id.starts_with("ASIA") {
        // Temporary keys are many and short-lived: derive, don't cache.
        return coffer_sigv4::derive_signing_key(
            secret,
            &parsed.date,
            &parsed.region,
            &parsed.service,
        );
    }
    let k = (
        parsed.access_key_id.clone(),
        parsed.date.clone(),
        parsed.region.clone(),
        parsed.service.clone(),
    );
    if let Some(s) = state
        .auth
        .signing
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&k)
    {
        return s.clone();
    }
    let derived =
        coffer_sigv4::derive_signing_key(secret, &parsed.date, &parsed.region, &parsed.service);
    let mut map = state
        .auth
        .signing
        .write()
        .unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(k, derived.clone());
    derived
}

/// The signing names this server answers to.
pub fn known_service(name: &str) -> Option<&'static str> {
    [coffer_protocol::SIGNING_NAME, "iam", "sts"]
        .into_iter()
        .find(|s| *s == name)
}

/// Verifies the request's signature and returns the caller. `services` are the signing
/// names acceptable for the endpoint the request addressed.
pub async fn authenticate(
    state: &AppState,
    req: &Request<'_>,
    services: &[&'static str],
) -> Result<Authenticated, ApiError> {
    // A sealed server can verify nothing: say so before judging the signature.
    if !state.service.keyring().is_unsealed() {
        return Err(state
            .service
            .keyring()
            .root()
            .err()
            .unwrap_or_else(ApiError::internal));
    }
    let parsed = coffer_sigv4::parse(req).map_err(sig_error)?;
    if !state.config.region_allowed(&parsed.region) {
        return Err(ApiError::new(
            ErrorCode::InvalidSignatureException,
            format!(
                "Credential should be scoped to a valid region, not '{}'.",
                parsed.region
            ),
        ));
    }
    if parsed.presigned && !state.config.allow_presigned {
        return Err(ApiError::new(
            ErrorCode::IncompleteSignatureException,
            "Presigned (query string) authentication is disabled on this server.",
        ));
    }
    let service = services
        .iter()
        .copied()
        .find(|s| *s == parsed.service)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidSignatureException,
                format!(
                    "Credential should be scoped to correct service: '{}'.",
                    services.first().copied().unwrap_or_default()
                ),
            )
        })?;
    let (key, identity, account_id, admin) = match &parsed.session_token {
        Some(token) => {
            let s = session(state, &parsed.access_key_id, token).await?;
            let key = signing_key(state, &parsed, &s.secret);
            (key, Arc::clone(&s.identity), s.account_id.clone(), false)
        }
        None => {
            if parsed.access_key_id.starts_with("ASIA") {
                // Temporary keys are valid only with their session token.
                return Err(unrecognized());
            }
            let cached = resolve(state, &parsed.access_key_id).await?;
            let key = signing_key(state, &parsed, &cached.key.secret);
            let admin = cached.key.admin && cached.identity.is_root();
            (
                key,
                Arc::clone(&cached.identity),
                cached.key.account_id.clone(),
                admin,
            )
        }
    };
    let policy = Policy {
        now_ms: state.service.now_ms(),
        max_skew_ms: state.config.max_skew_secs * 1000,
        service,
        allow_presigned: state.config.allow_presigned,
    };
    coffer_sigv4::verify(req, &parsed, &key, &policy).map_err(sig_error)?;
    if parsed.session_token.is_none()
        && state
            .service
            .key_use_is_new(&parsed.access_key_id, service, &parsed.region)
    {
        let svc = state.service.clone();
        let (akid, region) = (parsed.access_key_id.clone(), parsed.region.clone());
        tokio::spawn(async move { svc.note_key_use(&akid, service, &region).await });
    }
    Ok(Authenticated {
        account_id,
        identity,
        access_key_id: parsed.access_key_id.clone(),
        region: parsed.region.clone(),
        service,
        admin,
    })
}
