//! Sales-manager assignments (history kept, at most one active per customer) and the
//! round-robin position (the last manager who received a lead).

use crate::seed::{pk, timestamp};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SalesManagerAssignments {
    Table,
    Id,
    CustomerId,
    SalesManagerId,
    AssignedAt,
    AssignedBy,
    IsActive,
}

#[derive(DeriveIden)]
enum SalesManagerCounter {
    Table,
    Id,
    LastManagerId,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SalesManagerAssignments::Table)
                    .col(pk(SalesManagerAssignments::Id))
                    .col(ColumnDef::new(SalesManagerAssignments::CustomerId).big_integer().not_null())
                    .col(ColumnDef::new(SalesManagerAssignments::SalesManagerId).big_integer().not_null())
                    .col(timestamp(SalesManagerAssignments::AssignedAt))
                    .col(ColumnDef::new(SalesManagerAssignments::AssignedBy).big_integer().null())
                    .col(ColumnDef::new(SalesManagerAssignments::IsActive).boolean().not_null().default(true))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SalesManagerAssignments::Table, SalesManagerAssignments::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SalesManagerAssignments::Table, SalesManagerAssignments::SalesManagerId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SalesManagerAssignments::Table, SalesManagerAssignments::AssignedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SalesManagerCounter::Table)
                    .col(ColumnDef::new(SalesManagerCounter::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(SalesManagerCounter::LastManagerId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            "INSERT INTO sales_manager_counter (id, last_manager_id) VALUES (1, NULL)",
            "CREATE UNIQUE INDEX ux_assignments_active_customer ON sales_manager_assignments (customer_id) WHERE is_active = TRUE",
            "CREATE INDEX ix_assignments_active_manager ON sales_manager_assignments (sales_manager_id) WHERE is_active = TRUE",
            "CREATE INDEX ix_assignments_customer ON sales_manager_assignments (customer_id, assigned_at)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SalesManagerCounter::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(SalesManagerAssignments::Table).to_owned()).await
    }
}
