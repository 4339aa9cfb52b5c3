//! The CRM REST records around accounts: territories, the account fields `crm-rest-api.md`
//! adds to the one customer record (type, industry, website, territory, custom fields),
//! contacts (people at an account) and leads.

use crate::seed::{
    add_reference, boolean, fk, ident, pk, record_times, reference, run, string, text, timestamp_null, trigram_index,
};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut territories = Table::create();
        territories
            .table(ident("territories"))
            .col(pk(ident("id")))
            .col(string("name", 100, false))
            .col(string("name_key", 100, false))
            .col(text("description", true, None))
            .col(boolean("is_active", true));
        record_times(&mut territories);
        manager.create_table(territories.to_owned()).await?;

        for column in [string("account_type", 50, true), string("industry", 100, true), string("website", 255, true)] {
            manager.alter_table(Table::alter().table(ident("customers")).add_column(column).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ident("customers"))
                    .add_column(text("custom_fields", false, Some("{}")))
                    .to_owned(),
            )
            .await?;
        add_reference(manager, "customers", "territory_id", "territories").await?;

        let mut contacts = Table::create();
        contacts
            .table(ident("contacts"))
            .col(pk(ident("id")))
            .col(string("first_name", 150, false))
            .col(string("last_name", 150, false))
            .col(string("email", 254, true))
            .col(string("phone", 20, true))
            .col(string("title", 150, true))
            .col(reference("account_id"))
            .col(reference("owner_id"))
            .col(text("custom_fields", false, Some("{}")))
            .col(text("search_text", false, Some("")))
            .foreign_key(&mut fk("contacts", "account_id", "customers", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("contacts", "owner_id", "users", ForeignKeyAction::SetNull));
        record_times(&mut contacts);
        manager.create_table(contacts.to_owned()).await?;

        let mut leads = Table::create();
        leads
            .table(ident("leads"))
            .col(pk(ident("id")))
            .col(string("first_name", 150, false))
            .col(string("last_name", 150, false))
            .col(string("email", 254, true))
            .col(string("phone", 20, true))
            .col(string("company_name", 255, true))
            .col(string("lead_source", 100, true))
            .col(string("status", 30, false))
            .col(reference("territory_id"))
            .col(reference("owner_id"))
            .col(text("custom_fields", false, Some("{}")))
            .col(reference("converted_account_id"))
            .col(reference("converted_contact_id"))
            .col(reference("converted_deal_id"))
            .col(timestamp_null(ident("converted_at")))
            .col(text("search_text", false, Some("")))
            .foreign_key(&mut fk("leads", "territory_id", "territories", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("leads", "owner_id", "users", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("leads", "converted_account_id", "customers", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("leads", "converted_contact_id", "contacts", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("leads", "converted_deal_id", "deals", ForeignKeyAction::SetNull));
        record_times(&mut leads);
        manager.create_table(leads.to_owned()).await?;

        run(
            manager,
            &[
                "CREATE UNIQUE INDEX ux_territories_name_live ON territories (name_key) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_customers_live_territory ON customers (territory_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_customers_live_type ON customers (account_type, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_customers_live_industry ON customers (industry, created_at) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_contacts_email_live ON contacts (email) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_contacts_phone_live ON contacts (phone) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_contacts_live_created ON contacts (created_at, id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_contacts_live_account ON contacts (account_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_contacts_live_title ON contacts (title, created_at) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_leads_email_live ON leads (email) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_leads_phone_live ON leads (phone) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_leads_live_created ON leads (created_at, id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_leads_live_status ON leads (status, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_leads_live_source ON leads (lead_source, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_leads_live_territory ON leads (territory_id, created_at) WHERE deleted_at IS NULL",
            ],
        )
        .await?;
        trigram_index(manager, "contacts", "search_text").await?;
        trigram_index(manager, "leads", "search_text").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ident("leads")).to_owned()).await?;
        manager.drop_table(Table::drop().table(ident("contacts")).to_owned()).await?;
        run(
            manager,
            &[
                "DROP INDEX IF EXISTS ix_customers_live_territory",
                "DROP INDEX IF EXISTS ix_customers_live_type",
                "DROP INDEX IF EXISTS ix_customers_live_industry",
            ],
        )
        .await?;
        for column in ["territory_id", "custom_fields", "website", "industry", "account_type"] {
            manager.alter_table(Table::alter().table(ident("customers")).drop_column(ident(column)).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ident("territories")).to_owned()).await
    }
}
