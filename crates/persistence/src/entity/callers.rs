//! `callers`: people who call or chat with the center.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "callers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub full_name: String,
    #[sea_orm(unique)]
    pub phone: Option<String>,
    pub email: Option<String>,
    pub region: Option<String>,
    pub language: Option<String>,
    pub customer_id: Option<i64>,
    /// Lower-cased name, phone and e-mail, for substring search.
    pub search_text: String,
    /// What the assistant remembers (JSON: knownName, personalityNotes, conversationHistory).
    #[serde(skip_serializing)]
    pub ai_context: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
