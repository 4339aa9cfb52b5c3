//! Managing the status and role catalogs: reading needs a signed-in user, changing needs
//! `catalog.manage` (the CEO).

use crate::catalog::{DeleteOutcome, EntryPatch, NewEntry, Status};
use crate::error::{ManagementError, Result};
use crate::permission::Permission;
use crate::ports::{RoleRepository, StatusRepository};
use crate::principal::Principal;
use crate::role::{CEO, Role};
use std::sync::Arc;

/// Status and role catalog use cases.
pub struct CatalogService {
    statuses: Arc<dyn StatusRepository>,
    roles: Arc<dyn RoleRepository>,
}

/// A role with the permissions it grants.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleWithPermissions {
    pub role: Role,
    pub permissions: Vec<Permission>,
}

fn only_ceo(by: &Principal) -> Result<()> {
    by.require(Permission::CatalogManage)
        .map_err(|_| ManagementError::Forbidden("Only the CEO can change the catalogs.".into()))
}

fn duplicate(kind: &str, name: &str, err: ManagementError) -> ManagementError {
    match err {
        ManagementError::Conflict(_) => {
            ManagementError::field("name", format!("A {kind} named '{name}' already exists."))
        }
        other => other,
    }
}

fn delete_result(kind: &str, outcome: DeleteOutcome, field: &'static str, target: Option<&str>) -> Result<()> {
    match outcome {
        DeleteOutcome::Deleted => Ok(()),
        DeleteOutcome::NotFound => Err(ManagementError::NotFound(format!("{kind} not found"))),
        DeleteOutcome::InUse(count) => Err(ManagementError::InUse {
            message: format!(
                "This {kind} is used by {count} record(s); pass ?reassign_to=<name> to move them to another active {kind} first."
            ),
            field,
            count,
        }),
        DeleteOutcome::BadTarget => Err(ManagementError::field(
            "reassign_to",
            format!("'{}' is not another active {kind}.", target.unwrap_or_default()),
        )),
    }
}

impl CatalogService {
    pub fn new(statuses: Arc<dyn StatusRepository>, roles: Arc<dyn RoleRepository>) -> Self {
        CatalogService { statuses, roles }
    }

    pub async fn statuses(&self, _by: &Principal) -> Result<Vec<Status>> {
        self.statuses.list().await
    }

    pub async fn create_status(&self, by: &Principal, new: NewEntry) -> Result<Status> {
        only_ceo(by)?;
        let draft = new.validate()?;
        let name = draft.name.clone();
        self.statuses.insert(draft).await.map_err(|e| duplicate("status", &name, e))
    }

    pub async fn update_status(&self, by: &Principal, id: i64, patch: EntryPatch) -> Result<Status> {
        only_ceo(by)?;
        let current =
            self.statuses.get(id).await?.ok_or_else(|| ManagementError::NotFound(format!("Status {id} not found")))?;
        let patch = patch.without_identity(&current.name, current.is_system)?.validate()?;
        self.statuses
            .update(id, patch)
            .await?
            .ok_or_else(|| ManagementError::NotFound(format!("Status {id} not found")))
    }

    /// Deletes a status; system statuses stay, and one still in use needs `reassign_to`.
    pub async fn delete_status(&self, by: &Principal, id: i64, reassign_to: Option<String>) -> Result<()> {
        only_ceo(by)?;
        let status =
            self.statuses.get(id).await?.ok_or_else(|| ManagementError::NotFound(format!("Status {id} not found")))?;
        if status.is_system {
            return Err(ManagementError::Forbidden(format!(
                "'{}' is a system status and cannot be deleted.",
                status.name
            )));
        }
        let target = reassign_to.map(|t| crate::catalog::normalize_name(&t));
        let outcome = self.statuses.delete(id, target.clone()).await?;
        delete_result("status", outcome, "customers_count", target.as_deref())
    }

    pub async fn roles(&self, _by: &Principal) -> Result<Vec<RoleWithPermissions>> {
        let roles = self.roles.list().await?;
        let mut out = Vec::with_capacity(roles.len());
        for role in roles {
            let permissions = self.roles.permissions(role.id).await?;
            out.push(RoleWithPermissions { role, permissions });
        }
        Ok(out)
    }

    /// Creates a role; it grants nothing until permissions are set.
    pub async fn create_role(&self, by: &Principal, new: NewEntry) -> Result<RoleWithPermissions> {
        only_ceo(by)?;
        let draft = new.validate()?;
        let name = draft.name.clone();
        let role = self.roles.insert(draft).await.map_err(|e| duplicate("role", &name, e))?;
        Ok(RoleWithPermissions { role, permissions: Vec::new() })
    }

    pub async fn update_role(&self, by: &Principal, id: i64, patch: EntryPatch) -> Result<RoleWithPermissions> {
        only_ceo(by)?;
        let current = self.find_role(id).await?;
        let patch = patch.without_identity(&current.name, current.is_system)?.validate()?;
        if current.name == CEO && patch.is_active == Some(false) {
            return Err(ManagementError::Forbidden("The ceo role cannot be deactivated.".into()));
        }
        let role = self.roles.update(id, patch).await?.ok_or_else(|| role_not_found(id))?;
        let permissions = self.roles.permissions(id).await?;
        Ok(RoleWithPermissions { role, permissions })
    }

