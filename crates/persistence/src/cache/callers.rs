//! Who the caller is, without the database on every request: users, role permissions,
//! unrevoked access tokens (and the customer-status catalog most reads consult) cached in the
//! process, dropped the moment they change here and within milliseconds on every other
//! replica (see [`super::signal`]).
//!
//! The cache sits in front of the management ports as decorators, so the use cases do not
//! know it exists. Each decorator drops what its own writes change; the database's
//! notifications drop what other processes change. While the signal channel is down entries
//! live at most [`CacheSettings::unsynced_ttl`], so a missed signal costs at most that.

use super::fresh::Fresh;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Page, PageRequest};
use management_core::Result;
use management_core::catalog::{DeleteOutcome, EntryDraft, EntryPatch, Status};
use management_core::permission::Permission;
use management_core::ports::{
    NewRefreshToken, RefreshTokenRecord, RoleRepository, Rotation, SessionRepository, UpdateOutcome, UserFilter,
    UserRepository,
};
use management_core::role::Role;
use management_core::user::{User, UserChanges, UserCredentials, UserDraft};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long cached entries live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// While every change is signalled (one process, or the channel is up); zero turns the
    /// cache off.
    pub ttl: Duration,
    /// While the signal channel is down.
    pub unsynced_ttl: Duration,
}

/// Something that changed who a caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A user's state (activity, role, credentials, e-mail, profile).
    User(i64),
    /// A role or its permissions.
    Roles,
    /// A session (refresh family) was revoked, with every access token issued in it.
    Session(String),
    /// One access token was revoked.
    Access(String),
    /// Sessions whose ids the writer does not know were revoked.
    Sessions,
    /// The customer-status catalog.
    Statuses,
    /// Anything (after the signal channel was down).
    Everything,
}

impl Change {
    /// Reads a notification payload (`user:7`, `roles`, `session:<id>`, `access:<jti>`).
    pub fn parse(payload: &str) -> Option<Change> {
        match payload.split_once(':') {
            Some(("user", id)) => id.parse().ok().map(Change::User),
            Some(("session", id)) => Some(Change::Session(id.to_string())),
            Some(("access", jti)) => Some(Change::Access(jti.to_string())),
            _ if payload == "roles" => Some(Change::Roles),
            _ if payload == "statuses" => Some(Change::Statuses),
            _ => None,
        }
    }
}

/// What the process caches, shared by the decorators and the signal listener.
pub struct ProcessCache {
    settings: CacheSettings,
    /// Whether every change reaches this process (no other writers, or the listener is up).
    synced: AtomicBool,
    users: Fresh<i64, User>,
    permissions: Fresh<String, Vec<Permission>>,
    /// The role catalog, by display name.
    roles: Fresh<(), Vec<Role>>,
    /// Access tokens known unrevoked: jti → session id.
    live_tokens: Fresh<String, String>,
    /// The status catalog, in display order.
    pub(super) statuses: Fresh<(), Vec<Status>>,
}

impl ProcessCache {
    /// A cache that starts synced when this process is the only writer (SQLite), unsynced
    /// until its listener is up otherwise.
    pub fn new(settings: CacheSettings, synced: bool) -> Arc<ProcessCache> {
        Arc::new(ProcessCache {
            settings,
            synced: AtomicBool::new(synced),
            users: Fresh::named("users"),
            permissions: Fresh::named("permissions"),
            roles: Fresh::named("roles"),
            live_tokens: Fresh::named("live_tokens"),
            statuses: Fresh::named("statuses"),
        })
    }

    /// How old an entry may be served now.
    pub(super) fn max_age(&self) -> Duration {
        if self.synced.load(Ordering::Acquire) {
            self.settings.ttl
        } else {
            self.settings.ttl.min(self.settings.unsynced_ttl)
        }
    }

    /// Whether changes are currently signalled to this process.
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// Records whether the signal channel is up; either way everything cached is dropped,
    /// since changes may have gone unheard.
    pub fn set_synced(&self, synced: bool) {
        self.apply(&Change::Everything);
        self.synced.store(synced, Ordering::Release);
    }

