//! Deleting an entry of a named catalog (roles, customer statuses) that other rows hold by
//! name: refused while it is held, unless the caller names another active entry to move the
//! holders to first. One transaction, the entry locked throughout.

use crate::error::db;
use crate::repo::{begin_write, statement};
use chrono::Utc;
use kernel::DomainError;
use management_core::catalog::DeleteOutcome;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, FromQueryResult};

type Result<T> = std::result::Result<T, DomainError>;

/// A catalog table (`id`, `name`, `is_active`) and the rows that hold its entries by name.
pub struct Held {
    pub catalog: &'static str,
    /// The entries' kind in the audit trail (`role`, `customer_status`).
    pub kind: &'static str,
    /// The table whose `column` names an entry (it has `updated_at`).
    pub holders: &'static str,
    pub column: &'static str,
    /// Only holders not soft-deleted keep an entry in use (all of them move).
    pub live_only: bool,
}

/// An entry about to be deleted, its holders already moved when asked.
pub struct Removal {
    pub txn: DatabaseTransaction,
    /// The entry's name.
    pub name: String,
    /// The entry the holders moved to, and how many of them count (see [`Held::live_only`]).
    pub moved: Option<(String, u64)>,
}

/// Whether the deletion can go on.
pub enum Prepared {
    /// Nothing was changed: not found, still held, or a bad target.
    Refused(DeleteOutcome),
    Ready(Removal),
}

#[derive(FromQueryResult)]
struct Name {
    name: String,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

impl Held {
    /// Locks entry `id`, then moves its holders to `reassign_to` (an active entry other than
    /// itself) or refuses while it has any. The caller removes what depends on the entry in
    /// [`Removal::txn`], then calls [`Held::finish`].
    pub async fn prepare(&self, conn: &DatabaseConnection, id: i64, reassign_to: Option<&str>) -> Result<Prepared> {
        let txn = begin_write(conn).await.map_err(db)?;
        let backend = txn.get_database_backend();
        let lock = if backend == DbBackend::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT name FROM {} WHERE id = $1{lock}", self.catalog);
        let found = Name::find_by_statement(statement(backend, &sql, vec![id.into()])).one(&txn).await.map_err(db)?;
        let Some(Name { name }) = found else { return Ok(Prepared::Refused(DeleteOutcome::NotFound)) };
        let live = if self.live_only { " AND deleted_at IS NULL" } else { "" };
        let sql = format!("SELECT COUNT(*) AS n FROM {} WHERE {} = $1{live}", self.holders, self.column);
        let held = Count::find_by_statement(statement(backend, &sql, vec![name.clone().into()]))
            .one(&txn)
            .await
            .map_err(db)?
            .map_or(0, |c| c.n.max(0) as u64);
        let Some(target) = reassign_to else {
            if held > 0 {
                return Ok(Prepared::Refused(DeleteOutcome::InUse(held)));
            }
            return Ok(Prepared::Ready(Removal { txn, name, moved: None }));
        };
        let sql = format!("SELECT name FROM {} WHERE name = $1 AND is_active = $2 AND id <> $3", self.catalog);
        let values = vec![target.into(), true.into(), id.into()];
        if Name::find_by_statement(statement(backend, &sql, values)).one(&txn).await.map_err(db)?.is_none() {
            return Ok(Prepared::Refused(DeleteOutcome::BadTarget));
        }
        let sql =
            format!("UPDATE {} SET {col} = $1, updated_at = $2 WHERE {col} = $3", self.holders, col = self.column);
        let values = vec![target.into(), Utc::now().into(), name.clone().into()];
        txn.execute_raw(statement(backend, &sql, values)).await.map_err(db)?;
        Ok(Prepared::Ready(Removal { txn, name, moved: Some((target.to_string(), held)) }))
    }

    /// Deletes entry `id`, journaled, and commits.
    pub async fn finish(&self, removal: Removal, id: i64) -> Result<DeleteOutcome> {
        let gone =
            serde_json::json!({"id": id, "name": removal.name, "reassigned_to": removal.moved.as_ref().map(|m| &m.0)});
        let change = crate::repo::journal::Change::audit(self.kind, id, "deleted").with_values(Some(gone), None);
        crate::repo::journal::record(&removal.txn, change).await?;
        let sql = format!("DELETE FROM {} WHERE id = $1", self.catalog);
        let backend = removal.txn.get_database_backend();
        removal.txn.execute_raw(statement(backend, &sql, vec![id.into()])).await.map_err(db)?;
        removal.txn.commit().await.map_err(db)?;
        Ok(DeleteOutcome::Deleted)
    }
}
