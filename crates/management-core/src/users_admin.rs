//! Administration of staff users (list, create, change, deactivate).

use crate::auth::{AuthPorts, create_user, ensure_role_exists};
use crate::error::{ManagementError, Result};
use crate::permission::Permission;
use crate::ports::{UpdateOutcome, UserFilter};
use crate::principal::Principal;
use crate::role::CEO;
use crate::user::{NewUser, User, UserChanges, UserPatch, check_password, split_name};
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

    pub async fn create(&self, by: &Principal, new_user: NewUser) -> Result<User> {
        by.require(Permission::UsersManage)?;
        if new_user.role.as_deref().map(str::trim) == Some(CEO) && by.role != CEO {
            return Err(ManagementError::Forbidden("Only a CEO can create another CEO.".into()));
        }
        create_user(&self.ports, new_user).await
    }

    /// Creates a user without a caller (command line); the role must exist.
    pub async fn create_unchecked(&self, new_user: NewUser) -> Result<User> {
        create_user(&self.ports, new_user).await
    }

    /// Applies a partial change. Nobody can remove the last active CEO, and only a CEO can
    /// grant or take away the CEO role.
    pub async fn update(&self, by: &Principal, id: i64, patch: UserPatch) -> Result<User> {
        by.require(Permission::UsersManage)?;
        if patch.is_empty() {
            return Err(ManagementError::Validation {
                message: "Nothing to update: give at least one field.".into(),
                fields: FieldErrors::new(),
            });
        }
        let current = self.find(id).await?;
        let role = patch.role.as_deref().map(|r| r.trim().to_lowercase());
        let touches_ceo = current.role == CEO || role.as_deref() == Some(CEO);
        if touches_ceo && by.role != CEO && (role.is_some() || patch.is_active.is_some()) {
            return Err(ManagementError::Forbidden("Only a CEO can change a CEO's role or status.".into()));
        }
        if let Some(role) = &role {
            ensure_role_exists(self.ports.roles.as_ref(), role).await?;
        }
        let changes = self.validate_patch(patch, role).await?;
        self.apply(id, changes).await
    }

    /// Deactivates a user (users are never destroyed).
    pub async fn deactivate(&self, by: &Principal, id: i64) -> Result<User> {
        by.require(Permission::UsersManage)?;
        let current = self.find(id).await?;
        if current.role == CEO && by.role != CEO {
            return Err(ManagementError::Forbidden("Only a CEO can deactivate a CEO.".into()));
        }
        self.apply(id, UserChanges { is_active: Some(false), ..UserChanges::default() }).await
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

    async fn validate_patch(&self, patch: UserPatch, role: Option<String>) -> Result<UserChanges> {
        let mut errors = FieldErrors::new();
        let email = patch.email.as_deref().map(|e| {
            normalize_email(e).unwrap_or_else(|m| {
                push_error(&mut errors, "email", m);
                String::new()
            })
        });
        if let Some(password) = &patch.password {
            check_password(password, &mut errors, "password");
        }
        let trim = |v: Option<String>| v.map(|s| s.trim().to_string());
        let name = trim(patch.name);
        if name.as_deref() == Some("") {
            push_error(&mut errors, "name", "Name cannot be empty.");
        }
        if let Some(err) = ManagementError::from_fields(errors) {
            return Err(err);
        }
        let (mut first_name, mut last_name) = (trim(patch.first_name), trim(patch.last_name));
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

fn not_found(id: i64) -> ManagementError {
    ManagementError::NotFound(format!("User {id} not found"))
}
