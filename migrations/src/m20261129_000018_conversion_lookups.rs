//! An index for what a lead conversion looks up before writing: live accounts by lower-cased
//! name (the company a lead names; e-mail and phone are indexed already).

use crate::seed::run;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &["CREATE INDEX ix_customers_live_name_key ON customers (LOWER(name)) WHERE deleted_at IS NULL"])
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &["DROP INDEX IF EXISTS ix_customers_live_name_key"]).await
    }
}
