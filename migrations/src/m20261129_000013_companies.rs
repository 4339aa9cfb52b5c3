//! Companies (`crm-rest-api.md`): the organisations users belong to, each membership with a
//! role. The data stays one organisation's (decision 0011): a membership grants no data
//! permission, the user's system role does.

use crate::seed::{boolean, fk, ident, pk, record_times, reference, run, string, text, timestamp};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut companies = Table::create();
        companies
            .table(ident("companies"))
            .col(pk(ident("id")))
            .col(string("name", 200, false))
            .col(string("name_key", 200, false))
            .col(text("description", true, None))
            .col(string("industry", 100, true))
            .col(string("website", 255, true))
            .col(string("phone", 20, true))
            .col(string("email", 254, true))
            .col(boolean("is_active", true))
            .col(reference("owner_id"))
            .foreign_key(&mut fk("companies", "owner_id", "users", ForeignKeyAction::SetNull));
        record_times(&mut companies);
        manager.create_table(companies.to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(ident("company_members"))
                    .col(pk(ident("id")))
                    .col(ColumnDef::new(ident("company_id")).big_integer().not_null())
                    .col(ColumnDef::new(ident("user_id")).big_integer().not_null())
                    .col(string("role", 20, false))
                    .col(timestamp(ident("created_at")))
                    .foreign_key(&mut fk("company_members", "company_id", "companies", ForeignKeyAction::Cascade))
                    .foreign_key(&mut fk("company_members", "user_id", "users", ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        run(
            manager,
            &[
                "CREATE UNIQUE INDEX ux_companies_name_live ON companies (name_key) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_companies_live_created ON companies (created_at, id) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_company_members ON company_members (company_id, user_id)",
                "CREATE INDEX ix_company_members_user ON company_members (user_id)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ident("company_members")).to_owned()).await?;
        manager.drop_table(Table::drop().table(ident("companies")).to_owned()).await
    }
}
