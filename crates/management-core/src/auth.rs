//! Sign-in, token refresh with rotation, logout, and access-token checks.

use crate::error::{ManagementError, Result};
use crate::password_policy::{MAX_PASSWORD_LEN, check_password};
use crate::ports::UpdateOutcome;
use crate::ports::{
    AccessClaims, LoginAttemptRepository, NewRefreshToken, PasswordHasher, RoleRepository, Rotation, SessionRepository,
    TokenCodec, TokenError, UserRepository,
};
use crate::principal::Principal;
use crate::role::{CEO, DEFAULT_ROLE, Role};
use crate::throttle::ThrottlePolicy;
use crate::user::{NewUser, User, UserChanges, UserDraft};
use chrono::{Duration, Utc};
use std::sync::Arc;

/// Lifetimes and limits of authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Refresh lifetime when the user ticks "remember me".
    pub remember_refresh_ttl: Duration,
    pub throttle: ThrottlePolicy,
    /// How long a just-spent refresh token may be presented again (concurrent refreshes
    /// by one client) and get a successor instead of revoking the session; zero = never.
    pub refresh_reuse_grace: Duration,
    /// Whether `register` is open to anyone.
    pub registration_enabled: bool,
}

/// A sign-in attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Client address, for throttling.
    pub client_ip: String,
    pub remember: bool,
}

/// A pair of tokens handed to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedTokens {
    pub access_token: String,
    /// Seconds until the access token expires.
    pub access_expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

/// The ports the authentication use cases need.
#[derive(Clone)]
pub struct AuthPorts {
    pub users: Arc<dyn UserRepository>,
    pub roles: Arc<dyn RoleRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub attempts: Arc<dyn LoginAttemptRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn TokenCodec>,
}

/// Authentication use cases, shared by every surface.
pub struct AuthService {
    ports: AuthPorts,
    config: AuthConfig,
}

const BAD_CREDENTIALS: &str = "Invalid credentials";
/// Longest e-mail address (the column's length).
const MAX_EMAIL_LEN: usize = 254;
/// How long an address a user signed in from counts as known to the throttle.
const KNOWN_ADDRESS_FOR: Duration = Duration::days(90);

impl AuthService {
    pub fn new(ports: AuthPorts, config: AuthConfig) -> Self {
        AuthService { ports, config }
    }

    /// Access-token lifetime in seconds.
    pub fn access_ttl_secs(&self) -> i64 {
        self.config.access_ttl.num_seconds()
    }

    /// Checks e-mail and password and opens a new session.
    ///
    /// Unknown e-mail, wrong password and deactivated account all answer the same
    /// `Unauthorized("Invalid credentials")`; failures are throttled per account and address.
    pub async fn login(&self, req: LoginRequest) -> Result<(User, IssuedTokens)> {
        let email = req.email.trim().to_lowercase();
        let mut fields = kernel::FieldErrors::new();
        if email.is_empty() {
            kernel::push_error(&mut fields, "email", "E-mail is required.");
        } else if email.chars().count() > MAX_EMAIL_LEN {
            kernel::push_error(&mut fields, "email", format!("E-mail must be at most {MAX_EMAIL_LEN} characters."));
        }
        if req.password.is_empty() {
            kernel::push_error(&mut fields, "password", "Password is required.");
        } else if req.password.chars().count() > MAX_PASSWORD_LEN {
            kernel::push_error(
                &mut fields,
                "password",
                format!("Password must be at most {MAX_PASSWORD_LEN} characters."),
            );
        }
        ManagementError::check(fields)?;
        let now = Utc::now();
        let throttle = self.config.throttle;
        let found = self.ports.users.find_credentials(&email).await?;
        let known_address = match &found {
            Some(creds) => {
                self.ports.sessions.known_address(creds.user.id, &req.client_ip, now - KNOWN_ADDRESS_FOR).await?
            }
            None => false,
        };
        throttle.check(self.ports.attempts.as_ref(), &email, &req.client_ip, known_address, now).await.inspect_err(
            |_| tracing::info!(account = %email, address = %req.client_ip, "sign-in refused while throttled"),
        )?;
        let valid = match &found {
            Some(creds) => self.ports.hasher.verify(&req.password, &creds.password_hash).await?,
            None => {
                // Same cost as a real check, so response time does not reveal accounts.
                self.ports.hasher.hash(&req.password).await?;
                false
            }
        };
        let user = match found {
            Some(creds) if valid && creds.user.is_active => creds.user,
            other => {
                let account = other.map(|c| c.user.id);
                self.ports.sessions.sign_in_failed(account, &email, &req.client_ip).await?;
                let locked = throttle.record_failure(self.ports.attempts.as_ref(), &email, &req.client_ip, now).await?;
                if locked {
                    tracing::warn!(account = %email, address = %req.client_ip, "sign-in locked after repeated failures");
                }
                return Err(ManagementError::Unauthorized(BAD_CREDENTIALS.into()));
            }
        };
        throttle.succeeded(self.ports.attempts.as_ref(), &email, &req.client_ip).await?;
        let refresh_ttl = if req.remember { self.config.remember_refresh_ttl } else { self.config.refresh_ttl };
        let family = self.ports.tokens.random_id();
        let (tokens, first) = self.mint(&user, &family, refresh_ttl)?;
        self.ports.sessions.open(user.id, &family, &req.client_ip, first).await?;
        Ok((user, tokens))
    }

