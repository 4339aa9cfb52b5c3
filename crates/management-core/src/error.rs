//! The error type of every management use case: the domain error every core shares.

pub use kernel::{DomainError as ManagementError, FieldErrors};

/// The result of a management use case.
pub type Result<T> = std::result::Result<T, ManagementError>;