    /// Passes on the outcome of a write after dropping what it may have changed (whether or
    /// not it succeeded).
    pub fn after<T>(&self, change: Change, outcome: T) -> T {
        self.apply(&change);
        outcome
    }

    /// Drops what `change` makes stale.
    pub fn apply(&self, change: &Change) {
        match change {
            Change::User(id) => self.users.remove_where(|k, _| k == id),
            Change::Roles => {
                self.permissions.clear();
                self.roles.clear();
            }
            Change::Session(sid) => self.live_tokens.remove_where(|_, s| s == sid),
            Change::Access(jti) => self.live_tokens.remove_where(|k, _| k == jti),
            Change::Sessions => self.live_tokens.clear(),
            Change::Statuses => self.statuses.clear(),
            Change::Everything => {
                self.users.clear();
                self.permissions.clear();
                self.roles.clear();
                self.live_tokens.clear();
                self.statuses.clear();
            }
        }
    }
}

/// [`UserRepository`] serving users by id from the cache.
pub struct CachedUsers {
    inner: Arc<dyn UserRepository>,
    cache: Arc<ProcessCache>,
}

impl CachedUsers {
    pub fn new(inner: Arc<dyn UserRepository>, cache: Arc<ProcessCache>) -> Self {
        CachedUsers { inner, cache }
    }
}

#[async_trait]
impl UserRepository for CachedUsers {
    async fn find_credentials(&self, email: &str) -> Result<Option<UserCredentials>> {
        self.inner.find_credentials(email).await
    }

    async fn find_by_id(&self, id: i64) -> Result<Option<User>> {
        let max_age = self.cache.max_age();
        if let Some(user) = self.cache.users.get(&id, max_age) {
            return Ok(Some(user));
        }
        let generation = self.cache.users.generation();
        let found = self.inner.find_by_id(id).await?;
        if let Some(user) = &found {
            self.cache.users.put(id, user.clone(), generation, max_age);
        }
        Ok(found)
    }

    async fn list(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>> {
        self.inner.list(filter, page).await
    }

    async fn insert(&self, draft: UserDraft) -> Result<User> {
        self.inner.insert(draft).await
    }

    async fn update(&self, id: i64, changes: UserChanges, protected_role: Option<String>) -> Result<UpdateOutcome> {
        self.cache.after(Change::User(id), self.inner.update(id, changes, protected_role).await)
    }

    async fn count(&self) -> Result<u64> {
        self.inner.count().await
    }
}

/// [`RoleRepository`] serving role permissions from the cache.
pub struct CachedRoles {
    inner: Arc<dyn RoleRepository>,
    cache: Arc<ProcessCache>,
}

impl CachedRoles {
    pub fn new(inner: Arc<dyn RoleRepository>, cache: Arc<ProcessCache>) -> Self {
        CachedRoles { inner, cache }
    }

    /// Every role, from the cache.
    async fn all(&self) -> Result<Vec<Role>> {
        self.cache.roles.get_or_load((), self.cache.max_age(), || self.inner.list()).await
    }
}

#[async_trait]
impl RoleRepository for CachedRoles {
    async fn find_by_name(&self, name: &str) -> Result<Option<Role>> {
        Ok(self.all().await?.into_iter().find(|r| r.name == name))
    }

    async fn permissions_of(&self, role: &str) -> Result<Vec<Permission>> {
        self.cache
            .permissions
            .get_or_load(role.to_string(), self.cache.max_age(), || self.inner.permissions_of(role))
            .await
    }

    async fn list(&self) -> Result<Vec<Role>> {
        self.all().await
    }

    async fn get(&self, id: i64) -> Result<Option<Role>> {
        Ok(self.all().await?.into_iter().find(|r| r.id == id))
    }

    async fn insert(&self, draft: EntryDraft) -> Result<Role> {
        self.cache.after(Change::Roles, self.inner.insert(draft).await)
    }

    async fn update(&self, id: i64, patch: EntryPatch) -> Result<Option<Role>> {
        self.cache.after(Change::Roles, self.inner.update(id, patch).await)
    }

