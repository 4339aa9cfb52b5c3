//! Repository implementations, one module per aggregate.

pub mod accounts;
pub mod activities;
pub mod analytics;
pub mod assignments;
pub mod audit;
pub mod callcenter_reports;
pub mod callers;
pub mod calls;
pub mod catalog;
pub mod chats;
pub mod companies;
pub mod contacts;
pub mod customers;
pub mod deals;
pub mod documents;
pub mod duplicates;
pub mod idempotency;
pub mod imports;
pub mod insights;
pub mod integrations;
pub mod journal;
pub mod knowledge;
pub mod leads;
pub mod listing;
pub mod login_attempts;
pub mod products;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod statuses;
pub mod summaries;
pub mod tasks;
pub mod territories;
pub mod users;
pub mod webhooks;
pub mod workspace;

pub use accounts::SqlAccounts;
pub use activities::SqlActivities;
pub use analytics::SqlAnalytics;
pub use assignments::SqlSalesManagers;
pub use callcenter_reports::SqlCallReports;
pub use callers::SqlCallers;
pub use calls::SqlCalls;
pub use chats::SqlChats;
pub use companies::SqlCompanies;
pub use contacts::SqlContacts;
pub use customers::SqlCustomers;
pub use deals::SqlDeals;
pub use documents::SqlDocuments;
pub use insights::SqlInsights;
pub use knowledge::SqlKnowledge;
pub use leads::SqlLeads;
pub use products::SqlProducts;
pub use statuses::SqlStatuses;
pub use tasks::SqlTasks;
pub use territories::SqlTerritories;

pub use login_attempts::SqlLoginAttempts;
pub use roles::SqlRoles;
pub use sessions::SqlSessions;
pub use users::SqlUsers;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value,
};

/// A new opaque id: `prefix` and 16 random hex digits.
pub fn random_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Case-insensitive `LIKE` pattern for a substring, with `%`, `_` and `\` escaped.
pub fn like_pattern(needle: &str) -> String {
    let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// `column LIKE '%needle%'` over a lower-cased search column, with wildcards escaped.
pub fn contains(column: impl sea_orm::sea_query::IntoColumnRef, needle: &str) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
    Expr::col(column).like(LikeExpr::new(like_pattern(needle)).escape('\\'))
}

/// `LOWER(column) LIKE '%needle%'` (wildcards escaped), for columns stored in any case.
pub fn contains_lower(column: impl sea_orm::sea_query::IntoColumnRef, needle: &str) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(like_pattern(needle)).escape('\\'))
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

/// Begins a transaction that will write: `BEGIN IMMEDIATE` on SQLite (the write lock is
/// taken up front, so a concurrent writer waits instead of failing on a stale snapshot);
/// on PostgreSQL rows read for update are locked with `FOR UPDATE` by the caller.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// A raw statement written with `$1, $2, …` placeholders, rewritten to `?` for SQLite.
pub fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_string(),
        _ => rewrite_placeholders(sql),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `$1` → `?` (arguments are bound in order and each is used once).
fn rewrite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// The SQL expression giving the UTC day (`YYYY-MM-DD`) of a timestamp column.
pub fn day_expr(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        _ => format!("strftime('%Y-%m-%d', {column})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_sqlite() {
        assert_eq!(rewrite_placeholders("a >= $1 AND b < $2 LIMIT $10"), "a >= ? AND b < ? LIMIT ?");
        assert_eq!(rewrite_placeholders("cost$ 'x'"), "cost$ 'x'");
    }
}
