//! Mapping of database errors to the domain errors.

use sea_orm::{DbErr, SqlErr};

/// Whether the error is a unique-constraint violation (same on SQLite and PostgreSQL).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Database failures of management use cases.
pub fn mgmt(err: DbErr) -> management_core::ManagementError {
    management_core::ManagementError::Internal(format!("database: {err}"))
}

/// Database failures of CRM use cases.
pub fn crm(err: DbErr) -> crm_core::CrmError {
    crm_core::CrmError::Internal(format!("database: {err}"))
}

/// Database failures of call-center use cases.
pub fn cc(err: DbErr) -> callcenter_core::CallcenterError {
    callcenter_core::CallcenterError::Internal(format!("database: {err}"))
}
