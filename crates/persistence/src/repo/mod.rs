//! Repository implementations, one module per aggregate.

pub mod activities;
pub mod analytics;
pub mod customers;
pub mod deals;
pub mod login_attempts;
pub mod roles;
pub mod sessions;
pub mod statuses;
pub mod users;

pub use activities::SqlActivities;
pub use analytics::SqlAnalytics;
pub use customers::SqlCustomers;
pub use deals::SqlDeals;
pub use statuses::SqlStatuses;

pub use login_attempts::SqlLoginAttempts;
pub use roles::SqlRoles;
pub use sessions::SqlSessions;
pub use users::SqlUsers;

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

/// Case-insensitive `LIKE` pattern for a substring, with `%`, `_` and `\` escaped.
pub fn like_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// Serialises writers that must see each other's effects: a transaction-scoped advisory
/// lock on PostgreSQL; SQLite already allows one writer at a time.
pub async fn lock_for_update<C: ConnectionTrait>(conn: &C, key: i64) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}
