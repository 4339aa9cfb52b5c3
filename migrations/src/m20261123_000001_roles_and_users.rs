//! The role catalog with its permissions (system roles seeded) and staff users.

use crate::seed::{pk, timestamp};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    Name,
    DisplayName,
    Description,
    IsActive,
    IsSystem,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RolePermissions {
    Table,
    RoleId,
    Permission,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Name,
    FirstName,
    LastName,
    Role,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

/// System roles as of this migration: name, display name, description, permissions.
const SYSTEM_ROLES: &[(&str, &str, &str, &[&str])] = &[
    ("ceo", "CEO", "Runs the company; manages catalogs and everyone", &ALL),
    (
        "admin",
        "Administrator",
        "Administers users and all data",
        &[
            "crm.read",
            "crm.write",
            "crm.delete",
            "analytics.read",
            "callcenter.read",
            "callcenter.write",
            "callcenter.delete",
            "assignments.manage",
            "users.manage",
        ],
    ),
    (
        "financial_director",
        "Financial Director",
        "Reads sales, analytics and the call center",
        &["crm.read", "analytics.read", "callcenter.read"],
    ),
    (
        "sales_manager",
        "Sales Manager",
        "Works the customers assigned to them",
        &["crm.read", "crm.write", "analytics.read"],
    ),
    (
        "supervisor",
        "Supervisor",
        "Supervises call-center operators",
        &["crm.read", "callcenter.read", "callcenter.write", "callcenter.delete", "analytics.read"],
    ),
    ("operator", "Operator", "Answers calls and chats", &["crm.read", "callcenter.read", "callcenter.write"]),
    ("member", "Member", "Team member working in the CRM", &["crm.read", "crm.write", "analytics.read"]),
    ("customer", "Customer", "A customer's own account; no back-office access", &[]),
    ("user", "User", "Self-registered CRM user", &["crm.read", "crm.write", "crm.delete", "analytics.read"]),
];

const ALL: [&str; 10] = [
    "crm.read",
    "crm.write",
    "crm.delete",
    "analytics.read",
    "callcenter.read",
    "callcenter.write",
    "callcenter.delete",
    "assignments.manage",
    "users.manage",
    "catalog.manage",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(pk(Roles::Id))
                    .col(ColumnDef::new(Roles::Name).string_len(50).not_null().unique_key())
                    .col(ColumnDef::new(Roles::DisplayName).string_len(100).not_null())
                    .col(ColumnDef::new(Roles::Description).text().null())
                    .col(ColumnDef::new(Roles::IsActive).boolean().not_null().default(true))
                    .col(ColumnDef::new(Roles::IsSystem).boolean().not_null().default(false))
                    .col(timestamp(Roles::CreatedAt))
                    .col(timestamp(Roles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RolePermissions::Table)
                    .col(ColumnDef::new(RolePermissions::RoleId).big_integer().not_null())
                    .col(ColumnDef::new(RolePermissions::Permission).string_len(50).not_null())
                    .primary_key(Index::create().col(RolePermissions::RoleId).col(RolePermissions::Permission))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RolePermissions::Table, RolePermissions::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk(Users::Id))
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null().unique_key())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).not_null())
                    .col(ColumnDef::new(Users::Name).string_len(255).not_null())
                    .col(ColumnDef::new(Users::FirstName).string_len(150).not_null().default(""))
                    .col(ColumnDef::new(Users::LastName).string_len(150).not_null().default(""))
                    .col(ColumnDef::new(Users::Role).string_len(50).not_null().default("user"))
                    .col(ColumnDef::new(Users::IsActive).boolean().not_null().default(true))
                    .col(timestamp(Users::CreatedAt))
                    .col(timestamp(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_role_active")
                    .table(Users::Table)
                    .col(Users::Role)
                    .col(Users::IsActive)
                    .to_owned(),
            )
            .await?;

        let now = chrono::Utc::now();
        for (name, display, description, permissions) in SYSTEM_ROLES {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(Roles::Table)
                        .columns([
                            Roles::Name,
                            Roles::DisplayName,
                            Roles::Description,
                            Roles::IsActive,
                            Roles::IsSystem,
                            Roles::CreatedAt,
                            Roles::UpdatedAt,
                        ])
                        .values_panic([
                            (*name).into(),
                            (*display).into(),
                            (*description).into(),
                            true.into(),
                            true.into(),
                            now.into(),
                            now.into(),
                        ])
                        .to_owned(),
                )
                .await?;
            for permission in permissions.iter() {
                let role_id = Query::select()
                    .column(Roles::Id)
                    .from(Roles::Table)
                    .and_where(Expr::col(Roles::Name).eq(*name))
                    .to_owned();
                manager
                    .exec_stmt(
                        Query::insert()
                            .into_table(RolePermissions::Table)
                            .columns([RolePermissions::RoleId, RolePermissions::Permission])
                            .select_from(role_id.clone().expr(Expr::val(*permission)).to_owned())
                            .map_err(|e| DbErr::Custom(e.to_string()))?
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RolePermissions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Roles::Table).to_owned()).await
    }
}
