//! The error type of every call-center use case: the domain error every core shares.

pub use kernel::DomainError as CallcenterError;

/// The result of a call-center use case.
pub type Result<T> = std::result::Result<T, CallcenterError>;
