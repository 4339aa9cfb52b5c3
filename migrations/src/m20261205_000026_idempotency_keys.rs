//! Idempotent writes: the first answer to a `POST` carrying an `Idempotency-Key`, kept 24 h per
//! caller and key, replayed to repeats.

use crate::seed::{ident, run, string, text, timestamp};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ident("idempotency_keys"))
                    .col(string("scope", 100, false))
                    .col(string("key", 255, false))
                    .col(string("request_hash", 64, false))
                    .col(string("state", 10, false))
                    .col(ColumnDef::new(ident("status_code")).integer().null())
                    .col(string("content_type", 100, true))
                    .col(text("body", true, None))
                    .col(timestamp(ident("created_at")))
                    .col(timestamp(ident("expires_at")))
                    .primary_key(Index::create().col(ident("scope")).col(ident("key")))
                    .to_owned(),
            )
            .await?;
        run(manager, &["CREATE INDEX ix_idempotency_keys_expiry ON idempotency_keys (expires_at)"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ident("idempotency_keys")).to_owned()).await
    }
}
