//! Value objects shared by the domain crates: pagination, e-mail addresses,
//! E.164 phone numbers, per-field validation messages and the domain error.

pub mod contact;
pub mod context;
pub mod error;
pub mod listing;
pub mod names;
pub mod net;
pub mod page;
pub mod runtime;

pub use contact::{is_blank, normalize_email, normalize_phone};
pub use error::{Candidate, DomainError};
pub use listing::{FilterKind, FilterSpec, FilterValue, ListQuery, ListSpec};
pub use page::{Page, PageRequest};

use std::collections::BTreeMap;

/// A related record as lists embed it: `{id, name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub id: i64,
    pub name: String,
}

/// Per-field validation messages, keyed by the field name the client sent.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Adds `message` to the messages of `field`.
pub fn push_error(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors.entry(field.to_string()).or_default().push(message.into());
}
