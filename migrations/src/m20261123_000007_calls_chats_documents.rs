//! Calls, chats with their messages, and uploaded knowledge documents.

use crate::seed::{pk, timestamp, timestamp_null};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Calls {
    Table,
    Id,
    CallerId,
    Number,
    Direction,
    Status,
    StartedAt,
    EndedAt,
    DurationSec,
    OperatorName,
    RecordingUrl,
    Transcript,
    AiSummary,
    Sentiment,
    Tags,
    Topic,
    Escalated,
    Model,
    Prompt,
    Options,
    ProviderSid,
    SessionId,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Chats {
    Table,
    Id,
    CallerId,
    Status,
    Topic,
    Tags,
    Sentiment,
    AiSummary,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChatMessages {
    Table,
    Id,
    ChatId,
    Role,
    Text,
    ResponseMs,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    Name,
    ContentType,
    Bytes,
    Data,
    Text,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Callers {
    Table,
    Id,
}

fn caller_fk(from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(Callers::Table, Callers::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Calls::Table)
                    .col(ColumnDef::new(Calls::Id).string_len(40).not_null().primary_key())
                    .col(ColumnDef::new(Calls::CallerId).string_len(64).not_null())
                    .col(ColumnDef::new(Calls::Number).string_len(20).not_null())
                    .col(ColumnDef::new(Calls::Direction).string_len(8).not_null())
                    .col(ColumnDef::new(Calls::Status).string_len(12).not_null())
                    .col(timestamp(Calls::StartedAt))
                    .col(timestamp_null(Calls::EndedAt))
                    .col(ColumnDef::new(Calls::DurationSec).big_integer().null())
                    .col(ColumnDef::new(Calls::OperatorName).string_len(200).null())
                    .col(ColumnDef::new(Calls::RecordingUrl).string_len(1000).null())
                    .col(ColumnDef::new(Calls::Transcript).text().not_null().default(""))
                    .col(ColumnDef::new(Calls::AiSummary).text().not_null().default(""))
                    .col(ColumnDef::new(Calls::Sentiment).string_len(8).not_null().default("neutral"))
                    .col(ColumnDef::new(Calls::Tags).text().not_null().default("[]"))
                    .col(ColumnDef::new(Calls::Topic).string_len(100).null())
                    .col(ColumnDef::new(Calls::Escalated).boolean().not_null().default(false))
                    .col(ColumnDef::new(Calls::Model).string_len(100).null())
                    .col(ColumnDef::new(Calls::Prompt).text().null())
                    .col(ColumnDef::new(Calls::Options).text().null())
                    .col(ColumnDef::new(Calls::ProviderSid).string_len(64).null().unique_key())
                    .col(ColumnDef::new(Calls::SessionId).string_len(64).null())
                    .col(ColumnDef::new(Calls::SearchText).text().not_null().default(""))
                    .col(timestamp(Calls::CreatedAt))
                    .col(timestamp(Calls::UpdatedAt))
                    .foreign_key(&mut caller_fk(Calls::Table, Calls::CallerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Chats::Table)
                    .col(ColumnDef::new(Chats::Id).string_len(40).not_null().primary_key())
                    .col(ColumnDef::new(Chats::CallerId).string_len(64).not_null())
                    .col(ColumnDef::new(Chats::Status).string_len(12).not_null())
                    .col(ColumnDef::new(Chats::Topic).string_len(100).null())
                    .col(ColumnDef::new(Chats::Tags).text().not_null().default("[]"))
                    .col(ColumnDef::new(Chats::Sentiment).string_len(8).not_null().default("neutral"))
                    .col(ColumnDef::new(Chats::AiSummary).text().not_null().default(""))
                    .col(ColumnDef::new(Chats::SearchText).text().not_null().default(""))
                    .col(timestamp(Chats::CreatedAt))
                    .col(timestamp(Chats::UpdatedAt))
                    .foreign_key(&mut caller_fk(Chats::Table, Chats::CallerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChatMessages::Table)
                    .col(ColumnDef::new(ChatMessages::Id).string_len(40).not_null().primary_key())
                    .col(ColumnDef::new(ChatMessages::ChatId).string_len(40).not_null())
                    .col(ColumnDef::new(ChatMessages::Role).string_len(8).not_null())
                    .col(ColumnDef::new(ChatMessages::Text).text().not_null())
                    .col(ColumnDef::new(ChatMessages::ResponseMs).big_integer().null())
                    .col(timestamp(ChatMessages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatMessages::Table, ChatMessages::ChatId)
                            .to(Chats::Table, Chats::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(pk(Documents::Id))
                    .col(ColumnDef::new(Documents::Name).string_len(255).not_null())
                    .col(ColumnDef::new(Documents::ContentType).string_len(100).not_null())
                    .col(ColumnDef::new(Documents::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(Documents::Data).blob().not_null())
                    .col(ColumnDef::new(Documents::Text).text().null())
                    .col(timestamp(Documents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            "CREATE INDEX ix_calls_started ON calls (started_at, id)",
            "CREATE INDEX ix_calls_status_started ON calls (status, started_at)",
            "CREATE INDEX ix_calls_number_started ON calls (number, started_at)",
            "CREATE INDEX ix_calls_caller ON calls (caller_id)",
            "CREATE INDEX ix_calls_topic ON calls (topic)",
            "CREATE INDEX ix_chats_updated ON chats (updated_at, id)",
            "CREATE INDEX ix_chats_status_updated ON chats (status, updated_at)",
            "CREATE INDEX ix_chats_created ON chats (created_at)",
            "CREATE INDEX ix_chats_caller ON chats (caller_id)",
            "CREATE INDEX ix_chat_messages_chat ON chat_messages (chat_id, created_at)",
            "CREATE INDEX ix_chat_messages_replies ON chat_messages (created_at) WHERE response_ms IS NOT NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        if db.get_database_backend() == DbBackend::Postgres {
            for table in ["calls", "chats"] {
                db.execute_unprepared(&format!(
                    "CREATE INDEX ix_{table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["documents", "chat_messages", "chats", "calls"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
