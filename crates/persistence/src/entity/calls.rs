//! `calls`: voice calls with their outcome, transcript and AI notes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub caller_id: String,
    /// E.164.
    pub number: String,
    pub direction: String,
    pub status: String,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub duration_sec: Option<i64>,
    pub operator_name: Option<String>,
    pub recording_url: Option<String>,
    pub transcript: String,
    pub ai_summary: String,
    pub sentiment: String,
    /// JSON array of strings.
    pub tags: String,
    pub topic: Option<String>,
    pub escalated: bool,
    pub model: Option<String>,
    pub prompt: Option<String>,
    /// JSON object of the voice settings.
    pub options: Option<String>,
    #[sea_orm(unique)]
    pub provider_sid: Option<String>,
    pub session_id: Option<String>,
    /// Lower-cased number, caller name, topic, summary, tags and operator, for substring search.
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