    /// The caller changes their own password: the current one must be right, the new one
    /// must pass the password policy. Every other session of theirs ends; this one stays.
    pub async fn change_password(&self, principal: &Principal, current: &str, new: &str) -> Result<()> {
        let user = self.active_user(principal.user_id).await?;
        verify_current_password(&self.ports, &user, current).await?;
        let mut fields = kernel::FieldErrors::new();
        check_password(new, &user.email, &mut fields, "new_password");
        if current == new {
            kernel::push_error(&mut fields, "new_password", "The new password must differ from the current one.");
        }
        ManagementError::check(fields)?;
        let password_hash = self.ports.hasher.hash(new).await?;
        let changes = UserChanges { password_hash: Some(password_hash), ..UserChanges::default() };
        match self.ports.users.update(user.id, changes, None).await? {
            UpdateOutcome::Updated(_) => {}
            _ => return Err(ManagementError::Unauthorized("User no longer exists".into())),
        }
        self.ports.sessions.revoke_user_sessions(user.id, Some(principal.session_id.clone()), Utc::now()).await?;
        Ok(())
    }

    /// Exchanges a refresh token for a new pair in the same session. The presented token is
    /// spent; presenting it again within the reuse grace gets another successor (concurrent
    /// refreshes by one client), after it revokes the whole session.
    pub async fn refresh(&self, refresh_token: &str) -> Result<(User, IssuedTokens)> {
        let invalid = || ManagementError::Unauthorized("Invalid or expired refresh token".into());
        let token = refresh_token.trim();
        if token.is_empty() {
            return Err(ManagementError::field("refreshToken", "Refresh token is required."));
        }
        let hash = self.ports.tokens.hash_refresh_token(token);
        let record = self.ports.sessions.find_refresh(&hash).await?.ok_or_else(invalid)?;
        let now = Utc::now();
        if record.revoked_at.is_some() || record.expires_at <= now {
            return Err(invalid());
        }
        let user = self.active_user(record.user_id).await?;
        let remaining = record.expires_at - now;
        let ttl = if remaining > self.config.refresh_ttl { remaining } else { self.config.refresh_ttl };
        let (tokens, successor) = self.mint(&user, &record.family_id, ttl)?;
        let grace = self.config.refresh_reuse_grace;
        let grace_since = (grace > Duration::zero()).then(|| now - grace);
        match self.ports.sessions.rotate(record.id, successor, now, grace_since).await? {
            Rotation::Rotated => Ok((user, tokens)),
            Rotation::SessionRevoked => Err(invalid()),
            Rotation::ReuseDetected => {
                Err(ManagementError::Unauthorized("Refresh token reuse detected; the session has been revoked".into()))
            }
        }
    }

    /// Revokes the caller's access token and its whole refresh family.
    pub async fn logout(&self, principal: &Principal) -> Result<()> {
        let expires = chrono::DateTime::from_timestamp(principal.expires_at, 0).unwrap_or_else(Utc::now);
        self.ports.sessions.revoke_access(&principal.jti, expires).await?;
        self.ports.sessions.revoke_session(&principal.session_id, Utc::now()).await
    }

