//! Deal use cases.

use super::CrmService;
use crate::deal::{DealFilter, DealPatch, DealView, NewDeal, deal_not_found};
use crate::error::{CrmError, Result};
use chrono::Utc;
use kernel::{Page, PageRequest};
use management_core::{Permission, Principal};

impl CrmService {
    pub async fn list_deals(&self, by: &Principal, filter: &DealFilter, page: PageRequest) -> Result<Page<DealView>> {
        by.require(Permission::CrmRead)?;
        if filter.matches_nothing {
            return Ok(Page::empty(page));
        }
        self.ports.deals.list(&filter.query(page)).await
    }

    pub async fn get_deal(&self, by: &Principal, id: i64) -> Result<DealView> {
        by.require(Permission::CrmRead)?;
        self.ports.deals.get(id).await?.ok_or_else(|| deal_not_found(id))
    }

    /// Creates a deal for an existing customer, owned by the caller.
    pub async fn create_deal(&self, by: &Principal, new: NewDeal) -> Result<DealView> {
        by.require(Permission::CrmWrite)?;
        let draft = new.validate(Some(by.user_id))?;
        self.ensure_customer_for(draft.customer_id).await?;
        self.ports.deals.insert(draft).await
    }

    pub async fn update_deal(&self, by: &Principal, id: i64, patch: DealPatch) -> Result<DealView> {
        by.require(Permission::CrmWrite)?;
        let changes = patch.validate()?;
        if let Some(customer_id) = changes.customer_id {
            self.ensure_customer_for(customer_id).await?;
        }
        self.ports.deals.update(id, changes).await?.ok_or_else(|| deal_not_found(id))
    }

    pub async fn delete_deal(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CrmDelete)?;
        if self.ports.deals.delete(id, Utc::now()).await? { Ok(()) } else { Err(deal_not_found(id)) }
    }

    /// A deal or activity must name a live customer: a 400 on `customerId` otherwise.
    pub(crate) async fn ensure_customer_for(&self, customer_id: i64) -> Result<()> {
        match self.ports.customers.get(customer_id).await? {
            Some(_) => Ok(()),
            None => Err(CrmError::field("customerId", format!("Customer {customer_id} does not exist."))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::deal::NewDeal;
    use crate::error::CrmError;
    use crate::service::test_support::*;
    use management_core::Permission;

    #[tokio::test]
    async fn a_deal_needs_an_existing_customer() {
        let mut m = Mocks::new();
        m.customers.expect_get().returning(|_| Ok(None));
        m.deals.expect_insert().never();
        let new = NewDeal { title: Some("Licence".into()), customer_id: Some(42), ..Default::default() };
        let err = m.service().create_deal(&principal(&[Permission::CrmWrite]), new).await.unwrap_err();
        let CrmError::Validation { fields, .. } = err else { panic!("{err:?}") };
        assert!(fields.contains_key("customerId"));
    }
}