    /// Deletes a role; system roles stay, and one still held needs `reassign_to`.
    pub async fn delete_role(&self, by: &Principal, id: i64, reassign_to: Option<String>) -> Result<()> {
        only_ceo(by)?;
        let role = self.find_role(id).await?;
        if role.is_system {
            return Err(ManagementError::Forbidden(format!("'{}' is a system role and cannot be deleted.", role.name)));
        }
        let target = reassign_to.map(|t| crate::catalog::normalize_name(&t));
        let outcome = self.roles.delete(id, target.clone()).await?;
        delete_result("role", outcome, "users_count", target.as_deref())
    }

    pub async fn role_permissions(&self, _by: &Principal, id: i64) -> Result<Vec<Permission>> {
        self.find_role(id).await?;
        self.roles.permissions(id).await
    }

    /// Replaces a role's permissions with names from the fixed set; the ceo role keeps all.
    pub async fn set_role_permissions(&self, by: &Principal, id: i64, names: Vec<String>) -> Result<Vec<Permission>> {
        only_ceo(by)?;
        let role = self.find_role(id).await?;
        if role.name == CEO {
            return Err(ManagementError::Forbidden("The ceo role always grants every permission.".into()));
        }
        let unknown: Vec<&str> = names.iter().map(String::as_str).filter(|n| Permission::parse(n).is_none()).collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
            return Err(ManagementError::field(
                "permissions",
                format!("Unknown permission(s): {}. Known: {}.", unknown.join(", "), known.join(", ")),
            ));
        }
        let mut permissions: Vec<Permission> = names.iter().filter_map(|n| Permission::parse(n)).collect();
        permissions.sort();
        permissions.dedup();
        self.roles.set_permissions(id, permissions.clone()).await?;
        Ok(permissions)
    }

    async fn find_role(&self, id: i64) -> Result<Role> {
        self.roles.get(id).await?.ok_or_else(|| role_not_found(id))
    }
}

fn role_not_found(id: i64) -> ManagementError {
    ManagementError::NotFound(format!("Role {id} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockRoleRepository, MockStatusRepository};
    use chrono::Utc;
    use mockall::predicate::eq;

    fn principal(permissions: &[Permission]) -> Principal {
        Principal {
            user_id: 1,
            role: "x".into(),
            permissions: permissions.to_vec(),
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        }
    }

    fn status(system: bool) -> Status {
        let t = Utc::now();
        Status {
            id: 3,
            name: "on_hold".into(),
            display_name: "On Hold".into(),
            description: None,
            color: "#FFA500".into(),
            order: 10,
            group: crate::catalog::StatusGroup::Waiting,
            is_active: true,
            is_system: system,
            created_at: t,
            updated_at: t,
        }
    }

    fn service(statuses: MockStatusRepository, roles: MockRoleRepository) -> CatalogService {
        CatalogService::new(Arc::new(statuses), Arc::new(roles))
    }

    #[tokio::test]
    async fn only_the_ceo_changes_the_catalog() {
        let mut statuses = MockStatusRepository::new();
        statuses.expect_insert().never();
        let err = service(statuses, MockRoleRepository::new())
            .create_status(
                &principal(&[Permission::UsersManage]),
                NewEntry { name: Some("x".into()), ..Default::default() },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ManagementError::Forbidden(_)));
    }

    #[tokio::test]
    async fn system_statuses_are_not_deleted_and_used_ones_report_their_count() {
        let ceo = principal(&[Permission::CatalogManage]);
        let mut statuses = MockStatusRepository::new();
        statuses.expect_get().returning(|_| Ok(Some(status(true))));
        statuses.expect_delete().never();
        assert!(matches!(
            service(statuses, MockRoleRepository::new()).delete_status(&ceo, 3, None).await,
            Err(ManagementError::Forbidden(_))
        ));

        let mut statuses = MockStatusRepository::new();
        statuses.expect_get().returning(|_| Ok(Some(status(false))));
        statuses.expect_delete().with(eq(3), eq(None)).returning(|_, _| Ok(DeleteOutcome::InUse(4)));
        let err = service(statuses, MockRoleRepository::new()).delete_status(&ceo, 3, None).await.unwrap_err();
        assert!(matches!(err, ManagementError::InUse { field: "customers_count", count: 4, .. }), "{err:?}");
    }

    #[tokio::test]
    async fn duplicate_names_are_a_validation_error() {
        let mut statuses = MockStatusRepository::new();
        statuses.expect_insert().returning(|_| Err(ManagementError::Conflict("dup".into())));
        let err = service(statuses, MockRoleRepository::new())
            .create_status(
                &principal(&[Permission::CatalogManage]),
                NewEntry { name: Some("Active".into()), ..Default::default() },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, ManagementError::Validation { ref message, .. } if message.contains("'active'")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn unknown_permissions_are_refused() {
        let mut roles = MockRoleRepository::new();
        roles.expect_get().returning(|_| {
            let t = Utc::now();
            Ok(Some(Role {
                id: 9,
                name: "pm".into(),
                display_name: "PM".into(),
                description: None,
                is_active: true,
                is_system: false,
                created_at: t,
                updated_at: t,
            }))
        });
        roles.expect_set_permissions().never();
        let err = service(MockStatusRepository::new(), roles)
            .set_role_permissions(&principal(&[Permission::CatalogManage]), 9, vec!["crm.read".into(), "fly".into()])
            .await
            .unwrap_err();
        assert!(matches!(err, ManagementError::Validation { ref message, .. } if message.contains("fly")));
    }
}
