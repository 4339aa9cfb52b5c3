//! Customers: the companies and people the team sells to.

use crate::error::{CrmError, Result};
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, is_blank, normalize_email, normalize_phone, push_error};
use management_core::catalog::StatusGroup;

/// A customer as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    /// Lower-case; unique among customers that are not deleted.
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub company: Option<String>,
    /// A status name of the catalog.
    pub status: String,
    /// The v1 group of `status`.
    pub status_group: StatusGroup,
    /// Free-form estimated value, as the CRM v1 contract has it (a string).
    pub value: Option<String>,
    /// The staff user who created it.
    pub user_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Status given to a customer created without one.
pub const DEFAULT_STATUS: &str = "potential";

/// What a caller gives to create a customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewCustomer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub status: Option<String>,
    pub value: Option<String>,
}

/// A partial change; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub status: Option<String>,
    pub value: Option<Option<String>>,
}

/// Validated fields ready to store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerDraft {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub status: String,
    pub value: Option<String>,
    pub user_id: Option<i64>,
}

/// A validated change ready to store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub status: Option<String>,
    pub value: Option<Option<String>>,
}

const MAX_NAME: usize = 255;
const MAX_COMPANY: usize = 255;
const MAX_VALUE: usize = 50;

fn text(value: Option<&str>, field: &str, max: usize, errors: &mut FieldErrors) -> Option<String> {
    let v = value?.trim();
    if v.chars().count() > max {
        push_error(errors, field, format!("{field} must be at most {max} characters."));
    }
    (!v.is_empty()).then(|| v.to_string())
}

fn email(value: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let raw = value?;
    if is_blank(raw) {
        push_error(errors, "email", "E-mail cannot be blank: send null or \"\" to clear it.");
    }
    let v = raw.trim();
    if v.is_empty() {
        return None;
    }
    normalize_email(v).map_err(|m| push_error(errors, "email", m)).ok()
}

fn phone(value: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let raw = value?;
    if is_blank(raw) {
        push_error(errors, "phone", "Phone cannot be blank: send null or \"\" to clear it.");
    }
    let v = raw.trim();
    if v.is_empty() {
        return None;
    }
    normalize_phone(v).map_err(|m| push_error(errors, "phone", m)).ok()
}

fn status(value: &str) -> String {
    value.trim().to_lowercase()
}

impl NewCustomer {
    /// Normalises and validates (status existence is checked against the catalog later).
    pub fn validate(&self, user_id: Option<i64>) -> Result<CustomerDraft> {
        let mut errors = FieldErrors::new();
        let name = text(self.name.as_deref(), "name", MAX_NAME, &mut errors);
        if name.is_none() {
            push_error(&mut errors, "name", "Name is required.");
        }
        let draft = CustomerDraft {
            name: name.unwrap_or_default(),
            email: email(self.email.as_deref(), &mut errors),
            phone: phone(self.phone.as_deref(), &mut errors),
            company: text(self.company.as_deref(), "company", MAX_COMPANY, &mut errors),
            status: self
                .status
                .as_deref()
                .map(status)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_STATUS.into()),
            value: text(self.value.as_deref(), "value", MAX_VALUE, &mut errors),
            user_id,
        };
        CrmError::check(errors)?;
        Ok(draft)
    }
}

impl CustomerPatch {
    /// Normalises and validates a partial change.
    pub fn validate(&self) -> Result<CustomerChanges> {
        let mut errors = FieldErrors::new();
        let name = match self.name.as_deref().map(str::trim) {
            Some("") => {
                push_error(&mut errors, "name", "Name cannot be empty.");
                None
            }
            other => text(other, "name", MAX_NAME, &mut errors),
        };
        let status = match self.status.as_deref().map(status) {
            Some(s) if s.is_empty() => {
                push_error(&mut errors, "status", "Status cannot be empty.");
                None
            }
            other => other,
        };
        let changes = CustomerChanges {
            name,
            email: self.email.as_ref().map(|v| email(v.as_deref(), &mut errors)),
            phone: self.phone.as_ref().map(|v| phone(v.as_deref(), &mut errors)),
            company: self.company.as_ref().map(|v| text(v.as_deref(), "company", MAX_COMPANY, &mut errors)),
            status,
            value: self.value.as_ref().map(|v| text(v.as_deref(), "value", MAX_VALUE, &mut errors)),
        };
        CrmError::check(errors)?;
        Ok(changes)
    }
}

