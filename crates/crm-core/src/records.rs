//! The records of the CRM REST surface share one shape: list (a [`ListQuery`]), get, create,
//! replace or change, soft delete, restore. A [`Resource`] says what its record, its input and
//! its checked forms are, and how input is checked; a [`Store`] keeps its records (checking
//! what needs the stored data: related records exist, duplicates, records in use);
//! [`Records`] is the use case every resource shares, checking permissions in one place:
//! `crm.read` to read, `crm.write` to write, `crm.delete` to delete and restore, unless the
//! resource names other permissions.

use crate::error::{CrmError, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{FilterValue, ListQuery, ListSpec, Page};
use management_core::{Permission, Principal};
use std::sync::Arc;

/// What a record kind is made of.
pub trait Resource: Send + Sync + 'static {
    /// The record as every answer shows it (related records embedded).
    type Record: Clone + Send + Sync + 'static;
    /// The fields a caller sends, each absent, null or a value.
    type Input: Send + Sync + 'static;
    /// Checked fields of a new record.
    type Draft: Send + Sync + 'static;
    /// A checked change.
    type Changes: Send + Sync + 'static;
    /// The record's name in messages: `Account`.
    const NAME: &'static str;
    /// What its list accepts.
    const LIST: ListSpec;
    /// The permission reading needs.
    const READ: Permission = Permission::CrmRead;
    /// The permission creating and changing need.
    const WRITE: Permission = Permission::CrmWrite;
    /// The permission deleting and restoring need.
    const DELETE: Permission = Permission::CrmDelete;
    /// What `by` may read: `Ok(None)` everything, `Ok(Some(filter))` only what the filter
    /// keeps (added to every list), `Err` nothing. By default [`Resource::READ`] reads all.
    fn read_scope(by: &Principal) -> Result<Option<(&'static str, FilterValue)>> {
        by.require(Self::READ)?;
        Ok(None)
    }
    /// Whether `by` may see `record` read by id (one outside [`Resource::read_scope`] is a 404).
    fn visible(_record: &Self::Record, _by: &Principal) -> bool {
        true
    }
    /// Checks a new record's fields; `owner` is the caller, the default owner.
    fn draft(input: Self::Input, owner: i64) -> Result<Self::Draft>;
    /// Checks a change; with `replace` (PUT) the required fields are required.
    fn changes(input: Self::Input, replace: bool) -> Result<Self::Changes>;
}

/// Where a record kind is kept. Deleted records are invisible to every method but `restore`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Store<R: Resource>: Send + Sync {
    async fn list(&self, query: &ListQuery) -> Result<Page<R::Record>>;
    async fn get(&self, id: i64) -> Result<Option<R::Record>>;
    /// Stores a new record; a related id that names no live record is a validation error on
    /// its field, a duplicate a [`CrmError::Duplicate`].
    async fn insert(&self, draft: R::Draft) -> Result<R::Record>;
    async fn update(&self, id: i64, changes: R::Changes) -> Result<Option<R::Record>>;
    /// Marks the record deleted; `false` when there is no such live record.
    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool>;
    /// Brings a deleted record back; `None` when there is no such deleted record.
    async fn restore(&self, id: i64) -> Result<Option<R::Record>>;
}

/// The use cases every record kind shares.
pub struct Records<R: Resource> {
    store: Arc<dyn Store<R>>,
}

impl<R: Resource> Records<R> {
    pub fn new(store: Arc<dyn Store<R>>) -> Self {
        Records { store }
    }

    /// Refuses a caller who may not write, before anything sent is read.
    pub fn may_write(&self, by: &Principal) -> Result<()> {
        by.require(R::WRITE)
    }

    pub async fn list(&self, by: &Principal, query: &ListQuery) -> Result<Page<R::Record>> {
        match R::read_scope(by)? {
            None => self.store.list(query).await,
            Some(scope) => {
                // Added to the caller's filters (all must hold): a filter never widens the scope.
                let mut scoped = query.clone();
                scoped.filters.push(scope);
                self.store.list(&scoped).await
            }
        }
    }

    pub async fn get(&self, by: &Principal, id: i64) -> Result<R::Record> {
        R::read_scope(by)?;
        self.store.get(id).await?.filter(|r| R::visible(r, by)).ok_or_else(|| not_found::<R>(id))
    }

    pub async fn create(&self, by: &Principal, input: R::Input) -> Result<R::Record> {
        by.require(R::WRITE)?;
        self.store.insert(R::draft(input, by.user_id)?).await
    }

    /// PUT (`replace`) or PATCH.
    pub async fn update(&self, by: &Principal, id: i64, input: R::Input, replace: bool) -> Result<R::Record> {
        by.require(R::WRITE)?;
        let changes = R::changes(input, replace)?;
        self.store.update(id, changes).await?.ok_or_else(|| not_found::<R>(id))
    }

    pub async fn delete(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(R::DELETE)?;
        if self.store.delete(id, Utc::now()).await? { Ok(()) } else { Err(not_found::<R>(id)) }
    }

    pub async fn restore(&self, by: &Principal, id: i64) -> Result<R::Record> {
        by.require(R::DELETE)?;
        self.store.restore(id).await?.ok_or_else(|| CrmError::NotFound(format!("No deleted {} {id}.", R::NAME)))
    }
}

/// `<Name> <id> not found`.
pub fn not_found<R: Resource>(id: i64) -> CrmError {
    CrmError::NotFound(format!("{} {id} not found.", R::NAME))
}
