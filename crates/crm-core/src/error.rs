//! The error type of every CRM use case: the domain error every core shares.

pub use kernel::DomainError as CrmError;

/// The result of a CRM use case.
pub type Result<T> = std::result::Result<T, CrmError>;
