//! Ports: what the management use cases need from the outside world.

use crate::assignment::{AssignOutcome, CurrentManager, SalesManager};
use crate::catalog::{DeleteOutcome, EntryDraft, EntryPatch, Status};
use crate::error::Result;
use crate::permission::Permission;
use crate::role::Role;
use crate::user::{User, UserChanges, UserCredentials, UserDraft};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Page, PageRequest};
use serde::{Deserialize, Serialize};

/// Filters of the staff-user list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFilter {
    /// Case-insensitive substring of e-mail or name.
    pub search: Option<String>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

/// Result of an update that must not leave a role without active holders.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    Updated(User),
    NotFound,
    /// The change would leave no active user with the protected role; nothing changed.
    WouldOrphanRole,
}

/// Staff users.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// The user with this (normalised) e-mail, with the password hash.
    async fn find_credentials(&self, email: &str) -> Result<Option<UserCredentials>>;
    async fn find_by_id(&self, id: i64) -> Result<Option<User>>;
    async fn list(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>>;
    /// Stores a new user; `Conflict` when the e-mail is taken.
    async fn insert(&self, draft: UserDraft) -> Result<User>;
    /// Applies `changes` atomically; when `protected_role` is given, refuses a change that
    /// would leave no active user holding that role.
    async fn update(&self, id: i64, changes: UserChanges, protected_role: Option<String>) -> Result<UpdateOutcome>;
    async fn count(&self) -> Result<u64>;
}

/// The role catalog.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RoleRepository: Send + Sync {
    async fn find_by_name(&self, name: &str) -> Result<Option<Role>>;
    /// Permissions granted by the role (empty for an unknown or inactive role).
    async fn permissions_of(&self, role: &str) -> Result<Vec<Permission>>;
    /// Every role, ordered by display name.
    async fn list(&self) -> Result<Vec<Role>>;
    async fn get(&self, id: i64) -> Result<Option<Role>>;
    /// Stores a new role with no permissions; `Conflict` when the name is taken.
    async fn insert(&self, draft: EntryDraft) -> Result<Role>;
    async fn update(&self, id: i64, patch: EntryPatch) -> Result<Option<Role>>;
    /// Deletes a role no user holds, or first moves its users to `reassign_to` (atomically).
    async fn delete(&self, id: i64, reassign_to: Option<String>) -> Result<DeleteOutcome>;
    /// Permissions of the role with this id.
    async fn permissions(&self, id: i64) -> Result<Vec<Permission>>;
    /// Replaces the role's permissions.
    async fn set_permissions(&self, id: i64, permissions: Vec<Permission>) -> Result<()>;
}

/// The customer-status catalog.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StatusRepository: Send + Sync {
    /// Every status, by `order`.
    async fn list(&self) -> Result<Vec<Status>>;
    async fn get(&self, id: i64) -> Result<Option<Status>>;
    /// Stores a new status; `Conflict` when the name is taken.
    async fn insert(&self, draft: EntryDraft) -> Result<Status>;
    async fn update(&self, id: i64, patch: EntryPatch) -> Result<Option<Status>>;
    /// Deletes a status no live customer has, or first moves those customers to the active
    /// status `reassign_to` (atomically).
    async fn delete(&self, id: i64, reassign_to: Option<String>) -> Result<DeleteOutcome>;
}

/// A stored refresh token (the token itself is only kept hashed) and its session's state.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenRecord {
    pub id: i64,
    pub user_id: i64,
    /// The session (refresh family) the token belongs to.
    pub family_id: String,
    pub expires_at: DateTime<Utc>,
    /// When the token was spent on a rotation.
    pub used_at: Option<DateTime<Utc>>,
    /// When its session was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token to store (hashed).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was spent (or re-presented within the grace period) and the successor stored.
    Rotated,
    /// The token had been spent before the grace period: the session is now revoked.
    ReuseDetected,
    /// The session was already revoked; nothing was stored.
    SessionRevoked,
}

/// Sessions (refresh-token families) and revoked access tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Opens a session for `user_id`, signed in from `client_ip`, with its first refresh token.
    async fn open(&self, user_id: i64, family_id: &str, client_ip: &str, first: NewRefreshToken) -> Result<()>;
    /// Records a refused sign-in (wrong password, unknown or inactive account) in the audit
    /// trail: the account when it exists, the e-mail tried and the address.
    async fn sign_in_failed(&self, user_id: Option<i64>, email: &str, client_ip: &str) -> Result<()>;
    /// Whether the user opened a session from `client_ip` since `since` (a known address).
    async fn known_address(&self, user_id: i64, client_ip: &str, since: DateTime<Utc>) -> Result<bool>;
    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>>;
    /// In one transaction that holds the session: unless the session is revoked, spends
    /// token `id` and stores `successor` in the same session. A token already spent is
    /// accepted again only when it was spent at or after `reuse_grace_since`; otherwise the
    /// session is revoked ([`Rotation::ReuseDetected`]).
    async fn rotate(
        &self,
        id: i64,
        successor: NewRefreshToken,
        now: DateTime<Utc>,
        reuse_grace_since: Option<DateTime<Utc>>,
    ) -> Result<Rotation>;
    /// Revokes the session: every refresh token of the family, and every access token issued in it.
    async fn revoke_session(&self, family_id: &str, at: DateTime<Utc>) -> Result<()>;
    /// Revokes every session of the user except `keep`; returns how many were revoked.
    async fn revoke_user_sessions(&self, user_id: i64, keep: Option<String>, at: DateTime<Utc>) -> Result<u64>;
    /// Revokes one access token until it expires.
    async fn revoke_access(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()>;
    /// Whether the access token or its session has been revoked.
    async fn is_revoked(&self, jti: &str, family_id: &str) -> Result<bool>;
}

/// The failures of one key within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failures {
    pub count: u64,
    pub oldest: Option<DateTime<Utc>>,
    pub newest: Option<DateTime<Utc>>,
}

/// Failed sign-in attempts, counted per key (account, account and address, address).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LoginAttemptRepository: Send + Sync {
    /// The failures recorded since `since`.
    async fn failures_since(&self, key: &str, since: DateTime<Utc>) -> Result<Failures>;
    async fn record_failure(&self, key: &str, at: DateTime<Utc>) -> Result<()>;
    async fn clear(&self, key: &str) -> Result<()>;
}

/// Password hashing (slow on purpose; implementations keep it off the async executor).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &str) -> Result<String>;
    async fn verify(&self, password: &str, hash: &str) -> Result<bool>;
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id, as a string (JWT convention).
    pub sub: String,
    pub jti: String,
    pub role: String,
    /// Refresh-token family (session) the token was issued in.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

/// Signing and checking access tokens, and minting refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    fn encode(&self, claims: &AccessClaims) -> Result<String>;
    fn decode(&self, token: &str) -> std::result::Result<AccessClaims, TokenError>;
    /// A fresh random identifier (token ids, families).
    fn random_id(&self) -> String;
    /// A new random refresh token.
    fn new_refresh_token(&self) -> String;
    /// The stored form of a refresh token.
    fn hash_refresh_token(&self, token: &str) -> String;
}

/// Sales managers and lead assignments.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SalesManagerRepository: Send + Sync {
    /// Active users with the sales-manager role, by id, with their active assignment counts.
    async fn sales_managers(&self) -> Result<Vec<SalesManager>>;
    /// Makes `manager_id` the customer's only active manager, keeping the history.
    async fn assign(&self, customer_id: i64, manager_id: i64, by: i64) -> Result<AssignOutcome>;
    async fn current(&self, customer_id: i64) -> Result<Option<CurrentManager>>;
}
