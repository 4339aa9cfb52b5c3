//! `webhooks`: outgoing webhook subscriptions, soft-deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub url: String,
    /// JSON array of event patterns.
    pub events: String,
    /// Signs every delivery (HMAC-SHA256).
    pub secret: String,
    pub is_active: bool,
    pub last_delivery_at: Option<DateTimeUtc>,
    pub last_status: Option<i32>,
    /// Dead deliveries in a row.
    pub failure_count: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