    /// Resolves a bearer access token to the calling user, refusing expired, forged or
    /// revoked tokens and deactivated users.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal> {
        let claims = self.ports.tokens.decode(access_token).map_err(|e| match e {
            TokenError::Expired => ManagementError::Unauthorized("Token has expired".into()),
            TokenError::Invalid => ManagementError::Unauthorized("Invalid token".into()),
        })?;
        let user_id: i64 = claims.sub.parse().map_err(|_| ManagementError::Unauthorized("Invalid token".into()))?;
        if self.ports.sessions.is_revoked(&claims.jti, &claims.sid).await? {
            return Err(ManagementError::Unauthorized("Token has been revoked".into()));
        }
        let user = self.active_user(user_id).await?;
        let permissions = self.ports.roles.permissions_of(&user.role).await?;
        Ok(Principal {
            user_id,
            role: user.role,
            permissions,
            jti: claims.jti,
            session_id: claims.sid,
            expires_at: claims.exp,
        })
    }

    /// The user id in a correctly signed, unexpired token, without touching storage
    /// (for per-client rate limiting).
    pub fn peek_subject(&self, access_token: &str) -> Option<i64> {
        self.ports.tokens.decode(access_token).ok()?.sub.parse().ok()
    }

    /// The caller's own profile.
    pub async fn profile(&self, principal: &Principal) -> Result<User> {
        self.active_user(principal.user_id).await
    }

    /// The caller's profile with their role's catalog entry (`None` when the role is gone).
    pub async fn profile_with_role(&self, principal: &Principal) -> Result<(User, Option<Role>)> {
        let user = self.active_user(principal.user_id).await?;
        let role = self.ports.roles.find_by_name(&user.role).await?;
        Ok((user, role))
    }

    /// Self-registration: a new active user with the default role.
    pub async fn register(&self, mut new_user: NewUser) -> Result<User> {
        if !self.config.registration_enabled {
            return Err(ManagementError::Forbidden("Registration is disabled on this server".into()));
        }
        new_user.role = Some(DEFAULT_ROLE.into());
        create_user(&self.ports, new_user).await
    }

    /// On an empty database, creates the first administrator with the `ceo` role.
    /// Returns the created user, or `None` when users already exist.
    pub async fn bootstrap_admin(&self, new_user: NewUser) -> Result<Option<User>> {
        if self.ports.users.count().await? > 0 {
            return Ok(None);
        }
        let new_user = NewUser { role: Some(CEO.into()), ..new_user };
        create_user(&self.ports, new_user).await.map(Some)
    }

    async fn active_user(&self, id: i64) -> Result<User> {
        match self.ports.users.find_by_id(id).await? {
            Some(user) if user.is_active => Ok(user),
            Some(_) => Err(ManagementError::Unauthorized("User account is disabled".into())),
            None => Err(ManagementError::Unauthorized("User no longer exists".into())),
        }
    }

    /// A new access token and a refresh token for `family` (the latter still to be stored).
    fn mint(&self, user: &User, family: &str, refresh_ttl: Duration) -> Result<(IssuedTokens, NewRefreshToken)> {
        let now = Utc::now();
        let claims = AccessClaims {
            sub: user.id.to_string(),
            jti: self.ports.tokens.random_id(),
            role: user.role.clone(),
            sid: family.to_string(),
            iat: now.timestamp(),
            exp: (now + self.config.access_ttl).timestamp(),
        };
        let access_token = self.ports.tokens.encode(&claims)?;
        let refresh_token = self.ports.tokens.new_refresh_token();
        let stored = NewRefreshToken {
            token_hash: self.ports.tokens.hash_refresh_token(&refresh_token),
            expires_at: now + refresh_ttl,
        };
        let tokens = IssuedTokens {
            access_token,
            access_expires_in: self.config.access_ttl.num_seconds(),
            refresh_token,
            refresh_expires_in: refresh_ttl.num_seconds(),
        };
        Ok((tokens, stored))
    }
}

/// Validates, checks the role against the catalog, hashes and stores a new user.
pub(crate) async fn create_user(ports: &AuthPorts, new_user: NewUser) -> Result<User> {
    let clean = new_user.validate()?;
    let role = clean.role.unwrap_or_else(|| DEFAULT_ROLE.to_string());
    ensure_role_exists(ports.roles.as_ref(), &role).await?;
    let password_hash = ports.hasher.hash(&new_user.password).await?;
    ports
        .users
        .insert(UserDraft {
            email: clean.email,
            password_hash,
            name: clean.name,
            first_name: clean.first_name,
            last_name: clean.last_name,
            role,
            is_active: true,
        })
        .await
}

/// Checks the user's current password (a wrong or missing one is a 400 on `current_password`).
pub(crate) async fn verify_current_password(ports: &AuthPorts, user: &User, current: &str) -> Result<()> {
    if current.is_empty() {
        return Err(ManagementError::field("current_password", "Your current password is required."));
    }
    let creds = ports.users.find_credentials(&user.email).await?;
    let valid = match creds {
        Some(c) => ports.hasher.verify(current, &c.password_hash).await?,
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(ManagementError::field("current_password", "Your current password is not correct."))
    }
}

/// Refuses a role name that is not an active role of the catalog.
pub(crate) async fn ensure_role_exists(roles: &dyn RoleRepository, role: &str) -> Result<()> {
    match roles.find_by_name(role).await? {
        Some(r) if r.is_active => Ok(()),
        _ => Err(ManagementError::field("role", format!("Role '{role}' does not exist in the role catalog."))),
    }
}

#[cfg(test)]
mod tests;