/// Orderings of the customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerSort {
    Name,
    Email,
    Company,
    Status,
    CreatedAt,
    UpdatedAt,
}

/// A sort key and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrder {
    pub key: CustomerSort,
    pub descending: bool,
}

impl Default for SortOrder {
    /// Newest first.
    fn default() -> Self {
        SortOrder { key: CustomerSort::CreatedAt, descending: true }
    }
}

/// The accepted `sort` keys, for documentation and error messages.
pub const SORT_KEYS: &str = "name, email, company, status, createdAt, updatedAt (prefix with - for descending)";

impl SortOrder {
    /// Parses `name`, `-createdAt`, ... (snake_case accepted too).
    pub fn parse(raw: &str) -> Result<SortOrder> {
        let raw = raw.trim();
        let (descending, key) = match raw.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, raw.strip_prefix('+').unwrap_or(raw)),
        };
        let key = match key {
            "name" => CustomerSort::Name,
            "email" => CustomerSort::Email,
            "company" => CustomerSort::Company,
            "status" => CustomerSort::Status,
            "createdAt" | "created_at" => CustomerSort::CreatedAt,
            "updatedAt" | "updated_at" => CustomerSort::UpdatedAt,
            _ => {
                return Err(CrmError::field("sort", format!("Unknown sort key '{raw}'; use one of: {SORT_KEYS}.")));
            }
        };
        Ok(SortOrder { key, descending })
    }
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFilter {
    /// Case-insensitive substring of name, e-mail, phone or company.
    pub search: Option<String>,
    /// A status name, or a v1 group name (`active`, `potential`, `waiting`) that matches
    /// every status of the group; any other value matches nothing.
    pub status: Option<String>,
    pub sort: SortOrder,
}

/// The text searched by `search`: the searchable fields, lower-cased.
pub fn search_text(name: &str, email: Option<&str>, phone: Option<&str>, company: Option<&str>) -> String {
    [Some(name), email, phone, company].into_iter().flatten().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_customer_is_normalised() {
        let draft = NewCustomer {
            name: Some("  Acme  ".into()),
            email: Some(" Info@ACME.uz ".into()),
            phone: Some("901234567".into()),
            company: Some("".into()),
            status: None,
            value: Some("5000".into()),
        }
        .validate(Some(3))
        .unwrap();
        assert_eq!(draft.name, "Acme");
        assert_eq!(draft.email.as_deref(), Some("info@acme.uz"));
        assert_eq!(draft.phone.as_deref(), Some("+998901234567"));
        assert_eq!(draft.company, None);
        assert_eq!(draft.status, "potential");
        assert_eq!(draft.user_id, Some(3));
    }

    #[test]
    fn invalid_customer_names_each_field() {
        let err = NewCustomer { email: Some("nope".into()), phone: Some("12".into()), ..Default::default() }
            .validate(None)
            .unwrap_err();
        let CrmError::Validation { fields, .. } = err else { panic!() };
        assert!(fields.contains_key("name") && fields.contains_key("email") && fields.contains_key("phone"));
    }

    #[test]
    fn patch_can_clear_optional_fields_but_not_the_name() {
        let changes = CustomerPatch { email: Some(None), ..Default::default() }.validate().unwrap();
        assert_eq!(changes.email, Some(None));
        assert!(CustomerPatch { name: Some(" ".into()), ..Default::default() }.validate().is_err());
    }

    #[test]
    fn whitespace_does_not_clear_contact_fields() {
        let patch = CustomerPatch {
            email: Some(Some("\u{2028}\u{2029}".into())),
            phone: Some(Some(" ".into())),
            ..Default::default()
        };
        let CrmError::Validation { fields, .. } = patch.validate().unwrap_err() else { panic!() };
        assert!(fields.contains_key("email") && fields.contains_key("phone"));
        let clear = CustomerPatch { email: Some(Some(String::new())), ..Default::default() };
        assert_eq!(clear.validate().unwrap().email, Some(None));
    }

    #[test]
    fn sort_keys() {
        assert_eq!(SortOrder::parse("-createdAt").unwrap(), SortOrder::default());
        assert_eq!(SortOrder::parse("name").unwrap(), SortOrder { key: CustomerSort::Name, descending: false });
        assert!(SortOrder::parse("password").is_err());
    }
}
