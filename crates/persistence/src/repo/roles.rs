//! The role catalog over sea-orm.

use crate::entity::roles;
use crate::error::mgmt;
use crate::repo::statement;
use async_trait::async_trait;
use management_core::Result;
use management_core::permission::Permission;
use management_core::ports::RoleRepository;
use management_core::role::Role;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter};

#[derive(FromQueryResult)]
struct PermissionRow {
    permission: String,
}

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
        Ok(roles::Entity::find().filter(roles::Column::Name.eq(name)).one(&self.db).await.map_err(mgmt)?.map(to_role))
    }

    async fn permissions_of(&self, role: &str) -> Result<Vec<Permission>> {
        let sql = "SELECT rp.permission AS permission FROM role_permissions rp JOIN roles r ON r.id = rp.role_id \
                   WHERE r.name = $1 AND r.is_active = $2 ORDER BY rp.permission";
        let stmt = statement(self.db.get_database_backend(), sql, vec![role.into(), true.into()]);
        let rows = PermissionRow::find_by_statement(stmt).all(&self.db).await.map_err(mgmt)?;
        Ok(rows.iter().filter_map(|r| Permission::parse(&r.permission)).collect())
    }
}
