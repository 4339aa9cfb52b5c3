//! The audit trail every write leaves (written by the stores in the write's transaction), read
//! by administrators, and each CRM record's timeline: its own history with its activities,
//! tasks, calls and chats.

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Page, PageRequest};
use management_core::{Permission, Principal};
use serde_json::Value;
use std::sync::Arc;

/// One audited change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    /// The acting user's name and e-mail, when known.
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    /// `user`, `system` or `ai`.
    pub actor_type: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    /// Changed fields as `{field: {old, new}}`, or the record created or deleted; secrets never appear.
    pub changes: Value,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Which entries to list (all given conditions hold; texts compared case-insensitively).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// One entry by its id.
    pub id: Option<i64>,
    pub entity: Option<String>,
    /// One of these kinds (a module's or a table's), when not empty.
    pub entities: Vec<String>,
    pub entity_id: Option<String>,
    pub actor: Option<i64>,
    pub action: Option<String>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// The records that have a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineOf {
    Account,
    Contact,
    Lead,
    Deal,
}

impl TimelineOf {
    /// The audit trail's name of the kind.
    pub fn entity(self) -> &'static str {
        match self {
            TimelineOf::Account => "account",
            TimelineOf::Contact => "contact",
            TimelineOf::Lead => "lead",
            TimelineOf::Deal => "deal",
        }
    }
}

/// One item of a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    /// `change`, `activity`, `task`, `call` or `chat`.
    pub kind: String,
    pub id: String,
    /// The change's action, the activity's subject, the task's title, the call's number, ...
    pub title: String,
    /// The change's fields, the activity's description, the call's summary, ...
    pub detail: Value,
    pub status: Option<String>,
}

/// Where the trail is read.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Entries newest first.
    async fn entries(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>>;
    /// A live record's timeline, newest first; `None` when there is no such live record.
    async fn timeline(&self, of: TimelineOf, id: i64, page: PageRequest) -> Result<Option<Page<TimelineItem>>>;
}

/// The audit trail's use cases.
pub struct Audit {
    log: Arc<dyn AuditLog>,
}

impl Audit {
    pub fn new(log: Arc<dyn AuditLog>) -> Self {
        Audit { log }
    }

    /// The trail (`users.manage`).
    pub async fn entries(&self, by: &Principal, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        by.require(Permission::UsersManage)?;
        self.log.entries(filter, page).await
    }

    /// A record's timeline (`crm.read`, as reading the record needs).
    pub async fn timeline(
        &self,
        by: &Principal,
        of: TimelineOf,
        id: i64,
        page: PageRequest,
    ) -> Result<Page<TimelineItem>> {
        by.require(Permission::CrmRead)?;
        self.log.timeline(of, id, page).await?.ok_or_else(|| {
            let kind = of.entity();
            let name = format!("{}{}", kind[..1].to_uppercase(), &kind[1..]);
            crate::error::CrmError::NotFound(format!("{name} {id} not found."))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::test_support::principal;

    #[tokio::test]
    async fn the_trail_is_for_administrators_and_timelines_for_readers() {
        let mut log = MockAuditLog::new();
        log.expect_entries().times(1).returning(|_, page| Ok(Page::empty(page)));
        log.expect_timeline().returning(|_, _, _| Ok(None));
        let audit = Audit::new(Arc::new(log));
        let page = PageRequest::new(1, 20);
        let reader = principal(&[Permission::CrmRead]);
        assert!(audit.entries(&reader, &AuditFilter::default(), page).await.is_err());
        assert!(audit.entries(&principal(&[Permission::UsersManage]), &AuditFilter::default(), page).await.is_ok());
        let err = audit.timeline(&reader, TimelineOf::Deal, 9, page).await.unwrap_err();
        assert_eq!(err.to_string(), "Deal 9 not found.");
    }
}
