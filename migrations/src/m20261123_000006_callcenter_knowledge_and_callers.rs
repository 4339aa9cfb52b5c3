//! The call center's knowledge base (Q&A, topics) and callers.

use crate::seed::{pk, timestamp};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Topics {
    Table,
    Id,
    Name,
    NameKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QaEntries {
    Table,
    Id,
    Title,
    Answer,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Callers {
    Table,
    Id,
    FullName,
    Phone,
    Email,
    Region,
    Language,
    CustomerId,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Topics::Table)
                    .col(pk(Topics::Id))
                    .col(ColumnDef::new(Topics::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Topics::NameKey).string_len(100).not_null().unique_key())
                    .col(timestamp(Topics::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QaEntries::Table)
                    .col(pk(QaEntries::Id))
                    .col(ColumnDef::new(QaEntries::Title).string_len(500).not_null())
                    .col(ColumnDef::new(QaEntries::Answer).text().not_null())
                    .col(ColumnDef::new(QaEntries::SearchText).text().not_null().default(""))
                    .col(timestamp(QaEntries::CreatedAt))
                    .col(timestamp(QaEntries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Callers::Table)
                    .col(ColumnDef::new(Callers::Id).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Callers::FullName).string_len(200).not_null())
                    .col(ColumnDef::new(Callers::Phone).string_len(20).not_null().unique_key())
                    .col(ColumnDef::new(Callers::Email).string_len(254).null())
                    .col(ColumnDef::new(Callers::Region).string_len(100).null())
                    .col(ColumnDef::new(Callers::Language).string_len(2).null())
                    .col(ColumnDef::new(Callers::CustomerId).big_integer().null())
                    .col(ColumnDef::new(Callers::SearchText).text().not_null().default(""))
                    .col(timestamp(Callers::CreatedAt))
                    .col(timestamp(Callers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Callers::Table, Callers::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            "CREATE INDEX ix_qa_created ON qa_entries (created_at, id)",
            "CREATE INDEX ix_callers_created ON callers (created_at, id)",
            "CREATE INDEX ix_customers_live_phone ON customers (phone) WHERE deleted_at IS NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("CREATE INDEX ix_qa_search_trgm ON qa_entries USING gin (search_text gin_trgm_ops)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP INDEX ix_customers_live_phone").await?;
        manager.drop_table(Table::drop().table(Callers::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(QaEntries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Topics::Table).to_owned()).await
    }
}
