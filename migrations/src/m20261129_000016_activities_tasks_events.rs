//! Activities as `crm-rest-api.md` has them (subject, status, due date, and a link to an
//! account, contact, lead or deal: the account becomes optional), tasks and events.
//!
//! PostgreSQL changes `activities` in place; SQLite rebuilds it (see `seed::rebuild_sqlite`).

use crate::seed::{fk, ident, pk, record_times, reference, run, string, text, timestamp, timestamp_null};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `activities` as it stands after this migration, named `activities_new` (SQLite).
fn activities_table() -> String {
    let name = "activities_new";
    Table::create()
        .table(ident(name))
        .col(pk(ident("id")))
        .col(string("type", 20, false))
        .col(text("description", false, None))
        .col(reference("customer_id"))
        .col(reference("user_id"))
        .col(timestamp(ident("created_at")))
        .col(timestamp_null(ident("deleted_at")))
        .col(string("subject", 255, true))
        .col(ColumnDef::new(ident("status")).string_len(30).not_null().default("Completed"))
        .col(timestamp_null(ident("due_date")))
        .col(reference("contact_id"))
        .col(reference("lead_id"))
        .col(reference("deal_id"))
        .col(timestamp(ident("updated_at")))
        .foreign_key(&mut fk(name, "customer_id", "customers", ForeignKeyAction::NoAction))
        .foreign_key(&mut fk(name, "user_id", "users", ForeignKeyAction::SetNull))
        .foreign_key(&mut fk(name, "contact_id", "contacts", ForeignKeyAction::SetNull))
        .foreign_key(&mut fk(name, "lead_id", "leads", ForeignKeyAction::SetNull))
        .foreign_key(&mut fk(name, "deal_id", "deals", ForeignKeyAction::SetNull))
        .to_string(SqliteQueryBuilder)
}

const ACTIVITY_INDEXES: &str = "
    CREATE INDEX ix_activities_live_created ON activities (created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX ix_activities_live_customer ON activities (customer_id, created_at) WHERE deleted_at IS NULL;
    CREATE INDEX ix_activities_live_type ON activities (type, created_at) WHERE deleted_at IS NULL;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                let columns = "id, type, description, customer_id, user_id, created_at, deleted_at";
                let copy = format!(
                    "INSERT INTO activities_new ({columns}, updated_at) SELECT {columns}, created_at FROM activities"
                );
                crate::seed::rebuild_sqlite(manager, "activities", &activities_table(), &copy, ACTIVITY_INDEXES)
                    .await?;
            }
            _ => {
                run(
                    manager,
                    &[
                        "ALTER TABLE activities ALTER COLUMN customer_id DROP NOT NULL",
                        "ALTER TABLE activities ADD COLUMN subject VARCHAR(255) NULL",
                        "ALTER TABLE activities ADD COLUMN status VARCHAR(30) NOT NULL DEFAULT 'Completed'",
                        "ALTER TABLE activities ADD COLUMN due_date TIMESTAMPTZ NULL",
                        "ALTER TABLE activities ADD COLUMN contact_id BIGINT NULL REFERENCES contacts (id) ON DELETE SET NULL",
                        "ALTER TABLE activities ADD COLUMN lead_id BIGINT NULL REFERENCES leads (id) ON DELETE SET NULL",
                        "ALTER TABLE activities ADD COLUMN deal_id BIGINT NULL REFERENCES deals (id) ON DELETE SET NULL",
                        "ALTER TABLE activities ADD COLUMN updated_at TIMESTAMPTZ NULL",
                        "UPDATE activities SET updated_at = created_at",
                        "ALTER TABLE activities ALTER COLUMN updated_at SET NOT NULL",
                    ],
                )
                .await?;
            }
        }

        let mut tasks = Table::create();
        tasks
            .table(ident("tasks"))
            .col(pk(ident("id")))
            .col(string("title", 255, false))
            .col(text("description", true, None))
            .col(timestamp_null(ident("due_date")))
            .col(string("status", 30, false))
            .col(string("priority", 20, false))
            .col(reference("owner_id"))
            .col(reference("account_id"))
            .col(reference("contact_id"))
            .col(reference("deal_id"))
            .col(timestamp_null(ident("completed_at")))
            .col(text("completion_notes", true, None))
            .foreign_key(&mut fk("tasks", "owner_id", "users", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("tasks", "account_id", "customers", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("tasks", "contact_id", "contacts", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("tasks", "deal_id", "deals", ForeignKeyAction::SetNull));
        record_times(&mut tasks);
        manager.create_table(tasks.to_owned()).await?;

        let mut events = Table::create();
        events
            .table(ident("events"))
            .col(pk(ident("id")))
            .col(string("title", 255, false))
            .col(text("description", true, None))
            .col(timestamp(ident("start_date")))
            .col(timestamp(ident("end_date")))
            .col(string("location", 255, true))
            .col(reference("owner_id"))
            .foreign_key(&mut fk("events", "owner_id", "users", ForeignKeyAction::SetNull));
        record_times(&mut events);
        manager.create_table(events.to_owned()).await?;

        run(
            manager,
            &[
                "CREATE INDEX ix_activities_live_status ON activities (status, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_activities_live_owner ON activities (user_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_activities_live_contact ON activities (contact_id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_activities_live_lead ON activities (lead_id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_activities_live_deal ON activities (deal_id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_tasks_live_created ON tasks (created_at, id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_tasks_live_owner ON tasks (owner_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_tasks_live_due ON tasks (due_date) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_events_live_created ON events (created_at, id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_events_live_range ON events (start_date, end_date) WHERE deleted_at IS NULL",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ident("events")).to_owned()).await?;
        manager.drop_table(Table::drop().table(ident("tasks")).to_owned()).await?;
        Err(DbErr::Migration("activities keep their REST columns: restore a backup to go below migration 16".into()))
    }
}
