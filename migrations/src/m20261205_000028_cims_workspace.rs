//! The CIMS workspace on the one customer record: its conversation fields (`platform`,
//! `username`, `assistant_name`, the assistant's free-text `notes`, `aisummary`, `chat_url`,
//! `recall_time`, `conversation_language`, `customer_type`), the first response to a new lead
//! (`first_status_changed_at/_to`, `first_note_at`, kept by the writes), the history of status
//! changes (`customer_status_changes`), one audio recording per customer (`customer_audio`),
//! and the client's user agent in the audit trail.

use crate::seed::{ident, pk, run, string, text, timestamp, timestamp_null};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns added to `customers`.
fn customer_columns() -> Vec<ColumnDef> {
    vec![
        string("platform", 100, true),
        string("username", 100, true),
        string("assistant_name", 100, true),
        text("notes", true, None),
        text("aisummary", true, None),
        text("chat_url", true, None),
        timestamp_null(ident("recall_time")),
        string("conversation_language", 2, true),
        string("customer_type", 20, true),
        timestamp_null(ident("first_status_changed_at")),
        string("first_status_changed_to", 50, true),
        timestamp_null(ident("first_note_at")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in customer_columns() {
            manager.alter_table(Table::alter().table(ident("customers")).add_column(&mut column).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter().table(ident("audit_log")).add_column(string("user_agent", 300, true)).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ident("customer_status_changes"))
                    .col(pk(ident("id")))
                    .col(ColumnDef::new(ident("customer_id")).big_integer().not_null())
                    .col(string("from_status", 50, true))
                    .col(string("to_status", 50, false))
                    .col(ColumnDef::new(ident("changed_by")).big_integer().null())
                    .col(timestamp(ident("changed_at")))
                    .foreign_key(&mut crate::seed::fk(
                        "customer_status_changes",
                        "customer_id",
                        "customers",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut crate::seed::fk(
                        "customer_status_changes",
                        "changed_by",
                        "users",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ident("customer_audio"))
                    .col(pk(ident("id")))
                    .col(string("file_id", 64, false))
                    .col(ColumnDef::new(ident("customer_id")).big_integer().not_null())
                    .col(string("file_name", 255, true))
                    .col(string("content_type", 100, false))
                    .col(ColumnDef::new(ident("bytes")).big_integer().not_null())
                    .col(ColumnDef::new(ident("data")).blob().not_null())
                    .col(timestamp(ident("created_at")))
                    .foreign_key(&mut crate::seed::fk(
                        "customer_audio",
                        "customer_id",
                        "customers",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        run(
            manager,
            &[
                "CREATE UNIQUE INDEX ux_customer_audio_file ON customer_audio (file_id)",
                "CREATE UNIQUE INDEX ux_customer_audio_customer ON customer_audio (customer_id)",
                "CREATE INDEX ix_customer_status_changes_customer ON customer_status_changes (customer_id, changed_at)",
                "CREATE INDEX ix_customer_status_changes_at ON customer_status_changes (changed_at)",
                "CREATE INDEX ix_customers_archived ON customers (deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL",
                "CREATE INDEX ix_activities_customer_kind ON activities (customer_id, type, created_at)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &["DROP INDEX ix_customers_archived", "DROP INDEX ix_activities_customer_kind"]).await?;
        manager.drop_table(Table::drop().table(ident("customer_audio")).to_owned()).await?;
        manager.drop_table(Table::drop().table(ident("customer_status_changes")).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(ident("audit_log")).drop_column(ident("user_agent")).to_owned())
            .await?;
        let names = [
            "platform",
            "username",
            "assistant_name",
            "notes",
            "aisummary",
            "chat_url",
            "recall_time",
            "conversation_language",
            "customer_type",
            "first_status_changed_at",
            "first_status_changed_to",
            "first_note_at",
        ];
        for name in names {
            manager.alter_table(Table::alter().table(ident("customers")).drop_column(ident(name)).to_owned()).await?;
        }
        Ok(())
    }
}
