//! Integrations: outside services with their configuration (secret values sealed with
//! AES-256-GCM under `DATA_ENCRYPTION_KEY`).

use crate::seed::{boolean, ident, pk, record_times, string, text};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(ident("integrations"))
            .col(pk(ident("id")))
            .col(string("name", 200, false))
            .col(string("integration_type", 20, false))
            .col(text("config", false, Some("{}")))
            .col(boolean("has_secrets", false))
            .col(boolean("is_active", true));
        record_times(&mut table);
        manager.create_table(table.to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ident("integrations")).to_owned()).await
    }
}
