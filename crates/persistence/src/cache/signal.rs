//! Hears PostgreSQL's `crm_callers` notifications (sent by the triggers of migration 20 on
//! every committed change of users, roles, sessions and revoked tokens) and drops what they
//! make stale. While the listening connection is down the cache is marked unsynced, so its
//! entries live only the short fallback lifetime; on reconnection it starts empty.

use super::callers::{Change, ProcessCache};
use crate::db::Database;
use sea_orm::sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;

/// The channel the triggers notify.
pub const CHANNEL: &str = "crm_callers";

/// Starts listening on a PostgreSQL database (a no-op on SQLite, where this process is the
/// only writer). The task ends when the pool closes.
pub fn listen(db: &Database, cache: Arc<ProcessCache>) -> Option<tokio::task::JoinHandle<()>> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return None;
    }
    let pool = db.get_postgres_connection_pool().clone();
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            if pool.is_closed() {
                return;
            }
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => match listener.listen(CHANNEL).await {
                    Ok(()) => {
                        cache.set_synced(true);
                        backoff = Duration::from_millis(100);
                        tracing::debug!(channel = CHANNEL, "caller cache listening for changes");
                        while let Ok(Some(notification)) = listener.try_recv().await {
                            if let Some(change) = Change::parse(notification.payload()) {
                                cache.apply(&change);
                            }
                        }
                        if pool.is_closed() {
                            return;
                        }
                        cache.set_synced(false);
                        tracing::warn!(channel = CHANNEL, "lost the change signal; caching briefly until it is back");
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot LISTEN for caller changes"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot connect to listen for caller changes"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }))
}
