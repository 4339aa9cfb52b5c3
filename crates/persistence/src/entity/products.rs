//! `products`: products with a unique SKU (`sku_key`, lower case), soft-deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub sku: String,
    pub sku_key: String,
    /// In hundredths.
    pub unit_price_cents: i64,
    pub category_id: Option<i64>,
    pub is_active: bool,
    pub owner_id: Option<i64>,
    pub custom_fields: String,
    /// Lower-cased name, description and SKU.
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
