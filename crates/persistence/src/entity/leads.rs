//! `leads`: prospects, soft-deleted; e-mail and phone unique among live rows.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub lead_source: Option<String>,
    pub status: String,
    pub territory_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// JSON object, as given.
    pub custom_fields: String,
    pub converted_account_id: Option<i64>,
    pub converted_contact_id: Option<i64>,
    pub converted_deal_id: Option<i64>,
    pub converted_at: Option<DateTimeUtc>,
    /// Lower-cased name, e-mail, phone and company, for substring search.
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
