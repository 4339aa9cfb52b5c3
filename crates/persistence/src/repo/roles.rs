//! The role catalog over sea-orm.

use crate::entity::{role_permissions, roles};
use crate::error::{db, is_unique_violation};
use crate::repo::begin_write;
use crate::repo::catalog::{Held, Prepared};
use crate::repo::journal::{self, Change};
use crate::repo::listing;
use crate::repo::statement;
use async_trait::async_trait;
use chrono::Utc;
use management_core::ManagementError;
use management_core::Result;
use management_core::catalog::{DeleteOutcome, EntryDraft, EntryPatch};
use management_core::permission::Permission;
use management_core::ports::RoleRepository;
use management_core::role::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Set,
};

#[derive(FromQueryResult)]
struct PermissionRow {
    permission: String,
}

/// Users hold a role by name.
const HOLDERS: Held = Held { catalog: "roles", kind: "role", holders: "users", column: "role", live_only: false };

/// [`RoleRepository`] over `roles` and `role_permissions`.
#[derive(Clone)]
pub struct SqlRoles {
    db: DatabaseConnection,
}

impl SqlRoles {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlRoles { db }
    }
}

/// The domain view of a stored role.
pub fn to_role(m: roles::Model) -> Role {
    Role {
        id: m.id,
        name: m.name,
        display_name: m.display_name,
        description: m.description,
        is_active: m.is_active,
        is_system: m.is_system,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[async_trait]
impl RoleRepository for SqlRoles {
    async fn find_by_name(&self, name: &str) -> Result<Option<Role>> {
        Ok(roles::Entity::find().filter(roles::Column::Name.eq(name)).one(&self.db).await.map_err(db)?.map(to_role))
    }

    async fn permissions_of(&self, role: &str) -> Result<Vec<Permission>> {
        let sql = "SELECT rp.permission AS permission FROM role_permissions rp JOIN roles r ON r.id = rp.role_id \
                   WHERE r.name = $1 AND r.is_active = $2 ORDER BY rp.permission";
        let stmt = statement(self.db.get_database_backend(), sql, vec![role.into(), true.into()]);
        let rows = PermissionRow::find_by_statement(stmt).all(&self.db).await.map_err(db)?;
        Ok(rows.iter().filter_map(|r| Permission::parse(&r.permission)).collect())
    }

    async fn list(&self) -> Result<Vec<Role>> {
        let rows = roles::Entity::find()
            .order_by_asc(roles::Column::DisplayName)
            .order_by_asc(roles::Column::Id)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(to_role).collect())
    }

    async fn get(&self, id: i64) -> Result<Option<Role>> {
        Ok(self.role_row(id).await?.map(to_role))
    }

    async fn insert(&self, d: EntryDraft) -> Result<Role> {
        let now = Utc::now();
        let model = roles::ActiveModel {
            name: Set(d.name),
            display_name: Set(d.display_name),
            description: Set(d.description),
            is_active: Set(d.is_active),
            is_system: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = model.insert(&txn).await.map_err(|e| {
            if is_unique_violation(&e) { ManagementError::Conflict("duplicate role name".into()) } else { db(e) }
        })?;
        journal::write::<roles::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_role(stored))
    }

    async fn update(&self, id: i64, p: EntryPatch) -> Result<Option<Role>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<roles::Entity, _>(&txn, id).await? else { return Ok(None) };
        let mut model: roles::ActiveModel = current.clone().into();
        if let Some(v) = p.display_name {
            model.display_name = Set(v);
        }
        if let Some(v) = p.description {
            model.description = Set(v);
        }
        if let Some(v) = p.is_active {
            model.is_active = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<roles::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_role(stored)))
    }

    async fn delete(&self, id: i64, reassign_to: Option<String>) -> Result<DeleteOutcome> {
        let removal = match HOLDERS.prepare(&self.db, id, reassign_to.as_deref()).await? {
            Prepared::Refused(outcome) => return Ok(outcome),
            Prepared::Ready(removal) => removal,
        };
        role_permissions::Entity::delete_many()
            .filter(role_permissions::Column::RoleId.eq(id))
            .exec(&removal.txn)
            .await
            .map_err(db)?;
        HOLDERS.finish(removal, id).await
    }

    async fn permissions(&self, id: i64) -> Result<Vec<Permission>> {
        let rows = role_permissions::Entity::find()
            .filter(role_permissions::Column::RoleId.eq(id))
            .all(&self.db)
            .await
            .map_err(db)?;
        let mut permissions: Vec<Permission> = rows.iter().filter_map(|r| Permission::parse(&r.permission)).collect();
        permissions.sort();
        Ok(permissions)
    }

    async fn set_permissions(&self, id: i64, permissions: Vec<Permission>) -> Result<()> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let held: Vec<String> = role_permissions::Entity::find()
            .filter(role_permissions::Column::RoleId.eq(id))
            .all(&txn)
            .await
            .map_err(db)?
            .into_iter()
            .map(|r| r.permission)
            .collect();
        let given: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
        let change = Change::audit("role", id, "permissions_changed").with_values(
            Some(serde_json::json!({"permissions": held})),
            Some(serde_json::json!({"permissions": given})),
        );
        journal::record(&txn, change).await?;
        role_permissions::Entity::delete_many()
            .filter(role_permissions::Column::RoleId.eq(id))
            .exec(&txn)
            .await
            .map_err(db)?;
        if !permissions.is_empty() {
            let rows = permissions
                .iter()
                .map(|p| role_permissions::ActiveModel { role_id: Set(id), permission: Set(p.as_str().to_string()) });
            role_permissions::Entity::insert_many(rows).exec(&txn).await.map_err(db)?;
        }
        txn.commit().await.map_err(db)
    }
}

impl SqlRoles {
    async fn role_row(&self, id: i64) -> Result<Option<roles::Model>> {
        roles::Entity::find_by_id(id).one(&self.db).await.map_err(db)
    }
}

journal::journaled_as_stored!(roles::Entity, "role");
