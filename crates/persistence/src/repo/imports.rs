//! Imports of accounts, contacts and leads: a batch in one transaction, each row within a
//! savepoint of its own (a row that fails is undone alone), written by the same functions as a
//! single create or change, so every rule (references, duplicates, the sales-manager rotation,
//! the summaries) holds for imported rows too.

use crate::error::db;
use crate::repo::accounts::{insert_account, update_account};
use crate::repo::contacts::{add_contact, update_contact};
use crate::repo::leads::{add_lead, update_lead};
use crate::repo::{begin_write, statement};
use async_trait::async_trait;
use crm_core::accounts::Accounts;
use crm_core::contacts::Contacts;
use crm_core::exchange::{ImportStore, OnDuplicate, Prepared, RowOutcome};
use crm_core::leads::Leads;
use crm_core::records::Resource;
use crm_core::{CrmError, Result};
use kernel::FieldErrors;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, FromQueryResult, TransactionTrait};
use std::marker::PhantomData;

/// The field a problem of the whole row is reported under (as Django REST framework names it).
pub const ROW_FIELD: &str = "non_field_errors";

/// How rows of one kind are matched and written within a transaction.
#[async_trait]
pub trait RowWriter: Send + Sync + 'static {
    type R: Resource;
    const TABLE: &'static str;
    /// The SQL expression a match key's field is compared with.
    fn key_column(field: &str) -> &'static str;
    async fn add(conn: &DatabaseTransaction, d: <Self::R as Resource>::Draft) -> Result<()>;
    async fn change(conn: &DatabaseTransaction, id: i64, c: <Self::R as Resource>::Changes) -> Result<()>;
}

/// Accounts (the `customers` table).
pub struct AccountRows;
/// Contacts.
pub struct ContactRows;
/// Leads.
pub struct LeadRows;

fn person_column(field: &str) -> &'static str {
    if field == "phone" { "phone" } else { "email" }
}

#[async_trait]
impl RowWriter for AccountRows {
    type R = Accounts;
    const TABLE: &'static str = "customers";
    fn key_column(field: &str) -> &'static str {
        if field == "name" { "LOWER(name)" } else { "email" }
    }
    async fn add(conn: &DatabaseTransaction, d: crm_core::accounts::AccountDraft) -> Result<()> {
        insert_account(conn, d).await.map(|_| ())
    }
    async fn change(conn: &DatabaseTransaction, id: i64, c: crm_core::accounts::AccountChanges) -> Result<()> {
        update_account(conn, id, c).await.map(|_| ())
    }
}

#[async_trait]
impl RowWriter for ContactRows {
    type R = Contacts;
    const TABLE: &'static str = "contacts";
    fn key_column(field: &str) -> &'static str {
        person_column(field)
    }
    async fn add(conn: &DatabaseTransaction, d: crm_core::contacts::ContactDraft) -> Result<()> {
        add_contact(conn, d).await.map(|_| ())
    }
    async fn change(conn: &DatabaseTransaction, id: i64, c: crm_core::contacts::ContactChanges) -> Result<()> {
        update_contact(conn, id, c).await.map(|_| ())
    }
}

#[async_trait]
impl RowWriter for LeadRows {
    type R = Leads;
    const TABLE: &'static str = "leads";
    fn key_column(field: &str) -> &'static str {
        person_column(field)
    }
    async fn add(conn: &DatabaseTransaction, d: crm_core::leads::LeadDraft) -> Result<()> {
        add_lead(conn, d).await.map(|_| ())
    }
    async fn change(conn: &DatabaseTransaction, id: i64, c: crm_core::leads::LeadChanges) -> Result<()> {
        update_lead(conn, id, c).await.map(|_| ())
    }
}

/// [`ImportStore`] of the rows `W` writes.
pub struct SqlImports<W> {
    db: DatabaseConnection,
    kind: PhantomData<W>,
}

impl<W> SqlImports<W> {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlImports { db, kind: PhantomData }
    }
}

#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

/// The live record the first key that finds one finds.
async fn matching<W: RowWriter, C: ConnectionTrait>(conn: &C, keys: &[(&'static str, String)]) -> Result<Option<i64>> {
    for (field, key) in keys {
        let sql = format!(
            "SELECT id FROM {} WHERE {} = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1",
            W::TABLE,
            W::key_column(field)
        );
        let found = Id::find_by_statement(statement(conn.get_database_backend(), &sql, vec![key.clone().into()]))
            .one(conn)
            .await
            .map_err(db)?;
        if let Some(found) = found {
            return Ok(Some(found.id));
        }
    }
    Ok(None)
}

/// A row's failure as field messages; `None` for failures of the system (the import stops).
fn row_problem(err: CrmError) -> std::result::Result<FieldErrors, CrmError> {
    let mut fields = FieldErrors::new();
    match err {
        CrmError::Validation { fields, .. } => return Ok(fields),
        CrmError::Duplicate { message, candidates } => {
            let names: Vec<String> = candidates.iter().map(|c| format!("{} {} ({})", c.kind, c.id, c.name)).collect();
            kernel::push_error(&mut fields, ROW_FIELD, format!("{message} It matches {}.", names.join(", ")));
        }
        CrmError::Conflict(message) | CrmError::NotFound(message) => {
            kernel::push_error(&mut fields, ROW_FIELD, message)
        }
        other => return Err(other),
    }
    Ok(fields)
}

#[async_trait]
impl<W: RowWriter> ImportStore<W::R> for SqlImports<W> {
    async fn import(&self, rows: Vec<Prepared<W::R>>, mode: OnDuplicate, dry_run: bool) -> Result<Vec<RowOutcome>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let mut outcomes = Vec::with_capacity(rows.len());
        for row in rows {
            let savepoint = txn.begin().await.map_err(db)?;
            let done = async {
                let invalid = |fields| CrmError::Validation { message: "invalid row".into(), fields };
                match (matching::<W, _>(&savepoint, &row.keys).await?, mode) {
                    (None, _) => W::add(&savepoint, row.draft.map_err(invalid)?).await.map(|_| RowOutcome::Created),
                    (Some(_), OnDuplicate::Skip) => Ok(RowOutcome::Skipped),
                    (Some(id), OnDuplicate::Update) => {
                        W::change(&savepoint, id, row.changes.map_err(invalid)?).await.map(|_| RowOutcome::Updated)
                    }
                }
            }
            .await;
            match done {
                Ok(outcome) => {
                    savepoint.commit().await.map_err(db)?;
                    outcomes.push(outcome);
                }
                Err(err) => {
                    savepoint.rollback().await.map_err(db)?;
                    outcomes.push(RowOutcome::Failed(row_problem(err)?));
                }
            }
        }
        if dry_run {
            txn.rollback().await.map_err(db)?;
        } else {
            txn.commit().await.map_err(db)?;
        }
        Ok(outcomes)
    }
}
