//! Administration of staff users (list, create, change, deactivate).

use crate::auth::{AuthPorts, create_user, ensure_role_exists, verify_current_password};
use crate::error::{ManagementError, Result};
use crate::password_policy::check_password;
use crate::permission::Permission;
use crate::ports::{UpdateOutcome, UserFilter};
use crate::principal::Principal;
use crate::role::{CEO, rank};
use crate::user::{NewUser, User, UserChanges, UserPatch, clean_name, split_name};
use chrono::Utc;
use kernel::{FieldErrors, Page, PageRequest, normalize_email, push_error};

/// Staff-user administration; every call needs the `users.manage` permission.
pub struct UserAdminService {
    ports: AuthPorts,
}

impl UserAdminService {
    pub fn new(ports: AuthPorts) -> Self {
        UserAdminService { ports }
    }

    pub async fn list(&self, by: &Principal, filter: &UserFilter, page: PageRequest) -> Result<Page<User>> {
        by.require(Permission::UsersManage)?;
        self.ports.users.list(filter, page).await
    }

    pub async fn get(&self, by: &Principal, id: i64) -> Result<User> {
        by.require(Permission::UsersManage)?;
        self.find(id).await
    }

    /// Creates a user; nobody creates a user whose role ranks above their own.
    pub async fn create(&self, by: &Principal, new_user: NewUser) -> Result<User> {
        by.require(Permission::UsersManage)?;
        if let Some(role) = new_user.role.as_deref().map(|r| r.trim().to_lowercase()) {
            ensure_may_grant(by, &role)?;
        }
        create_user(&self.ports, new_user).await
    }

    /// Creates a user without a caller (command line); the role must exist.
    pub async fn create_unchecked(&self, new_user: NewUser) -> Result<User> {
        create_user(&self.ports, new_user).await
    }

    /// Applies a partial change. Nobody changes a user whose role ranks above theirs or
    /// grants a role above their own; changing one's own password or e-mail needs the current
    /// password; nobody can remove the last active CEO. A new password, e-mail or role, or a
    /// deactivation, ends every session of the user (but the caller's own).
    pub async fn update(&self, by: &Principal, id: i64, patch: UserPatch) -> Result<User> {
        by.require(Permission::UsersManage)?;
        if patch.is_empty() {
            return Err(ManagementError::Validation {
                message: "Nothing to update: give at least one field.".into(),
                fields: FieldErrors::new(),
            });
        }
        let current = self.find(id).await?;
        ensure_outranks_or_equals(by, &current)?;
        let role = patch.role.as_deref().map(|r| r.trim().to_lowercase());
        if let Some(role) = &role {
            ensure_may_grant(by, role)?;
            ensure_role_exists(self.ports.roles.as_ref(), role).await?;
        }
        let myself = current.id == by.user_id;
        if myself && (patch.password.is_some() || patch.email.is_some()) {
            verify_current_password(&self.ports, &current, patch.current_password.as_deref().unwrap_or_default())
                .await?;
        }
        let changes = self.validate_patch(patch, role, &current).await?;
        let ends_sessions = changes.password_hash.is_some()
            || changes.email.as_ref().is_some_and(|e| *e != current.email)
            || changes.role.as_ref().is_some_and(|r| *r != current.role)
            || changes.is_active == Some(false);
        let updated = self.apply(id, changes).await?;
        if ends_sessions {
            let keep = (myself && updated.is_active).then(|| by.session_id.clone());
            self.ports.sessions.revoke_user_sessions(id, keep, Utc::now()).await?;
        }
        Ok(updated)
    }

    /// Deactivates a user (users are never destroyed) and ends every session of theirs.
    pub async fn deactivate(&self, by: &Principal, id: i64) -> Result<User> {
        by.require(Permission::UsersManage)?;
        let current = self.find(id).await?;
        ensure_outranks_or_equals(by, &current)?;
        let updated = self.apply(id, UserChanges { is_active: Some(false), ..UserChanges::default() }).await?;
        self.ports.sessions.revoke_user_sessions(id, None, Utc::now()).await?;
        Ok(updated)
    }

    async fn apply(&self, id: i64, changes: UserChanges) -> Result<User> {
        match self.ports.users.update(id, changes, Some(CEO.to_string())).await? {
            UpdateOutcome::Updated(user) => Ok(user),
            UpdateOutcome::NotFound => Err(not_found(id)),
            UpdateOutcome::WouldOrphanRole => {
                Err(ManagementError::Conflict("The last active CEO cannot be removed or demoted.".into()))
            }
        }
    }

    async fn find(&self, id: i64) -> Result<User> {
        self.ports.users.find_by_id(id).await?.ok_or_else(|| not_found(id))
    }

