//! `deals`: deals with their value in minor units, soft-deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    /// The value in hundredths (exact on every engine).
    pub value_cents: i64,
    pub status: String,
    pub customer_id: i64,
    pub user_id: Option<i64>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub contact_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub expected_close_date: Option<Date>,
    pub probability: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
