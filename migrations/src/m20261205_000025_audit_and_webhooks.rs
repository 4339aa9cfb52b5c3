//! The audit trail (`audit_log`: every write, with who, what changed, the request and the
//! address) and outgoing webhooks: subscriptions (`webhooks`), the transactional outbox of
//! events (`webhook_events`, written in the transaction of the change) and one delivery per
//! subscribed webhook and event (`webhook_deliveries`, claimed by one replica at a time).

use crate::seed::{boolean, ident, pk, record_times, run, string, text, timestamp, timestamp_null};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn big(name: &str, default: i64) -> ColumnDef {
    ColumnDef::new(ident(name)).big_integer().not_null().default(default).take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ident("audit_log"))
                    .col(pk(ident("id")))
                    .col(timestamp(ident("at")))
                    .col(ColumnDef::new(ident("actor_id")).big_integer().null())
                    .col(string("actor_type", 10, false))
                    .col(string("entity", 50, false))
                    .col(string("entity_id", 100, false))
                    .col(string("action", 50, false))
                    .col(text("changes", false, Some("{}")))
                    .col(string("request_id", 64, true))
                    .col(string("ip", 64, true))
                    .to_owned(),
            )
            .await?;
        let mut webhooks = Table::create();
        webhooks
            .table(ident("webhooks"))
            .col(pk(ident("id")))
            .col(string("name", 200, false))
            .col(text("url", false, None))
            .col(text("events", false, Some("[]")))
            .col(string("secret", 200, false))
            .col(boolean("is_active", true))
            .col(timestamp_null(ident("last_delivery_at")))
            .col(ColumnDef::new(ident("last_status")).integer().null())
            .col(big("failure_count", 0));
        record_times(&mut webhooks);
        manager.create_table(webhooks.to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(ident("webhook_events"))
                    .col(pk(ident("id")))
                    .col(string("event", 60, false))
                    .col(string("entity_key", 120, false))
                    .col(text("payload", false, None))
                    .col(timestamp(ident("created_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ident("webhook_deliveries"))
                    .col(pk(ident("id")))
                    .col(ColumnDef::new(ident("webhook_id")).big_integer().not_null())
                    .col(ColumnDef::new(ident("event_id")).big_integer().not_null())
                    .col(string("entity_key", 120, false))
                    .col(string("status", 20, false))
                    .col(big("attempts", 0))
                    .col(timestamp(ident("next_attempt_at")))
                    .col(timestamp_null(ident("claimed_until")))
                    .col(ColumnDef::new(ident("response_code")).integer().null())
                    .col(ColumnDef::new(ident("response_ms")).big_integer().null())
                    .col(text("last_error", true, None))
                    .col(timestamp(ident("created_at")))
                    .col(timestamp_null(ident("delivered_at")))
                    .foreign_key(&mut crate::seed::fk(
                        "webhook_deliveries",
                        "webhook_id",
                        "webhooks",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut crate::seed::fk(
                        "webhook_deliveries",
                        "event_id",
                        "webhook_events",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        run(
            manager,
            &[
                "CREATE INDEX ix_audit_log_at ON audit_log (at, id)",
                "CREATE INDEX ix_audit_log_entity ON audit_log (entity, entity_id, at)",
                "CREATE INDEX ix_audit_log_actor ON audit_log (actor_id, at)",
                "CREATE INDEX ix_webhooks_live ON webhooks (is_active) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) \
                 WHERE status IN ('pending', 'retrying', 'sending')",
                "CREATE INDEX ix_webhook_deliveries_order ON webhook_deliveries (webhook_id, entity_key, id) \
                 WHERE status IN ('pending', 'retrying', 'sending')",
                "CREATE INDEX ix_webhook_deliveries_hook ON webhook_deliveries (webhook_id, id)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["webhook_deliveries", "webhook_events", "webhooks", "audit_log"] {
            manager.drop_table(Table::drop().table(ident(table)).to_owned()).await?;
        }
        Ok(())
    }
}
