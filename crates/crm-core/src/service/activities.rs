//! Activity use cases.

use super::CrmService;
use crate::activity::{Activity, ActivityFilter, NewActivity, activity_not_found};
use crate::error::Result;
use chrono::Utc;
use kernel::{Page, PageRequest};
use management_core::{Permission, Principal};

impl CrmService {
    pub async fn list_activities(
        &self,
        by: &Principal,
        filter: &ActivityFilter,
        page: PageRequest,
    ) -> Result<Page<Activity>> {
        by.require(Permission::CrmRead)?;
        if filter.matches_nothing {
            return Ok(Page::empty(page));
        }
        self.ports.activities.list(&filter.query(page)).await
    }

    pub async fn get_activity(&self, by: &Principal, id: i64) -> Result<Activity> {
        by.require(Permission::CrmRead)?;
        self.ports.activities.get(id).await?.ok_or_else(|| activity_not_found(id))
    }

    /// Logs an activity against an existing customer, owned by the caller.
    pub async fn create_activity(&self, by: &Principal, new: NewActivity) -> Result<Activity> {
        by.require(Permission::CrmWrite)?;
        let draft = new.validate(Some(by.user_id))?;
        self.ensure_customer_for(draft.account_id.unwrap_or_default()).await?;
        self.ports.activities.insert(draft).await
    }

    pub async fn delete_activity(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CrmDelete)?;
        if self.ports.activities.delete(id, Utc::now()).await? { Ok(()) } else { Err(activity_not_found(id)) }
    }
}
