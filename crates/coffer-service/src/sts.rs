//! STS: GetCallerIdentity, AssumeRole, GetSessionToken, AssumeRoleWithWebIdentity.
//!
//! Temporary credentials are stateless: the session token is the session's claims
//! (including the secret half) sealed under the root key, bound to the temporary access
//! key id. Any node can open it; nothing is stored; it expires by its own clock field.

use std::sync::Arc;

use base64::Engine;
use coffer_iam::IamError;
use coffer_iam::model::{
    Role, User, assumed_role_arn, parse_iam_arn, validate_duration_seconds, validate_session_name,
};
use coffer_iam::oidc::IssuerConfig;
use coffer_iam::session::{
    SESSION_FORMAT_VERSION, SessionClaims, SessionKind, check_session_policies,
    new_secret_access_key, new_temporary_access_key_id, role_session_user_id,
    validate_session_tags,
};
use coffer_iam::wire::{QueryRequest, Service as Wire, XmlWriter};
use coffer_policy::{Decision, Policy, Principal, PrincipalKind};

use crate::authz::Access;
use crate::authz::identity::{Entity, Identity, SessionFacts};
use crate::authz::load::{ROLE, USER, compile};
use crate::iam::{IamResult, api_error, wire_error};
use crate::{ApiResult, Caller, Service};

/// AAD label of sealed session tokens.
const TOKEN_LABEL: &str = "coffer/sts-session/v1";
/// Largest session token accepted (base64 text).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Role chaining caps a session at one hour, as in AWS.
const CHAINED_MAX_S: u32 = 3600;

/// Why a session token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this server issued, or not for this key.
    Invalid,
    /// Past its expiry.
    Expired,
}

impl Service {
    /// Configures the OIDC issuers trusted by AssumeRoleWithWebIdentity.
    pub fn set_oidc_issuers(&self, issuers: Vec<IssuerConfig>) {
        *self.oidc.write().unwrap_or_else(|p| p.into_inner()) = issuers;
    }

    /// Seals claims into a session token.
    fn seal_session(&self, claims: &SessionClaims) -> ApiResult<String> {
        let sealed = self.keyring.wrap(
            TOKEN_LABEL,
            &[claims.access_key_id.as_bytes()],
            &claims.to_bytes(),
        )?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    /// Opens a session token presented with `access_key_id`.
    pub fn open_session(
        &self,
        access_key_id: &str,
        token: &str,
    ) -> Result<SessionClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN || !access_key_id.starts_with("ASIA") {
            return Err(TokenError::Invalid);
        }
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|_| TokenError::Invalid)?;
        let bytes = self
            .keyring
            .unwrap(TOKEN_LABEL, &[access_key_id.as_bytes()], &sealed)
            .map_err(|_| TokenError::Invalid)?;
        let claims = SessionClaims::from_bytes(&bytes).map_err(|_| TokenError::Invalid)?;
        if claims.access_key_id != access_key_id {
            return Err(TokenError::Invalid);
        }
        if claims.is_expired(self.now_ms()) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The identity a session stands for (session policies compiled).
    pub async fn session_identity(&self, c: &SessionClaims) -> ApiResult<Identity> {
        let mut policies = Vec::new();
        if let Some(doc) = &c.session_policy {
            policies.push(("session-policy".to_owned(), compile(doc)?));
        }
        for arn in &c.session_policy_arns {
            if let Some(p) = self.managed_policy(&c.account_id, arn).await? {
                policies.push((p.arn.clone(), compile(&p.document)?));
            }
        }
        let any_policy = c.session_policy.is_some() || !c.session_policy_arns.is_empty();
        let facts = SessionFacts {
            policies: any_policy.then_some(policies),
            tags: c.session_tags.clone(),
            expires_ms: c.expires_ms,
            source_identity: c.source_identity.clone(),
        };
        Ok(match (&c.kind, &c.role_arn) {
            (SessionKind::SessionToken, _) | (_, None) => {
                let base = if c.principal_arn.ends_with(":root") {
                    Identity::root(&c.account_id)
                } else {
                    let name = c.principal_arn.rsplit('/').next().unwrap_or_default();
                    Identity::user(&c.account_id, &c.principal_arn, name, &c.user_id)
                };
                Identity {
                    session: Some(facts),
                    ..base
                }
            }
            (_, Some(role_arn)) => {
                let name = parse_iam_arn(role_arn)
                    .map(|a| a.name.to_owned())
                    .unwrap_or_default();
                Identity {
                    principal: Principal {
                        arn: c.principal_arn.clone(),
                        account: c.account_id.clone(),
                        kind: PrincipalKind::AssumedRole,
                        role_arn: Some(role_arn.clone()),
                    },
                    user_id: c.user_id.clone(),
                    username: None,
                    entity: Entity::Role(name),
                    session: Some(facts),
                }
            }
        })
    }

