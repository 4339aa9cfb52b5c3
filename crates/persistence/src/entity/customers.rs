//! `customers`: customers / accounts / leads, soft-deleted.

use sea_orm::Set;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub status: String,
    pub value: Option<String>,
    /// Lower-cased name, e-mail, phone and company, for substring search.
    pub search_text: String,
    pub user_id: Option<i64>,
    /// All-time value of the customer's completed deals, in hundredths (a summary).
    pub completed_cents: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// REST account fields.
    pub account_type: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    /// JSON object, as given.
    pub custom_fields: String,
    pub territory_id: Option<i64>,
    /// The name as a duplicate key (`kernel::names::company_key`), kept by [`ActiveModelBehavior`].
    pub dedupe_name: Option<String>,
    /// The e-mail's company domain (none for public providers), kept likewise.
    pub email_domain: Option<String>,
    /// The account this one was merged into (it is then deleted).
    pub merged_into_id: Option<i64>,
    /// CIMS workspace fields: where the conversation happens and what the assistant noted.
    pub platform: Option<String>,
    pub username: Option<String>,
    pub assistant_name: Option<String>,
    /// The assistant's free-text notes (people's notes are `activities` of type `note`).
    pub notes: Option<String>,
    pub aisummary: Option<String>,
    pub chat_url: Option<String>,
    pub recall_time: Option<DateTimeUtc>,
    /// `uz`, `ru` or `en`.
    pub conversation_language: Option<String>,
    /// `local` or `international`.
    pub customer_type: Option<String>,
    /// The first change of status after creation (a summary kept by the writes).
    pub first_status_changed_at: Option<DateTimeUtc>,
    pub first_status_changed_to: Option<String>,
    /// When the first note about the customer was written.
    pub first_note_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The catalog entry of `status`.
    #[sea_orm(
        belongs_to = "super::customer_statuses::Entity",
        from = "Column::Status",
        to = "super::customer_statuses::Column::Name"
    )]
    Status,
}

impl Related<super::customer_statuses::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Status.def()
    }
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    /// Keeps the duplicate keys in step with the name and e-mail.
    async fn before_save<C: ConnectionTrait>(mut self, _db: &C, _insert: bool) -> Result<Self, DbErr> {
        if let Some(name) = super::keys::changed(&self.name) {
            self.dedupe_name = Set(Some(kernel::names::company_key(name)));
        }
        if let Some(email) = super::keys::changed(&self.email) {
            self.email_domain = Set(email.as_deref().and_then(kernel::names::company_domain));
        }
        Ok(self)
    }
}
