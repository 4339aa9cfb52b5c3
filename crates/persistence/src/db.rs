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
        DatabaseKind::Postgres => plain_on_loopback(url),
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
    let took = metrics::histogram!("crm_db_statement_duration_seconds");
    db.set_metric_callback(move |info| {
        took.record(info.elapsed.as_secs_f64());
        if BACKGROUND.try_with(|_| ()).is_err() {
            statements.fetch_add(1, Ordering::Relaxed);
            kernel::context::count_statement();
        }
    });
    Ok(db)
}

/// The pool's connections now: open, idle and the most it may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// How the pool's connections are used now.
pub fn pool_use(db: &Database) -> Option<PoolUse> {
    let of = |open: u32, idle: usize, max: u32| PoolUse { open, idle: idle as u32, max };
    use sea_orm::DbBackend;
    if db.get_database_backend() == DbBackend::Postgres {
        let pool = db.get_postgres_connection_pool();
        return Some(of(pool.size(), pool.num_idle(), pool.options().get_max_connections()));
    }
    if db.get_database_backend() == DbBackend::Sqlite {
        let pool = db.get_sqlite_connection_pool();
        return Some(of(pool.size(), pool.num_idle(), pool.options().get_max_connections()));
    }
    None
}

/// How long taking a connection from the pool takes now (at most `limit`; `None` past it).
pub async fn acquire_time(db: &Database, limit: Duration) -> Option<Duration> {
    let started = std::time::Instant::now();
    use sea_orm::DbBackend;
    let taken = match db.get_database_backend() {
        DbBackend::Postgres => {
            tokio::time::timeout(limit, db.get_postgres_connection_pool().acquire()).await.ok()?.is_ok()
        }
        DbBackend::Sqlite => tokio::time::timeout(limit, db.get_sqlite_connection_pool().acquire()).await.ok()?.is_ok(),
        _ => false,
    };
    taken.then(|| started.elapsed())
}

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs background work (the webhook worker, refreshing settings) without counting its
/// statements as the requests': [`StatementCount`] counts what requests cost.
pub async fn background<F: std::future::Future>(work: F) -> F::Output {
    BACKGROUND.scope((), work).await
}

/// A PostgreSQL URL on the loopback interface without an `sslmode` gets `sslmode=disable`:
/// the traffic never leaves the machine, and TLS there only costs both ends CPU on every
/// statement. Any `sslmode` given is kept.
fn plain_on_loopback(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    if !loopback || url.contains("sslmode=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

/// Applies every pending migration.
pub async fn migrate(db: &Database) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether every migration this binary knows is applied (`false` also when the database
/// cannot be asked).
pub async fn schema_current(db: &Database) -> bool {
    Migrator::get_pending_migrations(db).await.is_ok_and(|pending| pending.is_empty())
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &Database) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::plain_on_loopback;

    #[test]
    fn loopback_connections_skip_tls_unless_asked() {
        assert_eq!(
            plain_on_loopback("postgres://u:p@127.0.0.1:5432/db"),
            "postgres://u:p@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(plain_on_loopback("postgres://localhost/db?x=1"), "postgres://localhost/db?x=1&sslmode=disable");
        assert_eq!(plain_on_loopback("postgres://u@[::1]:5432/db"), "postgres://u@[::1]:5432/db?sslmode=disable");
        for kept in ["postgres://u:p@127.0.0.1/db?sslmode=require", "postgres://u:p@db.internal:5432/db"] {
            assert_eq!(plain_on_loopback(kept), kept);
        }
    }
}
