//! Value objects shared by the domain crates: pagination, e-mail addresses,
//! E.164 phone numbers, per-field validation messages and the domain error.

pub mod contact;
pub mod error;
pub mod page;

pub use contact::{is_blank, normalize_email, normalize_phone};
pub use error::DomainError;
pub use page::{Page, PageRequest};

use std::collections::BTreeMap;

/// Per-field validation messages, keyed by the field name the client sent.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Adds `message` to the messages of `field`.
pub fn push_error(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors.entry(field.to_string()).or_default().push(message.into());
}
