//! Mapping of database errors to the domain error.

use kernel::DomainError;
use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Whether the error is a unique-constraint violation (same on SQLite and PostgreSQL).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// What a database failure means to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database is out of reach: connection refused or lost, pool exhausted or closed,
    /// the server shutting down, the file locked for too long; or it aborted the transaction
    /// to break a deadlock or a serialization conflict. Worth retrying.
    Unavailable,
    /// The database refused a value (too long for its column, an invalid byte, out of range).
    BadValue,
    /// Anything else: a bug.
    Other,
}

/// Classifies a database error.
pub fn failure(err: &DbErr) -> Failure {
    let runtime = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return Failure::Unavailable,
        DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return Failure::Other,
    };
    let RuntimeErr::SqlxError(sqlx_err) = runtime else { return Failure::Other };
    match sqlx_err.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => Failure::Unavailable,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                // PostgreSQL: connection exceptions, shutdown, too many connections.
                c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => Failure::Unavailable,
                // PostgreSQL: deadlock detected, serialization failure (the transaction was rolled back).
                "40P01" | "40001" => Failure::Unavailable,
                // PostgreSQL: data exceptions (22001 too long, 22021 bad byte, 22003 out of range, ...).
                c if c.starts_with("22") => Failure::BadValue,
                // SQLite: busy, locked, I/O error, cannot open; too big.
                "5" | "6" | "10" | "14" => Failure::Unavailable,
                "18" => Failure::BadValue,
                _ => Failure::Other,
            }
        }
        _ => Failure::Other,
    }
}

/// Maps a unique violation to a 409 `Conflict` with `message`, anything else as [`db`].
pub fn conflict_if_unique(message: &'static str) -> impl Fn(DbErr) -> DomainError {
    move |err| if is_unique_violation(&err) { DomainError::Conflict(message.into()) } else { db(err) }
}

/// A database failure as a domain error: `Unavailable` (503) when the database is out of
/// reach, `Validation` (400) for a value it refuses, else `Internal` (500, cause logged).
pub fn db(err: DbErr) -> DomainError {
    match failure(&err) {
        Failure::Unavailable => {
            tracing::warn!(error = %err, "database unavailable");
            DomainError::Unavailable("The database is unavailable; try again shortly.".into())
        }
        Failure::BadValue => DomainError::Validation {
            message: "A value is not acceptable: too long or malformed.".into(),
            fields: Default::default(),
        },
        Failure::Other => DomainError::Internal(format!("database: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
    use std::borrow::Cow;
    use std::error::Error as StdError;
    use std::sync::Arc;

    /// A database error carrying only an SQLSTATE.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error {}", self.0)
        }
    }

    impl StdError for Coded {}

    impl DatabaseError for Coded {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn coded(code: &'static str) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Database(Box::new(Coded(code))))))
    }

    #[test]
    fn transient_failures_are_worth_retrying_and_bugs_are_not() {
        for code in ["08006", "57P01", "53300", "40P01", "40001", "5"] {
            assert_eq!(failure(&coded(code)), Failure::Unavailable, "{code}");
        }
        for code in ["22001", "22021", "18"] {
            assert_eq!(failure(&coded(code)), Failure::BadValue, "{code}");
        }
        assert_eq!(failure(&coded("42P01")), Failure::Other, "an undefined table is a bug");
        assert!(matches!(db(coded("40P01")), DomainError::Unavailable(_)));
    }
}
