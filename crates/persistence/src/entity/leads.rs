//! `leads`: prospects, soft-deleted; e-mail and phone unique among live rows.

use sea_orm::Set;
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
    /// The person's name as a duplicate key (`kernel::names::person_key`), kept by [`ActiveModelBehavior`].
    pub dedupe_name: Option<String>,
    /// The e-mail's company domain (none for public providers), kept likewise.
    pub email_domain: Option<String>,
    /// The company name as a duplicate key (`kernel::names::company_key`), kept likewise.
    pub dedupe_company: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    /// Keeps the duplicate keys in step with the name and e-mail.
    async fn before_save<C: ConnectionTrait>(mut self, _db: &C, _insert: bool) -> Result<Self, DbErr> {
        if let Some((first, last)) = super::keys::changed_pair(&self.first_name, &self.last_name) {
            self.dedupe_name = Set(Some(kernel::names::person_key(first, last)));
        }
        if let Some(email) = super::keys::changed(&self.email) {
            self.email_domain = Set(email.as_deref().and_then(kernel::names::company_domain));
        }
        if let Some(company) = super::keys::changed(&self.company_name) {
            self.dedupe_company = Set(company.as_deref().map(kernel::names::company_key));
        }
        Ok(self)
    }
}
