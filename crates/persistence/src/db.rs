//! Connecting to the database and applying migrations.

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Postgres,
    Sqlite,
}

impl DatabaseKind {
    /// The engine for a URL, or `None` for an unsupported scheme.
    pub fn of_url(url: &str) -> Option<DatabaseKind> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(DatabaseKind::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(DatabaseKind::Sqlite)
        } else {
            None
        }
    }
}

/// A pooled connection shared by every repository.
pub type Database = DatabaseConnection;

/// How the pool connects.
#[derive(Debug, Clone, Default)]
pub struct PoolSettings {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long a request waits for a connection (pool exhausted, or the database out of
    /// reach) before it fails as unavailable.
    pub acquire_timeout: Duration,
    /// Counts every statement the pool runs.
    pub statements: StatementCount,
}

/// How many SQL statements a pool has run (for tests and diagnostics; one atomic add each).
#[derive(Debug, Clone, Default)]
pub struct StatementCount(Arc<AtomicU64>);

impl StatementCount {
    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens a pool (SQLite files are created when missing and run in WAL mode with a busy
/// timeout, so concurrent writers wait instead of failing).
pub async fn connect(url: &str, pool: PoolSettings) -> Result<Database, DbErr> {
    let kind = DatabaseKind::of_url(url)
        .ok_or_else(|| DbErr::Custom(format!("unsupported database URL scheme in '{url}'")))?;
    let url = match kind {
        DatabaseKind::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        }
        _ => url.to_string(),
    };
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(pool.max_connections.max(1))
        .min_connections(1)
        .connect_timeout(pool.acquire_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Normal)
        });
    let mut db = sea_orm::Database::connect(options).await?;
    let statements = pool.statements.0;
    db.set_metric_callback(move |_| {
        statements.fetch_add(1, Ordering::Relaxed);
    });
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &Database) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &Database) -> bool {
    db.ping().await.is_ok()
}
