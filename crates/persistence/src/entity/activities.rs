//! `activities`: calls, e-mails, meetings and deal notes, soft-deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_name = "type")]
    pub kind: String,
    pub description: String,
    /// The account; activities about a lead alone have none.
    pub customer_id: Option<i64>,
    pub user_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub subject: Option<String>,
    pub status: String,
    pub due_date: Option<DateTimeUtc>,
    pub contact_id: Option<i64>,
    pub lead_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