    /// Runs one STS action; returns the XML response body.
    pub async fn sts_call(
        &self,
        caller: Option<&Caller>,
        req: &QueryRequest,
        request_id: &str,
    ) -> IamResult<String> {
        let action = req
            .action()
            .ok_or_else(|| IamError::MissingAction("Missing Action".into()))?;
        if action == "AssumeRoleWithWebIdentity" {
            return self.assume_role_with_web_identity(req, request_id).await;
        }
        let caller =
            caller.ok_or_else(|| IamError::AccessDenied("Request must be signed.".into()))?;
        match action {
            "GetCallerIdentity" => {
                let id = &caller.identity;
                let mut w = XmlWriter::new(Wire::Sts, action);
                w.text("UserId", &id.user_id)
                    .text("Account", &caller.account_id)
                    .text("Arn", &id.principal.arn);
                Ok(w.finish(request_id))
            }
            "AssumeRole" => self.assume_role(caller, req, request_id).await,
            "GetSessionToken" => self.get_session_token(caller, req, request_id).await,
            other => Err(IamError::InvalidAction(format!(
                "Could not find operation {other} for version 2011-06-15"
            ))),
        }
    }

    async fn assume_role(
        &self,
        caller: &Caller,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        if caller.identity.is_root() {
            return Err(IamError::AccessDenied(
                "Roles may not be assumed by root accounts.".into(),
            ));
        }
        let role_arn = req.required("RoleArn").map_err(wire_error)?;
        let session_name = req.required("RoleSessionName").map_err(wire_error)?;
        validate_session_name("RoleSessionName", session_name)?;
        let mut tags = req.tags("Tags").map_err(wire_error)?;
        let transitive: Vec<String> = req
            .list("TransitiveTagKeys")
            .map_err(wire_error)?
            .into_iter()
            .map(str::to_owned)
            .collect();
        validate_session_tags(&tags, &transitive)?;
        let role = self.role_by_arn(role_arn).await?;
        let chained = caller.identity.session.is_some();
        let max = if chained {
            CHAINED_MAX_S.min(role.max_session_duration_s)
        } else {
            role.max_session_duration_s
        };
        let duration = validate_duration_seconds(
            req.get_i64("DurationSeconds")
                .map_err(wire_error)?
                .unwrap_or(3600),
            max,
        )?;
        let policy = req.get("Policy").map(str::to_owned);
        let arns = policy_arns(req)?;
        check_session_policies(policy.as_deref(), &arns, &tags)?;
        if let Some(p) = &policy {
            Policy::parse(p).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        }
        // Transitive tags of a chained session carry over.
        if let Some(s) = &caller.identity.session {
            for (k, v) in &s.tags {
                if !tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                    tags.push((k.clone(), v.clone()));
                }
            }
        }
        let source_identity = req.get("SourceIdentity").map(str::to_owned);
        let mut access = Access::new("sts:AssumeRole")
            .key("sts:RoleSessionName", session_name)
            .opt("sts:ExternalId", req.get("ExternalId"))
            .opt("sts:SourceIdentity", source_identity.clone())
            .request_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if !transitive.is_empty() {
            access = access.multi("sts:TransitiveTagKeys", transitive.clone());
        }
        self.check_trust(caller, &access, &role).await?;
        if !tags.is_empty() {
            let tag_access = Access::new("sts:TagSession")
                .request_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            self.check_trust(caller, &tag_access, &role).await?;
        }
        let account = role.arn.split(':').nth(4).unwrap_or_default().to_owned();
        let claims = self.new_claims(
            &account,
            assumed_role_arn(&account, &role.name, session_name),
            Some(&role),
            Some(session_name),
            duration,
            (tags, transitive),
            (policy, arns),
            source_identity,
            SessionKind::AssumedRole,
        );
        self.credentials_xml("AssumeRole", &claims, rid, |w| {
            w.int("PackedPolicySize", 0);
        })
    }

    async fn get_session_token(
        &self,
        caller: &Caller,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        if caller.identity.session.is_some() {
            return Err(IamError::AccessDenied(
                "Cannot call GetSessionToken with session credentials".into(),
            ));
        }
        let d = req
            .get_i64("DurationSeconds")
            .map_err(wire_error)?
            .unwrap_or(43_200);
        let (lo, hi) = if caller.identity.is_root() {
            (900, 3600)
        } else {
            (900, 129_600)
        };
        if !(lo..=hi).contains(&d) {
            return Err(IamError::constraint(
                "DurationSeconds",
                Some(&d.to_string()),
                &format!("have value between {lo} and {hi}"),
            ));
        }
        if let Entity::User(name) = &caller.identity.entity
            && self
                .iam_read::<User>(&caller.account_id, USER, name)
                .await?
                .is_none()
        {
            return Err(crate::iam::no_such("user", name));
        }
        let mut claims = self.new_claims(
            &caller.account_id,
            caller.identity.principal.arn.clone(),
            None,
            None,
            d as u32,
            (Vec::new(), Vec::new()),
            (None, Vec::new()),
            None,
            SessionKind::SessionToken,
        );
        claims.user_id = caller.identity.user_id.clone();
        self.credentials_xml("GetSessionToken", &claims, rid, |_| {})
    }

    async fn assume_role_with_web_identity(
        &self,
        req: &QueryRequest,
        rid: &str,
    ) -> IamResult<String> {
        let role_arn = req.required("RoleArn").map_err(wire_error)?;
        let session_name = req.required("RoleSessionName").map_err(wire_error)?;
        validate_session_name("RoleSessionName", session_name)?;
        let token = req.required("WebIdentityToken").map_err(wire_error)?;
        let issuers = self.oidc.read().unwrap_or_else(|p| p.into_inner()).clone();
        let claims = coffer_iam::oidc::verify(token, &issuers, self.now_ms() / 1000, 60)
            .map_err(IamError::from)?;
        let role = self.role_by_arn(role_arn).await?;
        let duration = validate_duration_seconds(
            req.get_i64("DurationSeconds")
                .map_err(wire_error)?
                .unwrap_or(3600),
            role.max_session_duration_s,
        )?;
        let policy = req.get("Policy").map(str::to_owned);
        let arns = policy_arns(req)?;
        check_session_policies(policy.as_deref(), &arns, &[])?;
        if let Some(p) = &policy {
            Policy::parse(p).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        }
        let account = role.arn.split(':').nth(4).unwrap_or_default().to_owned();
        let provider = claims.provider_key_prefix().to_owned();
        let fed = Caller::root(&account, "us-east-1", "");
        let fed = Caller {
            identity: Arc::new(Identity {
                principal: Principal {
                    arn: format!("arn:aws:iam::{account}:oidc-provider/{provider}"),
                    account: account.clone(),
                    kind: PrincipalKind::FederatedUser,
                    role_arn: None,
                },
                user_id: claims.sub.clone(),
                username: None,
                entity: Entity::Root,
                session: None,
            }),
            ..fed
        };
        let access = Access::new("sts:AssumeRoleWithWebIdentity")
            .key(&format!("{provider}:sub"), claims.sub.clone())
            .multi(&format!("{provider}:aud"), claims.aud.clone())
            .key("sts:RoleSessionName", session_name);
        self.check_trust(&fed, &access, &role).await?;
        let session = self.new_claims(
            &account,
            assumed_role_arn(&account, &role.name, session_name),
            Some(&role),
            Some(session_name),
            duration,
            (Vec::new(), Vec::new()),
            (policy, arns),
            None,
            SessionKind::WebIdentity,
        );
        let sub = claims.sub.clone();
        let aud = claims.aud.first().cloned().unwrap_or_default();
        self.credentials_xml("AssumeRoleWithWebIdentity", &session, rid, |w| {
            w.text("SubjectFromWebIdentityToken", &sub)
                .text("Provider", &provider)
                .text("Audience", &aud);
        })
    }

    /// Evaluates the role's trust policy (as its resource policy) plus the caller's
    /// identity policies, as AWS does for AssumeRole.
    async fn check_trust(&self, caller: &Caller, access: &Access, role: &Role) -> IamResult<()> {
        let trust = Policy::parse(&role.trust_policy).map_err(|_| {
            IamError::ServiceFailure("The role's trust policy cannot be read.".into())
        })?;
        let policies = self.principal_policies(caller).await.map_err(api_error)?;
        let ctx = self.request_context(caller, access, &role.arn, None, &policies);
        let account = role.arn.split(':').nth(4).unwrap_or_default();
        let outcome = self.decide(caller, &ctx, &policies, Some(&trust), account);
        match outcome.decision {
            Decision::Allow => Ok(()),
            _ => Err(IamError::AccessDenied(outcome.message(&ctx))),
        }
    }

    async fn role_by_arn(&self, arn: &str) -> IamResult<Role> {
        let parsed = parse_iam_arn(arn)
            .filter(|a| arn.contains(":role/") && !a.account.is_empty())
            .ok_or_else(|| IamError::ValidationError(format!("{arn} is invalid")))?;
        let role: Option<Role> = self.iam_read(parsed.account, ROLE, parsed.name).await?;
        role.filter(|r| r.arn == arn).ok_or_else(|| {
            IamError::AccessDenied(format!("Not authorized to perform sts:AssumeRole on {arn}"))
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn new_claims(
        &self,
        account: &str,
        principal_arn: String,
        role: Option<&Role>,
        session_name: Option<&str>,
        duration_s: u32,
        (tags, transitive): (Vec<(String, String)>, Vec<String>),
        (policy, arns): (Option<String>, Vec<String>),
        source_identity: Option<String>,
        kind: SessionKind,
    ) -> SessionClaims {
        let now = self.now_ms();
        let user_id = match (role, session_name) {
            (Some(r), Some(s)) => role_session_user_id(&r.role_id, s),
            _ => String::new(),
        };
        SessionClaims {
            version: SESSION_FORMAT_VERSION,
            access_key_id: new_temporary_access_key_id(),
            secret_access_key: new_secret_access_key(),
            account_id: account.to_owned(),
            principal_arn,
            role_arn: role.map(|r| r.arn.clone()),
            role_id: role.map(|r| r.role_id.clone()),
            session_name: session_name.map(str::to_owned),
            user_id,
            source_identity,
            expires_ms: now + i64::from(duration_s) * 1000,
            issued_ms: now,
            session_tags: tags,
            transitive_tag_keys: transitive,
            session_policy: policy,
            session_policy_arns: arns,
            kind,
        }
    }

    fn credentials_xml(
        &self,
        action: &str,
        c: &SessionClaims,
        rid: &str,
        extra: impl FnOnce(&mut XmlWriter),
    ) -> IamResult<String> {
        let token = self.seal_session(c).map_err(api_error)?;
        let mut w = XmlWriter::new(Wire::Sts, action);
        w.start("Credentials")
            .text("AccessKeyId", &c.access_key_id)
            .text("SecretAccessKey", c.secret_access_key.expose())
            .text("SessionToken", &token)
            .timestamp("Expiration", c.expires_ms)
            .end();
        if c.role_arn.is_some() {
            w.start("AssumedRoleUser")
                .text("AssumedRoleId", &c.user_id)
                .text("Arn", &c.principal_arn)
                .end();
        }
        w.opt_text("SourceIdentity", c.source_identity.as_deref());
        extra(&mut w);
        Ok(w.finish(rid))
    }
}

/// `PolicyArns.member.N.arn`.
fn policy_arns(req: &QueryRequest) -> IamResult<Vec<String>> {
    Ok(req
        .structs("PolicyArns")
        .map_err(wire_error)?
        .iter()
        .filter_map(|s| s.get("arn").map(str::to_owned))
        .collect())
}