    async fn delete(&self, id: i64, reassign_to: Option<String>) -> Result<DeleteOutcome> {
        // Deleting may move users to another role.
        self.cache.after(Change::Everything, self.inner.delete(id, reassign_to).await)
    }

    async fn permissions(&self, id: i64) -> Result<Vec<Permission>> {
        self.inner.permissions(id).await
    }

    async fn set_permissions(&self, id: i64, permissions: Vec<Permission>) -> Result<()> {
        self.cache.after(Change::Roles, self.inner.set_permissions(id, permissions).await)
    }
}

/// [`SessionRepository`] remembering which access tokens are not revoked.
pub struct CachedSessions {
    inner: Arc<dyn SessionRepository>,
    cache: Arc<ProcessCache>,
}

impl CachedSessions {
    pub fn new(inner: Arc<dyn SessionRepository>, cache: Arc<ProcessCache>) -> Self {
        CachedSessions { inner, cache }
    }
}

#[async_trait]
impl SessionRepository for CachedSessions {
    async fn open(&self, user_id: i64, family_id: &str, client_ip: &str, first: NewRefreshToken) -> Result<()> {
        self.inner.open(user_id, family_id, client_ip, first).await
    }

    async fn sign_in_failed(&self, user_id: Option<i64>, email: &str, client_ip: &str) -> Result<()> {
        self.inner.sign_in_failed(user_id, email, client_ip).await
    }

