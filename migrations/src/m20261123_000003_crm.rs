//! The customer-status catalog (system statuses seeded), customers, deals and activities.
//!
//! Deal values are stored as integer minor units (`value_cents`): exact on both engines
//! (SQLite has no exact decimal type). Records are soft-deleted (`deleted_at`); list and
//! analytics indexes are partial over live rows. On PostgreSQL a trigram index serves
//! substring search.

use crate::seed::{pk, timestamp, timestamp_null};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerStatuses {
    Table,
    Id,
    Name,
    DisplayName,
    Description,
    Color,
    SortOrder,
    IsActive,
    IsSystem,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    Name,
    Email,
    Phone,
    Company,
    Status,
    Value,
    SearchText,
    UserId,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Deals {
    Table,
    Id,
    Title,
    Description,
    ValueCents,
    Status,
    CustomerId,
    UserId,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    Type,
    Description,
    CustomerId,
    UserId,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

/// System statuses: name, display name, description, colour.
const SYSTEM_STATUSES: [(&str, &str, &str, &str); 9] = [
    ("active", "Active", "A paying, active customer", "#22C55E"),
    ("potential", "Potential", "A lead that may become a customer", "#3B82F6"),
    ("waiting", "Waiting", "Waiting for the customer's answer", "#F59E0B"),
    ("contacted", "Contacted", "First contact made", "#06B6D4"),
    ("project_started", "Project Started", "Converted: the project has started", "#8B5CF6"),
    ("continuing", "Continuing", "Work with the customer continues", "#6366F1"),
    ("finished", "Finished", "The project is finished", "#10B981"),
    ("rejected", "Rejected", "The lead declined", "#EF4444"),
    ("need_to_call", "Need to Call", "Someone must call back", "#F97316"),
];

fn owner_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, col).to(Users::Table, Users::Id).on_delete(ForeignKeyAction::SetNull).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerStatuses::Table)
                    .col(pk(CustomerStatuses::Id))
                    .col(ColumnDef::new(CustomerStatuses::Name).string_len(50).not_null().unique_key())
                    .col(ColumnDef::new(CustomerStatuses::DisplayName).string_len(100).not_null())
                    .col(ColumnDef::new(CustomerStatuses::Description).text().null())
                    .col(ColumnDef::new(CustomerStatuses::Color).string_len(7).not_null())
                    .col(ColumnDef::new(CustomerStatuses::SortOrder).integer().not_null().default(0))
                    .col(ColumnDef::new(CustomerStatuses::IsActive).boolean().not_null().default(true))
                    .col(ColumnDef::new(CustomerStatuses::IsSystem).boolean().not_null().default(false))
                    .col(timestamp(CustomerStatuses::CreatedAt))
                    .col(timestamp(CustomerStatuses::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let now = chrono::Utc::now();
        for (i, (name, display, description, color)) in SYSTEM_STATUSES.iter().enumerate() {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(CustomerStatuses::Table)
                        .columns([
                            CustomerStatuses::Name,
                            CustomerStatuses::DisplayName,
                            CustomerStatuses::Description,
                            CustomerStatuses::Color,
                            CustomerStatuses::SortOrder,
                            CustomerStatuses::IsActive,
                            CustomerStatuses::IsSystem,
                            CustomerStatuses::CreatedAt,
                            CustomerStatuses::UpdatedAt,
                        ])
                        .values_panic([
                            (*name).into(),
                            (*display).into(),
                            (*description).into(),
                            (*color).into(),
                            (i as i32 + 1).into(),
                            true.into(),
                            true.into(),
                            now.into(),
                            now.into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(pk(Customers::Id))
                    .col(ColumnDef::new(Customers::Name).string_len(255).not_null())
                    .col(ColumnDef::new(Customers::Email).string_len(254).null())
                    .col(ColumnDef::new(Customers::Phone).string_len(20).null())
                    .col(ColumnDef::new(Customers::Company).string_len(255).null())
                    .col(ColumnDef::new(Customers::Status).string_len(50).not_null().default("potential"))
                    .col(ColumnDef::new(Customers::Value).string_len(50).null())
                    .col(ColumnDef::new(Customers::SearchText).text().not_null().default(""))
                    .col(ColumnDef::new(Customers::UserId).big_integer().null())
                    .col(timestamp(Customers::CreatedAt))
                    .col(timestamp(Customers::UpdatedAt))
                    .col(timestamp_null(Customers::DeletedAt))
                    .foreign_key(&mut owner_fk(Customers::Table, Customers::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deals::Table)
                    .col(pk(Deals::Id))
                    .col(ColumnDef::new(Deals::Title).string_len(255).not_null())
                    .col(ColumnDef::new(Deals::Description).text().null())
                    .col(ColumnDef::new(Deals::ValueCents).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Deals::Status).string_len(20).not_null().default("new"))
                    .col(ColumnDef::new(Deals::CustomerId).big_integer().not_null())
                    .col(ColumnDef::new(Deals::UserId).big_integer().null())
                    .col(timestamp_null(Deals::ClosedAt))
                    .col(timestamp(Deals::CreatedAt))
                    .col(timestamp(Deals::UpdatedAt))
                    .col(timestamp_null(Deals::DeletedAt))
                    .foreign_key(
                        ForeignKey::create().from(Deals::Table, Deals::CustomerId).to(Customers::Table, Customers::Id),
                    )
                    .foreign_key(&mut owner_fk(Deals::Table, Deals::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(pk(Activities::Id))
                    .col(ColumnDef::new(Activities::Type).string_len(20).not_null())
                    .col(ColumnDef::new(Activities::Description).text().not_null())
                    .col(ColumnDef::new(Activities::CustomerId).big_integer().not_null())
                    .col(ColumnDef::new(Activities::UserId).big_integer().null())
                    .col(timestamp(Activities::CreatedAt))
                    .col(timestamp_null(Activities::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Activities::Table, Activities::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .foreign_key(&mut owner_fk(Activities::Table, Activities::UserId))
                    .to_owned(),
            )
            .await?;

        // Partial indexes over live rows; the same syntax works on PostgreSQL and SQLite.
        let db = manager.get_connection();
        for sql in [
            "CREATE UNIQUE INDEX ux_customers_email_live ON customers (email) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_customers_live_created ON customers (created_at, id) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_customers_live_status ON customers (status, created_at) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_customers_live_name ON customers (name, id) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_deals_live_created ON deals (created_at, id) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_deals_live_customer ON deals (customer_id, created_at) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_deals_live_status ON deals (status, created_at) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_deals_completed ON deals (closed_at, value_cents, customer_id) WHERE status = 'completed' AND deleted_at IS NULL",
            "CREATE INDEX ix_activities_live_created ON activities (created_at, id) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_activities_live_customer ON activities (customer_id, created_at) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_activities_live_type ON activities (type, created_at) WHERE deleted_at IS NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
            db.execute_unprepared(
                "CREATE INDEX ix_customers_search_trgm ON customers USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Activities::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Deals::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Customers::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(CustomerStatuses::Table).to_owned()).await
    }
}
