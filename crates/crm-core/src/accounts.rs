//! Accounts: the REST projection of the one customer record (`/api/v1/customers`,
//! management customers), with the fields `crm-rest-api.md` adds: type, industry, website,
//! territory, custom fields. A new account gets the next sales manager of the rotation.

use crate::customer::DEFAULT_STATUS;
use crate::error::Result;
use crate::fields::{Fields, Sent};
use crate::records::Resource;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};
use serde_json::Value;

const MAX_NAME: usize = 255;
const MAX_TYPE: usize = 50;
const MAX_INDUSTRY: usize = 100;
const MAX_STATUS: usize = 50;

/// An account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub account_type: Option<String>,
    pub industry: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub territory: Option<Ref>,
    pub custom_fields: Value,
    pub owner: Option<Ref>,
    /// A status of the customer status catalog.
    pub status: String,
    /// Where the customer wrote from, as the CIMS workspace records it (read-only here).
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The conversation a customer came from: `platform` (telegram, instagram, ...), the handle
/// there, a link to the chat and its language. Written by the CIMS workspace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Channel {
    pub platform: Option<String>,
    pub username: Option<String>,
    pub chat_url: Option<String>,
    pub conversation_language: Option<String>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountInput {
    pub name: Sent<String>,
    pub account_type: Sent<String>,
    pub industry: Sent<String>,
    pub phone: Sent<String>,
    pub email: Sent<String>,
    pub website: Sent<String>,
    pub territory: Sent<i64>,
    pub custom_fields: Sent<Value>,
    pub owner: Sent<i64>,
    pub status: Sent<String>,
}

/// A checked new account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountDraft {
    pub name: String,
    pub account_type: Option<String>,
    pub industry: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub territory_id: Option<i64>,
    /// JSON text.
    pub custom_fields: String,
    pub owner_id: Option<i64>,
    /// Checked against the active catalog statuses by the store.
    pub status: String,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub account_type: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub territory_id: Option<Option<i64>>,
    pub custom_fields: Option<String>,
    pub owner_id: Option<Option<i64>>,
    pub status: Option<String>,
}

/// The account record kind.
pub struct Accounts;

impl Resource for Accounts {
    type Record = Account;
    type Input = AccountInput;
    type Draft = AccountDraft;
    type Changes = AccountChanges;
    const NAME: &'static str = "Account";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec {
                name: "account_type",
                kind: FilterKind::Text,
                about: "Account type, exactly (`Customer`, `Prospect`, ...)",
            },
            FilterSpec { name: "industry", kind: FilterKind::Text, about: "Industry, exactly" },
            FilterSpec { name: "territory", kind: FilterKind::Id, about: "Territory id" },
            FilterSpec { name: "owner", kind: FilterKind::Id, about: "Owner's user id" },
            FilterSpec { name: "status", kind: FilterKind::Text, about: "Catalog status name" },
        ],
        ordering: &["name", "account_type", "industry", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name, email, phone",
    };

    fn draft(input: AccountInput, owner: i64) -> Result<AccountDraft> {
        let mut f = Fields::new();
        let name = f.required_text("name", &input.name, MAX_NAME, true);
        let draft = AccountDraft {
            name: name.unwrap_or_default(),
            account_type: f.text("account_type", &input.account_type, MAX_TYPE).flatten(),
            industry: f.text("industry", &input.industry, MAX_INDUSTRY).flatten(),
            phone: f.phone("phone", &input.phone).flatten(),
            email: f.email("email", &input.email).flatten(),
            website: f.url("website", &input.website).flatten(),
            territory_id: f.id("territory", &input.territory).flatten(),
            custom_fields: f.custom_fields("custom_fields", &input.custom_fields).unwrap_or_else(|| "{}".into()),
            owner_id: f.id("owner", &input.owner).flatten().or(Some(owner)),
            status: f.text("status", &input.status, MAX_STATUS).flatten().unwrap_or_else(|| DEFAULT_STATUS.into()),
        };
        f.finish()?;
        Ok(draft)
    }

    fn changes(input: AccountInput, replace: bool) -> Result<AccountChanges> {
        let mut f = Fields::new();
        let changes = AccountChanges {
            name: f.required_text("name", &input.name, MAX_NAME, replace),
            account_type: f.text("account_type", &input.account_type, MAX_TYPE),
            industry: f.text("industry", &input.industry, MAX_INDUSTRY),
            phone: f.phone("phone", &input.phone),
            email: f.email("email", &input.email),
            website: f.url("website", &input.website),
            territory_id: f.id("territory", &input.territory),
            custom_fields: f.custom_fields("custom_fields", &input.custom_fields),
            owner_id: f.id("owner", &input.owner),
            status: f.required_text("status", &input.status, MAX_STATUS, false),
        };
        f.finish()?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CrmError;

    #[test]
    fn an_account_needs_a_name_and_a_real_website() {
        let input = AccountInput {
            name: Some(Some("New Company".into())),
            website: Some(Some("https://newcompany.com".into())),
            custom_fields: Some(Some(serde_json::json!({"annual_revenue": 1000000, "employee_count": 50}))),
            ..Default::default()
        };
        let d = Accounts::draft(input, 2).unwrap();
        assert_eq!((d.status.as_str(), d.owner_id), (DEFAULT_STATUS, Some(2)));
        assert_eq!(d.custom_fields, r#"{"annual_revenue":1000000,"employee_count":50}"#);
        let bad = AccountInput { website: Some(Some("acme".into())), ..Default::default() };
        let CrmError::Validation { fields, .. } = Accounts::draft(bad, 2).unwrap_err() else { panic!() };
        assert!(fields.contains_key("name") && fields.contains_key("website"));
    }
}