    async fn validate_patch(&self, patch: UserPatch, role: Option<String>, current: &User) -> Result<UserChanges> {
        let mut errors = FieldErrors::new();
        let email = patch.email.as_deref().map(|e| {
            normalize_email(e).unwrap_or_else(|m| {
                push_error(&mut errors, "email", m);
                String::new()
            })
        });
        if let Some(password) = &patch.password {
            check_password(password, email.as_deref().unwrap_or(&current.email), &mut errors, "password");
        }
        let name = clean_name(patch.name.as_deref(), "name", &mut errors);
        if name.as_deref() == Some("") {
            push_error(&mut errors, "name", "Name cannot be empty.");
        }
        let mut first_name = clean_name(patch.first_name.as_deref(), "first_name", &mut errors);
        let mut last_name = clean_name(patch.last_name.as_deref(), "last_name", &mut errors);
        ManagementError::check(errors)?;
        if let (Some(name), None, None) = (&name, &first_name, &last_name) {
            let (first, last) = split_name(name);
            first_name = Some(first);
            last_name = Some(last);
        }
        let password_hash = match &patch.password {
            Some(p) => Some(self.ports.hasher.hash(p).await?),
            None => None,
        };
        Ok(UserChanges { email, password_hash, name, first_name, last_name, role, is_active: patch.is_active })
    }
}

/// Refuses to touch a user whose role ranks above the caller's.
fn ensure_outranks_or_equals(by: &Principal, target: &User) -> Result<()> {
    if rank(&target.role) > rank(&by.role) {
        return Err(ManagementError::Forbidden(format!(
            "You cannot change a user whose role ('{}') ranks above yours.",
            target.role
        )));
    }
    Ok(())
}

/// Refuses to grant a role that ranks above the caller's.
fn ensure_may_grant(by: &Principal, role: &str) -> Result<()> {
    if rank(role) > rank(&by.role) {
        return Err(ManagementError::Forbidden(format!("Only a CEO can give the role '{role}'.")));
    }
    Ok(())
}

fn not_found(id: i64) -> ManagementError {
    ManagementError::NotFound(format!("User {id} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::*;
    use crate::user::UserCredentials;
    use std::sync::Arc;

    fn user(id: i64, role: &str) -> User {
        let t = Utc::now();
        User {
            id,
            email: format!("u{id}@demo.uz"),
            name: "U".into(),
            first_name: "U".into(),
            last_name: String::new(),
            role: role.into(),
            is_active: true,
            created_at: t,
            updated_at: t,
        }
    }

    fn principal(id: i64, role: &str) -> Principal {
        Principal {
            user_id: id,
            role: role.into(),
            permissions: vec![Permission::UsersManage],
            jti: "j".into(),
            session_id: format!("session-{id}"),
            expires_at: 0,
        }
    }

    fn service(
        users: MockUserRepository,
        sessions: MockSessionRepository,
        hasher: MockPasswordHasher,
    ) -> UserAdminService {
        UserAdminService::new(AuthPorts {
            users: Arc::new(users),
            roles: Arc::new(MockRoleRepository::new()),
            sessions: Arc::new(sessions),
            attempts: Arc::new(MockLoginAttemptRepository::new()),
            hasher: Arc::new(hasher),
            tokens: Arc::new(MockTokenCodec::new()),
        })
    }

    #[tokio::test]
    async fn an_admin_changes_nothing_of_a_ceo() {
        let mut users = MockUserRepository::new();
        users.expect_find_by_id().returning(|id| Ok(Some(user(id, CEO))));
        users.expect_update().never();
        let svc = service(users, MockSessionRepository::new(), MockPasswordHasher::new());
        for patch in [
            UserPatch { password: Some("Another-Long-Secret".into()), ..UserPatch::default() },
            UserPatch { email: Some("x@evil.example".into()), ..UserPatch::default() },
            UserPatch { first_name: Some("X".into()), ..UserPatch::default() },
        ] {
            let err = svc.update(&principal(2, "admin"), 1, patch).await.unwrap_err();
            assert!(matches!(err, ManagementError::Forbidden(_)), "{err:?}");
        }
        assert!(matches!(svc.deactivate(&principal(2, "admin"), 1).await, Err(ManagementError::Forbidden(_))));
    }

    #[tokio::test]
    async fn a_new_password_ends_the_other_sessions_and_keeps_the_callers_own() {
        let mut users = MockUserRepository::new();
        users.expect_find_by_id().returning(|id| Ok(Some(user(id, "admin"))));
        users
            .expect_find_credentials()
            .returning(|_| Ok(Some(UserCredentials { user: user(2, "admin"), password_hash: "H".into() })));
        users.expect_update().returning(|id, _, _| Ok(UpdateOutcome::Updated(user(id, "admin"))));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|p, _| Ok(p == "Current-Password-1"));
        hasher.expect_hash().returning(|_| Ok("H2".into()));
        let mut sessions = MockSessionRepository::new();
        sessions
            .expect_revoke_user_sessions()
            .withf(|id, keep, _| *id == 2 && keep.as_deref() == Some("session-2"))
            .times(1)
            .returning(|_, _, _| Ok(1));
        let svc = service(users, sessions, hasher);
        let me = principal(2, "admin");
        let without = UserPatch { password: Some("Brand-New-Secret-11".into()), ..UserPatch::default() };
        assert!(matches!(svc.update(&me, 2, without).await, Err(ManagementError::Validation { .. })));
        let with = UserPatch {
            password: Some("Brand-New-Secret-11".into()),
            current_password: Some("Current-Password-1".into()),
            ..UserPatch::default()
        };
        svc.update(&me, 2, with).await.unwrap();
    }
}
