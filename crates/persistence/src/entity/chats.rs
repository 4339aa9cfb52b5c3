//! `chats`: text conversations with a caller.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub caller_id: String,
    pub status: String,
    pub topic: Option<String>,
    /// JSON array of strings.
    pub tags: String,
    pub sentiment: String,
    pub ai_summary: String,
    /// Lower-cased caller name and phone, topic, summary and tags, for substring search.
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
