//! Each customer status belongs to one of the three groups the CRM v1 contract knows
//! (`active`, `potential`, `waiting`); the v1 projection shows the group.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerStatuses {
    Table,
    V1Group,
}

/// The groups of the seeded statuses (`docs/decisions/0008-v1-status-groups.md`).
const SEEDED_GROUPS: [(&str, &str); 9] = [
    ("active", "active"),
    ("project_started", "active"),
    ("continuing", "active"),
    ("finished", "active"),
    ("potential", "potential"),
    ("need_to_call", "potential"),
    ("waiting", "waiting"),
    ("contacted", "waiting"),
    ("rejected", "waiting"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CustomerStatuses::Table)
                    .add_column(
                        ColumnDef::new(CustomerStatuses::V1Group).string_len(20).not_null().default("potential"),
                    )
                    .to_owned(),
            )
            .await?;
        for (status, group) in SEEDED_GROUPS {
            let update = Query::update()
                .table(CustomerStatuses::Table)
                .value(CustomerStatuses::V1Group, group)
                .and_where(Expr::col(Alias::new("name")).eq(status))
                .to_owned();
            manager.exec_stmt(update).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(CustomerStatuses::Table).drop_column(CustomerStatuses::V1Group).to_owned(),
            )
            .await
    }
}
