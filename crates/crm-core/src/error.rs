//! The error type of every CRM use case.

use kernel::FieldErrors;
use management_core::ManagementError;

/// What can go wrong in a CRM use case; each surface maps it to its envelope.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CrmError {
    /// Invalid input; `fields` says which field and why.
    #[error("{message}")]
    Validation { message: String, fields: FieldErrors },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Clashes with stored data (duplicate e-mail, ...).
    #[error("{0}")]
    Conflict(String),
    /// A dependency failed; the message is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CrmError {
    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.clone()]);
        CrmError::Validation { message, fields }
    }

    /// Fails with the collected field errors, if any.
    pub fn check(fields: FieldErrors) -> Result<()> {
        match fields.iter().next() {
            None => Ok(()),
            Some((field, messages)) => {
                let message = format!("{field}: {}", messages.join(" "));
                Err(CrmError::Validation { message, fields })
            }
        }
    }
}

impl From<ManagementError> for CrmError {
    fn from(e: ManagementError) -> Self {
        match e {
            ManagementError::Forbidden(m) => CrmError::Forbidden(m),
            ManagementError::NotFound(m) => CrmError::NotFound(m),
            ManagementError::Conflict(m) => CrmError::Conflict(m),
            ManagementError::Validation { message, fields } => CrmError::Validation { message, fields },
            other => CrmError::Internal(other.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, CrmError>;
