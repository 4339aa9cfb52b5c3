//! The `pending` system role: what self-registered users get until an administrator gives
//! them a role. It grants no permission. A user who already holds a role named `pending`
//! keeps it (the existing role becomes the system role).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Roles {
    Table,
    Name,
    DisplayName,
    Description,
    IsActive,
    IsSystem,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let now = chrono::Utc::now();
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
                        "pending".into(),
                        "Pending approval".into(),
                        "Registered by themselves; sees no data until an administrator gives a role".into(),
                        true.into(),
                        true.into(),
                        now.into(),
                        now.into(),
                    ])
                    .on_conflict(OnConflict::column(Roles::Name).do_nothing().to_owned())
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Roles::Table)
                    .value(Roles::IsSystem, true)
                    .and_where(Expr::col(Roles::Name).eq("pending"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete().from_table(Roles::Table).and_where(Expr::col(Roles::Name).eq("pending")).to_owned(),
            )
            .await
    }
}
