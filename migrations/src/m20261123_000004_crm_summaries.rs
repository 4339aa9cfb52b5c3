//! Exact summaries kept in step with every write, so dashboards and list totals do not
//! scan millions of rows: live counts per status/type, completed sales per UTC day, and
//! each customer's all-time completed value. Filled from existing rows here; the
//! persistence crate's `summaries::rebuild` recomputes them at any time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CrmCounters {
    Table,
    Key,
    N,
}

#[derive(DeriveIden)]
enum SalesDaily {
    Table,
    Day,
    ValueCents,
    Deals,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    CompletedCents,
}

/// The statements that recompute every summary from the rows (also run by `rebuild`).
pub fn rebuild_statements(backend: DbBackend) -> Vec<String> {
    let day = match backend {
        DbBackend::Postgres => "to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        _ => "strftime('%Y-%m-%d', closed_at)",
    };
    vec![
        "DELETE FROM crm_counters".into(),
        "INSERT INTO crm_counters (key, n) SELECT 'customers:' || status, COUNT(*) FROM customers WHERE deleted_at IS NULL GROUP BY status".into(),
        "INSERT INTO crm_counters (key, n) SELECT 'deals:' || status, COUNT(*) FROM deals WHERE deleted_at IS NULL GROUP BY status".into(),
        "INSERT INTO crm_counters (key, n) SELECT 'activities:' || type, COUNT(*) FROM activities WHERE deleted_at IS NULL GROUP BY type".into(),
        "DELETE FROM sales_daily".into(),
        format!(
            "INSERT INTO sales_daily (day, value_cents, deals) SELECT {day}, SUM(value_cents), COUNT(*) FROM deals \
             WHERE status = 'completed' AND deleted_at IS NULL AND closed_at IS NOT NULL GROUP BY {day}"
        ),
        "UPDATE customers SET completed_cents = COALESCE((SELECT SUM(d.value_cents) FROM deals d WHERE d.customer_id = customers.id \
         AND d.status = 'completed' AND d.deleted_at IS NULL AND d.closed_at IS NOT NULL), 0)"
            .into(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CrmCounters::Table)
                    .col(ColumnDef::new(CrmCounters::Key).string_len(120).not_null().primary_key())
                    .col(ColumnDef::new(CrmCounters::N).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SalesDaily::Table)
                    .col(ColumnDef::new(SalesDaily::Day).string_len(10).not_null().primary_key())
                    .col(ColumnDef::new(SalesDaily::ValueCents).big_integer().not_null().default(0))
                    .col(ColumnDef::new(SalesDaily::Deals).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .add_column(ColumnDef::new(Customers::CompletedCents).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            // Status lists page by (created_at, id) with index-only scans.
            "DROP INDEX ix_customers_live_status",
            "CREATE INDEX ix_customers_live_status_id ON customers (status, created_at, id) WHERE deleted_at IS NULL",
            // Top customers: candidates by all-time completed value, then their deals in the range.
            "CREATE INDEX ix_customers_completed ON customers (completed_cents, id) WHERE deleted_at IS NULL",
            "CREATE INDEX ix_deals_completed_customer ON deals (customer_id, closed_at, value_cents) WHERE status = 'completed' AND deleted_at IS NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        for sql in rebuild_statements(db.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ix_deals_completed_customer").await?;
        db.execute_unprepared("DROP INDEX ix_customers_completed").await?;
        manager
            .alter_table(Table::alter().table(Customers::Table).drop_column(Customers::CompletedCents).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(SalesDaily::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(CrmCounters::Table).to_owned()).await
    }
}
