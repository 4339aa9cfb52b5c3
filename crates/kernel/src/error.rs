//! The one error type of every domain use case; each surface maps it to its envelope.

use crate::FieldErrors;

/// What can go wrong in a use case.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum DomainError {
    /// The input is invalid; `fields` says which field and why.
    #[error("{message}")]
    Validation { message: String, fields: FieldErrors },
    /// Missing, malformed, expired or revoked credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist (or is hidden from the caller).
    #[error("{0}")]
    NotFound(String),
    /// The change clashes with stored data (duplicate e-mail, last CEO, ...).
    #[error("{0}")]
    Conflict(String),
    /// The record would duplicate live ones (same e-mail, phone, SKU or name); they are listed.
    #[error("{message}")]
    Duplicate { message: String, candidates: Vec<Candidate> },
    /// A catalog entry is still used by `count` records (reported as `field`, e.g. `customers_count`).
    #[error("{message}")]
    InUse { message: String, field: &'static str, count: u64 },
    /// Too many attempts; retry after the given number of seconds.
    #[error("Too many failed login attempts. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    /// Content of a type that is not accepted.
    #[error("{0}")]
    Unsupported(String),
    /// A dependency (the database, telephony, the model) is not configured or not reachable;
    /// worth retrying later.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the message is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// An existing record a new one would duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What it is: `account`, `contact`, `lead`, `product`, ...
    pub kind: &'static str,
    pub id: i64,
    pub name: String,
}

impl DomainError {
    /// A validation error about a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.clone()]);
        DomainError::Validation { message, fields }
    }

    /// A validation error from collected field messages; `None` when there are none.
    pub fn from_fields(fields: FieldErrors) -> Option<Self> {
        let (field, messages) = fields.iter().next()?;
        let message = format!("{field}: {}", messages.join(" "));
        Some(DomainError::Validation { message, fields })
    }

    /// Fails with the collected field errors, if any.
    pub fn check(fields: FieldErrors) -> Result<(), Self> {
        match DomainError::from_fields(fields) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}
