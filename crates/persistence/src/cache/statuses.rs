//! The customer-status catalog from the process cache: the v1 customer list, the dashboard
//! and `/management/statuses` read it on every request, and it changes a few times a year.

use super::callers::{Change, ProcessCache};
use crate::repo::SqlStatuses;
use async_trait::async_trait;
use crm_core::ports::{StatusCatalog, StatusEntry};
use management_core::Result;
use management_core::catalog::{DeleteOutcome, EntryDraft, EntryPatch, Status};
use management_core::ports::StatusRepository;
use std::sync::Arc;

/// [`StatusCatalog`] and [`StatusRepository`] serving the catalog from the cache.
pub struct CachedStatuses {
    inner: Arc<SqlStatuses>,
    cache: Arc<ProcessCache>,
}

impl CachedStatuses {
    pub fn new(inner: Arc<SqlStatuses>, cache: Arc<ProcessCache>) -> Self {
        CachedStatuses { inner, cache }
    }

    async fn all(&self) -> Result<Vec<Status>> {
        self.cache.statuses.get_or_load((), self.cache.max_age(), || self.inner.list()).await
    }
}

#[async_trait]
impl StatusCatalog for CachedStatuses {
    async fn statuses(&self) -> crm_core::Result<Vec<StatusEntry>> {
        let all = self.all().await?;
        Ok(all.into_iter().map(|s| StatusEntry { group: s.group, name: s.name, is_active: s.is_active }).collect())
    }
}

#[async_trait]
impl StatusRepository for CachedStatuses {
    async fn list(&self) -> Result<Vec<Status>> {
        self.all().await
    }

    async fn get(&self, id: i64) -> Result<Option<Status>> {
        Ok(self.all().await?.into_iter().find(|s| s.id == id))
    }

    async fn insert(&self, draft: EntryDraft) -> Result<Status> {
        self.cache.after(Change::Statuses, self.inner.insert(draft).await)
    }

    async fn update(&self, id: i64, patch: EntryPatch) -> Result<Option<Status>> {
        self.cache.after(Change::Statuses, self.inner.update(id, patch).await)
    }

    async fn delete(&self, id: i64, reassign_to: Option<String>) -> Result<DeleteOutcome> {
        self.cache.after(Change::Statuses, self.inner.delete(id, reassign_to).await)
    }
}
