//! Contacts: the people at an account. Their e-mail (lower-case) and phone (E.164) are
//! unique among live contacts.

use crate::error::Result;
use crate::fields::{Fields, Sent};
use crate::records::Resource;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};
use serde_json::Value;

/// Longest first or last name.
pub const MAX_NAME: usize = 150;
const MAX_TITLE: usize = 150;

/// A contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Job title.
    pub title: Option<String>,
    pub account: Option<Ref>,
    pub owner: Option<Ref>,
    pub custom_fields: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactInput {
    pub first_name: Sent<String>,
    pub last_name: Sent<String>,
    pub email: Sent<String>,
    pub phone: Sent<String>,
    pub title: Sent<String>,
    pub account: Sent<i64>,
    pub owner: Sent<i64>,
    pub custom_fields: Sent<Value>,
}

/// A checked new contact.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDraft {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub account_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// JSON text.
    pub custom_fields: String,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub title: Option<Option<String>>,
    pub account_id: Option<Option<i64>>,
    pub owner_id: Option<Option<i64>>,
    pub custom_fields: Option<String>,
}

/// The contact record kind.
pub struct Contacts;

impl Resource for Contacts {
    type Record = Contact;
    type Input = ContactInput;
    type Draft = ContactDraft;
    type Changes = ContactChanges;
    const NAME: &'static str = "Contact";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "account", kind: FilterKind::Id, about: "Account id" },
            FilterSpec { name: "title", kind: FilterKind::Text, about: "Job title, exactly" },
            FilterSpec { name: "owner", kind: FilterKind::Id, about: "Owner's user id" },
        ],
        ordering: &["first_name", "last_name", "email", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name, email, phone",
    };

    fn draft(input: ContactInput, owner: i64) -> Result<ContactDraft> {
        let mut f = Fields::new();
        let first_name = f.required_text("first_name", &input.first_name, MAX_NAME, true);
        let last_name = f.required_text("last_name", &input.last_name, MAX_NAME, true);
        let draft = ContactDraft {
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            email: f.email("email", &input.email).flatten(),
            phone: f.phone("phone", &input.phone).flatten(),
            title: f.text("title", &input.title, MAX_TITLE).flatten(),
            account_id: f.id("account", &input.account).flatten(),
            owner_id: f.id("owner", &input.owner).flatten().or(Some(owner)),
            custom_fields: f.custom_fields("custom_fields", &input.custom_fields).unwrap_or_else(|| "{}".into()),
        };
        f.finish()?;
        Ok(draft)
    }

    fn changes(input: ContactInput, replace: bool) -> Result<ContactChanges> {
        let mut f = Fields::new();
        let changes = ContactChanges {
            first_name: f.required_text("first_name", &input.first_name, MAX_NAME, replace),
            last_name: f.required_text("last_name", &input.last_name, MAX_NAME, replace),
            email: f.email("email", &input.email),
            phone: f.phone("phone", &input.phone),
            title: f.text("title", &input.title, MAX_TITLE),
            account_id: f.id("account", &input.account),
            owner_id: f.id("owner", &input.owner),
            custom_fields: f.custom_fields("custom_fields", &input.custom_fields),
        };
        f.finish()?;
        Ok(changes)
    }
}

/// Lower-cased name, e-mail and phone, for substring search.
pub fn search_text(first: &str, last: &str, email: Option<&str>, phone: Option<&str>) -> String {
    [Some(first), Some(last), email, phone].into_iter().flatten().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CrmError;

    #[test]
    fn names_are_required_and_contacts_normalised() {
        let input = ContactInput {
            first_name: Some(Some(" Jane ".into())),
            last_name: Some(Some("Smith".into())),
            email: Some(Some("Jane.Smith@NewCompany.com".into())),
            phone: Some(Some("+1-555-987-6543".into())),
            ..Default::default()
        };
        let d = Contacts::draft(input, 7).unwrap();
        assert_eq!((d.first_name.as_str(), d.owner_id), ("Jane", Some(7)));
        assert_eq!(d.email.as_deref(), Some("jane.smith@newcompany.com"));
        assert_eq!(d.phone.as_deref(), Some("+15559876543"));
        let CrmError::Validation { fields, .. } = Contacts::draft(ContactInput::default(), 7).unwrap_err() else {
            panic!()
        };
        assert!(fields.contains_key("first_name") && fields.contains_key("last_name"));
        let bad = ContactInput { email: Some(Some("not-an-address".into())), ..Default::default() };
        let CrmError::Validation { fields, .. } = Contacts::changes(bad, false).unwrap_err() else { panic!() };
        assert_eq!(fields["email"], ["Enter a valid email address."]);
    }
}
