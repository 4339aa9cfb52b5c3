//! The CRM use cases, one file per aggregate; every call checks the caller's permission.

mod activities;
mod analytics;
mod customers;
mod deals;

use crate::activity::Activities;
use crate::deal::Deals;
use crate::ports::{AnalyticsRepository, CustomerRepository, StatusCatalog};
use crate::records::Store;
use std::sync::Arc;

/// The ports the CRM use cases need.
#[derive(Clone)]
pub struct CrmPorts {
    pub customers: Arc<dyn CustomerRepository>,
    pub deals: Arc<dyn Store<Deals>>,
    pub activities: Arc<dyn Store<Activities>>,
    pub analytics: Arc<dyn AnalyticsRepository>,
    pub statuses: Arc<dyn StatusCatalog>,
}

/// CRM use cases shared by every surface.
pub struct CrmService {
    ports: CrmPorts,
}

impl CrmService {
    pub fn new(ports: CrmPorts) -> Self {
        CrmService { ports }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::ports::*;
    use management_core::{Permission, Principal};

    pub struct Mocks {
        pub customers: MockCustomerRepository,
        pub deals: crate::records::MockStore<Deals>,
        pub activities: crate::records::MockStore<Activities>,
        pub analytics: MockAnalyticsRepository,
        pub statuses: MockStatusCatalog,
    }

    impl Mocks {
        pub fn new() -> Self {
            Mocks {
                customers: MockCustomerRepository::new(),
                deals: crate::records::MockStore::new(),
                activities: crate::records::MockStore::new(),
                analytics: MockAnalyticsRepository::new(),
                statuses: MockStatusCatalog::new(),
            }
        }

        pub fn service(self) -> CrmService {
            CrmService::new(CrmPorts {
                customers: Arc::new(self.customers),
                deals: Arc::new(self.deals),
                activities: Arc::new(self.activities),
                analytics: Arc::new(self.analytics),
                statuses: Arc::new(self.statuses),
            })
        }
    }

    pub fn principal(permissions: &[Permission]) -> Principal {
        Principal {
            user_id: 5,
            role: "member".into(),
            permissions: permissions.to_vec(),
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        }
    }

    pub fn catalog() -> Vec<StatusEntry> {
        use management_core::catalog::StatusGroup;
        [
            ("active", StatusGroup::Active),
            ("potential", StatusGroup::Potential),
            ("waiting", StatusGroup::Waiting),
            ("contacted", StatusGroup::Waiting),
            ("rejected", StatusGroup::Waiting),
        ]
        .into_iter()
        .map(|(n, group)| StatusEntry { name: n.to_string(), is_active: n != "rejected", group })
        .collect()
    }
}
