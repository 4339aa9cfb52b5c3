//! The error type of every management use case.

pub use kernel::FieldErrors;

/// What can go wrong in a management use case; each surface maps it to its envelope.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ManagementError {
    /// The input is invalid; `fields` says which field and why.
    #[error("{message}")]
    Validation { message: String, fields: FieldErrors },
    /// Missing, malformed, expired or revoked credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the role lacks the permission.
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist (or is hidden from the caller).
    #[error("{0}")]
    NotFound(String),
    /// The change clashes with stored data (duplicate e-mail, last CEO, ...).
    #[error("{0}")]
    Conflict(String),
    /// A catalog entry is still used by `count` records (reported as `field`, e.g. `customers_count`).
    #[error("{message}")]
    InUse { message: String, field: &'static str, count: u64 },
    /// Too many failed attempts; retry after the given number of seconds.
    #[error("Too many failed login attempts. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    /// A dependency (database, hasher) failed; the message is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ManagementError {
    /// A validation error about a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.clone()]);
        ManagementError::Validation { message, fields }
    }

    /// A validation error from collected field messages; `None` when there are none.
    pub fn from_fields(fields: FieldErrors) -> Option<Self> {
        let first = fields.iter().next()?;
        let message = format!("{}: {}", first.0, first.1.join(" "));
        Some(ManagementError::Validation { message, fields })
    }
}

/// Infrastructure failures surface as [`ManagementError::Internal`].
pub type Result<T> = std::result::Result<T, ManagementError>;
