//! Products and their categories (a tree) of `crm-rest-api.md`.

use crate::seed::{boolean, fk, ident, pk, record_times, reference, run, string, text, trigram_index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut categories = Table::create();
        categories
            .table(ident("product_categories"))
            .col(pk(ident("id")))
            .col(string("name", 100, false))
            .col(string("name_key", 100, false))
            .col(text("description", true, None))
            .col(reference("parent_id"))
            .col(boolean("is_active", true))
            .foreign_key(&mut fk("product_categories", "parent_id", "product_categories", ForeignKeyAction::SetNull));
        record_times(&mut categories);
        manager.create_table(categories.to_owned()).await?;

        let mut products = Table::create();
        products
            .table(ident("products"))
            .col(pk(ident("id")))
            .col(string("name", 255, false))
            .col(text("description", true, None))
            .col(string("sku", 64, false))
            .col(string("sku_key", 64, false))
            .col(ColumnDef::new(ident("unit_price_cents")).big_integer().not_null().default(0))
            .col(reference("category_id"))
            .col(boolean("is_active", true))
            .col(reference("owner_id"))
            .col(text("custom_fields", false, Some("{}")))
            .col(text("search_text", false, Some("")))
            .foreign_key(&mut fk("products", "category_id", "product_categories", ForeignKeyAction::SetNull))
            .foreign_key(&mut fk("products", "owner_id", "users", ForeignKeyAction::SetNull));
        record_times(&mut products);
        manager.create_table(products.to_owned()).await?;
        run(
            manager,
            &[
                "CREATE UNIQUE INDEX ux_product_categories_name_live ON product_categories (name_key) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_product_categories_parent ON product_categories (parent_id) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_products_sku_live ON products (sku_key) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_products_live_created ON products (created_at, id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_products_live_category ON products (category_id, created_at) WHERE deleted_at IS NULL",
            ],
        )
        .await?;
        trigram_index(manager, "products", "search_text").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ident("products")).to_owned()).await?;
        manager.drop_table(Table::drop().table(ident("product_categories")).to_owned()).await
    }
}
