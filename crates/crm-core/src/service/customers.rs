//! Customer use cases.

use super::CrmService;
use crate::customer::{Customer, CustomerFilter, CustomerPatch, NewCustomer};
use crate::error::{CrmError, Result};
use chrono::Utc;
use kernel::{Page, PageRequest};
use management_core::{Permission, Principal};

impl CrmService {
    pub async fn list_customers(
        &self,
        by: &Principal,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> Result<Page<Customer>> {
        by.require(Permission::CrmRead)?;
        self.ports.customers.list(filter, page).await
    }

    pub async fn get_customer(&self, by: &Principal, id: i64) -> Result<Customer> {
        by.require(Permission::CrmRead)?;
        self.find_customer(id).await
    }

    /// Creates a customer owned by the caller; the status must be an active catalog status.
    pub async fn create_customer(&self, by: &Principal, new: NewCustomer) -> Result<Customer> {
        by.require(Permission::CrmWrite)?;
        let draft = new.validate(Some(by.user_id))?;
        self.ensure_status_active(&draft.status).await?;
        self.ports.customers.insert(draft).await
    }

    pub async fn update_customer(&self, by: &Principal, id: i64, patch: CustomerPatch) -> Result<Customer> {
        by.require(Permission::CrmWrite)?;
        let changes = patch.validate()?;
        if let Some(status) = &changes.status {
            self.ensure_status_active(status).await?;
        }
        self.ports.customers.update(id, changes).await?.ok_or_else(|| customer_not_found(id))
    }

    /// Hides the customer with its deals and activities (nothing is destroyed).
    pub async fn delete_customer(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CrmDelete)?;
        if self.ports.customers.soft_delete(id, Utc::now()).await? { Ok(()) } else { Err(customer_not_found(id)) }
    }

    pub(crate) async fn find_customer(&self, id: i64) -> Result<Customer> {
        self.ports.customers.get(id).await?.ok_or_else(|| customer_not_found(id))
    }

    async fn ensure_status_active(&self, status: &str) -> Result<()> {
        crate::ports::require_active_status(self.ports.statuses.as_ref(), status).await
    }
}

pub(crate) fn customer_not_found(id: i64) -> CrmError {
    CrmError::NotFound(format!("Customer {id} not found."))
}

#[cfg(test)]
mod tests {
    use crate::customer::{CustomerDraft, NewCustomer};
    use crate::error::CrmError;
    use crate::service::test_support::*;
    use chrono::Utc;
    use management_core::Permission;

    fn stored(d: CustomerDraft) -> crate::customer::Customer {
        crate::customer::Customer {
            id: 1,
            name: d.name,
            email: d.email,
            phone: d.phone,
            company: d.company,
            status: d.status,
            status_group: management_core::catalog::StatusGroup::Potential,
            value: d.value,
            user_id: d.user_id,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn create_stores_the_owner_and_the_default_status() {
        let mut m = Mocks::new();
        m.statuses.expect_statuses().returning(|| Ok(catalog()));
        m.customers
            .expect_insert()
            .withf(|d| d.user_id == Some(5) && d.status == "potential")
            .returning(|d| Ok(stored(d)));
        let c = m
            .service()
            .create_customer(
                &principal(&[Permission::CrmWrite]),
                NewCustomer { name: Some("Acme".into()), ..Default::default() },
            )
            .await
            .unwrap();
        assert_eq!(c.status, "potential");
    }

    #[tokio::test]
    async fn unknown_or_inactive_status_is_refused() {
        for status in ["vip", "rejected"] {
            let mut m = Mocks::new();
            m.statuses.expect_statuses().returning(|| Ok(catalog()));
            m.customers.expect_insert().never();
            let new = NewCustomer { name: Some("Acme".into()), status: Some(status.into()), ..Default::default() };
            let err = m.service().create_customer(&principal(&[Permission::CrmWrite]), new).await.unwrap_err();
            assert!(matches!(err, CrmError::Validation { ref fields, .. } if fields.contains_key("status")), "{err:?}");
        }
    }

    #[tokio::test]
    async fn reading_is_not_writing() {
        let mut m = Mocks::new();
        m.customers.expect_insert().never();
        let err = m
            .service()
            .create_customer(
                &principal(&[Permission::CrmRead]),
                NewCustomer { name: Some("A".into()), ..Default::default() },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, CrmError::Forbidden(_)));
    }

    #[tokio::test]
    async fn deleting_a_missing_customer_is_not_found() {
        let mut m = Mocks::new();
        m.customers.expect_soft_delete().returning(|_, _| Ok(false));
        let err = m.service().delete_customer(&principal(&[Permission::CrmDelete]), 9).await.unwrap_err();
        assert_eq!(err, CrmError::NotFound("Customer 9 not found.".into()));
    }
}
