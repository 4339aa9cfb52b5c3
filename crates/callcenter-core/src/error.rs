//! The error type of every call-center use case.

use kernel::FieldErrors;
use management_core::ManagementError;

/// What can go wrong in a call-center use case; the surface maps it to its error body.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CallcenterError {
    #[error("{message}")]
    Validation { message: String, fields: FieldErrors },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Content of a type that is not accepted.
    #[error("{0}")]
    Unsupported(String),
    /// A dependency (telephony, the model) is not configured or not reachable.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CallcenterError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.clone()]);
        CallcenterError::Validation { message, fields }
    }

    /// Fails with the collected field errors, if any.
    pub fn check(fields: FieldErrors) -> Result<()> {
        match fields.iter().next() {
            None => Ok(()),
            Some((field, messages)) => {
                let message = format!("{field}: {}", messages.join(" "));
                Err(CallcenterError::Validation { message, fields })
            }
        }
    }
}

impl From<ManagementError> for CallcenterError {
    fn from(e: ManagementError) -> Self {
        match e {
            ManagementError::Forbidden(m) => CallcenterError::Forbidden(m),
            ManagementError::NotFound(m) => CallcenterError::NotFound(m),
            other => CallcenterError::Internal(other.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, CallcenterError>;
