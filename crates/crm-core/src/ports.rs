//! Ports: what the CRM use cases need from storage.

use crate::Result;
use crate::analytics::{DateRange, LiveCounts, Period, PeriodSales, TopCustomer};
use crate::customer::{Customer, CustomerChanges, CustomerDraft, CustomerFilter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Page, PageRequest};
use management_core::catalog::StatusGroup;
use rust_decimal::Decimal;

/// Customers (soft-deleted ones are invisible to every method).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CustomerRepository: Send + Sync {
    async fn list(&self, filter: &CustomerFilter, page: PageRequest) -> Result<Page<Customer>>;
    async fn get(&self, id: i64) -> Result<Option<Customer>>;
    /// Stores a new customer; `Conflict` when the e-mail belongs to another live customer.
    async fn insert(&self, draft: CustomerDraft) -> Result<Customer>;
    async fn update(&self, id: i64, changes: CustomerChanges) -> Result<Option<Customer>>;
    /// Marks the customer, its deals and its activities deleted; `false` when not found.
    async fn soft_delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool>;
}

/// A status of the customer-status catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEntry {
    pub name: String,
    pub is_active: bool,
    /// The v1 group the status belongs to.
    pub group: StatusGroup,
}

/// The customer-status catalog, in display order.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StatusCatalog: Send + Sync {
    async fn statuses(&self) -> Result<Vec<StatusEntry>>;
}

/// Aggregates computed by the database (never by loading rows). Days are UTC; a deal
/// counts as a sale on the day it was completed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AnalyticsRepository: Send + Sync {
    /// Live customers per stored status and the open deals, in one read.
    async fn live_counts(&self) -> Result<LiveCounts>;
    /// Sum of completed deal values in the range.
    async fn completed_value(&self, range: DateRange) -> Result<Decimal>;
    /// Completed value and count per bucket of `period` in the range; only non-empty buckets.
    async fn completed_by_period(&self, range: DateRange, period: Period) -> Result<Vec<PeriodSales>>;
    /// The `limit` customers with the highest completed value in the range.
    async fn top_customers(&self, range: DateRange, limit: u64) -> Result<Vec<TopCustomer>>;
    /// Among the `limit` most recently created live customers: how many there are, and how
    /// many have `status`.
    async fn recent_with_status(&self, limit: u64, status: &str) -> Result<(u64, u64)>;
}

/// `Ok` when `status` is an active entry of the catalog; else a `status` field error listing
/// the active ones.
pub(crate) async fn require_active_status(catalog: &dyn StatusCatalog, status: &str) -> crate::Result<()> {
    let entries = catalog.statuses().await?;
    if entries.iter().any(|s| s.name == status && s.is_active) {
        return Ok(());
    }
    let active: Vec<_> = entries.iter().filter(|s| s.is_active).map(|s| s.name.as_str()).collect();
    Err(crate::CrmError::field("status", format!("Unknown status '{status}'; use one of: {}.", active.join(", "))))
}