    async fn known_address(&self, user_id: i64, client_ip: &str, since: DateTime<Utc>) -> Result<bool> {
        self.inner.known_address(user_id, client_ip, since).await
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>> {
        self.inner.find_refresh(token_hash).await
    }

    async fn rotate(
        &self,
        id: i64,
        successor: NewRefreshToken,
        now: DateTime<Utc>,
        reuse_grace_since: Option<DateTime<Utc>>,
    ) -> Result<Rotation> {
        let rotation = self.inner.rotate(id, successor, now, reuse_grace_since).await;
        if !matches!(rotation, Ok(Rotation::Rotated)) {
            self.cache.apply(&Change::Sessions);
        }
        rotation
    }

    async fn revoke_session(&self, family_id: &str, at: DateTime<Utc>) -> Result<()> {
        self.cache.after(Change::Session(family_id.to_string()), self.inner.revoke_session(family_id, at).await)
    }

    async fn revoke_user_sessions(&self, user_id: i64, keep: Option<String>, at: DateTime<Utc>) -> Result<u64> {
        self.cache.after(Change::Sessions, self.inner.revoke_user_sessions(user_id, keep, at).await)
    }

    async fn revoke_access(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()> {
        self.cache.after(Change::Access(jti.to_string()), self.inner.revoke_access(jti, expires_at).await)
    }

    async fn is_revoked(&self, jti: &str, family_id: &str) -> Result<bool> {
        let max_age = self.cache.max_age();
        let key = jti.to_string();
        if self.cache.live_tokens.get(&key, max_age).is_some_and(|sid| sid == family_id) {
            return Ok(false);
        }
        let generation = self.cache.live_tokens.generation();
        let revoked = self.inner.is_revoked(jti, family_id).await?;
        if !revoked {
            self.cache.live_tokens.put(key, family_id.to_string(), generation, max_age);
        }
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use management_core::ports::{MockRoleRepository, MockSessionRepository, MockUserRepository};

    const SETTINGS: CacheSettings =
        CacheSettings { ttl: Duration::from_secs(60), unsynced_ttl: Duration::from_secs(1) };

    fn user(id: i64, role: &str) -> User {
        User {
            id,
            email: format!("u{id}@test.uz"),
            name: "U".into(),
            first_name: "U".into(),
            last_name: String::new(),
            role: role.into(),
            is_active: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn a_user_is_read_once_until_it_changes() {
        let mut inner = MockUserRepository::new();
        inner.expect_find_by_id().times(2).returning(|id| Ok(Some(user(id, "admin"))));
        inner.expect_update().times(1).returning(|id, _, _| Ok(UpdateOutcome::Updated(user(id, "ceo"))));
        let cache = ProcessCache::new(SETTINGS, true);
        let users = CachedUsers::new(Arc::new(inner), cache.clone());
        users.find_by_id(7).await.unwrap();
        users.find_by_id(7).await.unwrap();
        users.update(7, UserChanges::default(), None).await.unwrap();
        users.find_by_id(7).await.unwrap();
    }

    #[tokio::test]
    async fn a_signalled_change_drops_the_user() {
        let mut inner = MockUserRepository::new();
        inner.expect_find_by_id().times(2).returning(|id| Ok(Some(user(id, "admin"))));
        let cache = ProcessCache::new(SETTINGS, true);
        let users = CachedUsers::new(Arc::new(inner), cache.clone());
        users.find_by_id(7).await.unwrap();
        cache.apply(&Change::parse("user:8").unwrap());
        users.find_by_id(7).await.unwrap();
        cache.apply(&Change::parse("user:7").unwrap());
        users.find_by_id(7).await.unwrap();
    }

    #[tokio::test]
    async fn role_permissions_are_read_once_until_a_role_changes() {
        let mut inner = MockRoleRepository::new();
        inner.expect_permissions_of().times(2).returning(|_| Ok(vec![Permission::CrmRead]));
        inner.expect_set_permissions().times(1).returning(|_, _| Ok(()));
        let cache = ProcessCache::new(SETTINGS, true);
        let roles = CachedRoles::new(Arc::new(inner), cache);
        assert_eq!(roles.permissions_of("admin").await.unwrap(), vec![Permission::CrmRead]);
        roles.permissions_of("admin").await.unwrap();
        roles.set_permissions(1, vec![]).await.unwrap();
        roles.permissions_of("admin").await.unwrap();
    }

    #[tokio::test]
    async fn a_revoked_session_or_token_is_asked_again() {
        let mut inner = MockSessionRepository::new();
        inner.expect_is_revoked().times(3).returning(|_, _| Ok(false));
        inner.expect_revoke_session().times(1).returning(|_, _| Ok(()));
        let cache = ProcessCache::new(SETTINGS, true);
        let sessions = CachedSessions::new(Arc::new(inner), cache.clone());
        assert!(!sessions.is_revoked("j1", "s1").await.unwrap());
        assert!(!sessions.is_revoked("j1", "s1").await.unwrap(), "served from the cache");
        sessions.revoke_session("s1", Utc::now()).await.unwrap();
        sessions.is_revoked("j1", "s1").await.unwrap();
        cache.apply(&Change::parse("access:j1").unwrap());
        sessions.is_revoked("j1", "s1").await.unwrap();
    }

    #[tokio::test]
    async fn revoked_answers_are_never_cached() {
        let mut inner = MockSessionRepository::new();
        inner.expect_is_revoked().times(2).returning(|_, _| Ok(true));
        let sessions = CachedSessions::new(Arc::new(inner), ProcessCache::new(SETTINGS, true));
        assert!(sessions.is_revoked("j1", "s1").await.unwrap());
        assert!(sessions.is_revoked("j1", "s1").await.unwrap());
    }

    #[tokio::test]
    async fn losing_the_signal_drops_everything_and_shortens_the_lifetime() {
        let mut inner = MockRoleRepository::new();
        inner.expect_permissions_of().times(2).returning(|_| Ok(vec![]));
        let cache = ProcessCache::new(SETTINGS, true);
        let roles = CachedRoles::new(Arc::new(inner), cache.clone());
        roles.permissions_of("admin").await.unwrap();
        cache.set_synced(false);
        assert!(!cache.is_synced());
        assert_eq!(cache.max_age(), Duration::from_secs(1));
        roles.permissions_of("admin").await.unwrap();
    }

    #[test]
    fn payloads_parse() {
        assert_eq!(Change::parse("user:12"), Some(Change::User(12)));
        assert_eq!(Change::parse("roles"), Some(Change::Roles));
        assert_eq!(Change::parse("statuses"), Some(Change::Statuses));
        assert_eq!(Change::parse("session:ab-c"), Some(Change::Session("ab-c".into())));
        assert_eq!(Change::parse("user:x"), None);
        assert_eq!(Change::parse("other"), None);
    }
}
