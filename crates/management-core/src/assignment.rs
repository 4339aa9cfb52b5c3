//! Sales managers and the customers (leads) assigned to them.

use crate::error::{ManagementError, Result};
use crate::permission::Permission;
use crate::ports::SalesManagerRepository;
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The role whose active holders receive leads.
pub const SALES_MANAGER: &str = "sales_manager";

/// A sales manager with the number of customers currently assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesManager {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub surname: String,
    pub assigned_leads_count: u64,
}

/// One assignment of a customer to a sales manager (history is kept; one is active).
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub id: i64,
    pub customer_id: i64,
    pub sales_manager_id: i64,
    pub assigned_at: DateTime<Utc>,
    /// The user who assigned by hand; `None` for the automatic rotation.
    pub assigned_by: Option<i64>,
    pub is_active: bool,
}

/// A customer's current sales manager.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentManager {
    pub assignment: Assignment,
    pub manager: SalesManager,
}

/// What a manual assignment did.
#[derive(Debug, Clone, PartialEq)]
pub enum AssignOutcome {
    Assigned(Assignment),
    CustomerNotFound,
    /// The user is missing, inactive, or not a sales manager.
    ManagerNotFound,
}

/// The round-robin rule: after `last`, the next manager by id among `active` (sorted
/// ascending), wrapping around; managers added or removed simply join or leave the circle.
pub fn next_in_rotation(active: &[i64], last: Option<i64>) -> Option<i64> {
    let first = *active.first()?;
    Some(match last {
        Some(last) => active.iter().copied().find(|id| *id > last).unwrap_or(first),
        None => first,
    })
}

/// Sales-manager use cases.
pub struct AssignmentService {
    repo: Arc<dyn SalesManagerRepository>,
}

impl AssignmentService {
    pub fn new(repo: Arc<dyn SalesManagerRepository>) -> Self {
        AssignmentService { repo }
    }

    /// Active sales managers with their current lead counts.
    pub async fn sales_managers(&self, by: &Principal) -> Result<Vec<SalesManager>> {
        by.require(Permission::CrmRead)?;
        self.repo.sales_managers().await
    }

    /// Assigns or reassigns a customer by hand; the previous assignment stays in the history.
    pub async fn assign(&self, by: &Principal, customer_id: i64, sales_manager_id: i64) -> Result<Assignment> {
        by.require(Permission::AssignmentsManage)?;
        match self.repo.assign(customer_id, sales_manager_id, by.user_id).await? {
            AssignOutcome::Assigned(a) => Ok(a),
            AssignOutcome::CustomerNotFound => {
                Err(ManagementError::NotFound(format!("Customer {customer_id} not found")))
            }
            AssignOutcome::ManagerNotFound => {
                Err(ManagementError::NotFound(format!("User {sales_manager_id} is not an active sales manager")))
            }
        }
    }

    /// The customer's current sales manager.
    pub async fn current(&self, by: &Principal, customer_id: i64) -> Result<CurrentManager> {
        by.require(Permission::CrmRead)?;
        self.repo
            .current(customer_id)
            .await?
            .ok_or_else(|| ManagementError::NotFound(format!("Customer {customer_id} has no sales manager")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_follows_ids_and_survives_changes() {
        assert_eq!(next_in_rotation(&[], Some(3)), None);
        assert_eq!(next_in_rotation(&[2, 5, 9], None), Some(2));
        assert_eq!(next_in_rotation(&[2, 5, 9], Some(2)), Some(5));
        assert_eq!(next_in_rotation(&[2, 5, 9], Some(9)), Some(2));
        // 5 was deactivated after being last: the circle goes on with 9.
        assert_eq!(next_in_rotation(&[2, 9], Some(5)), Some(9));
        // A new manager (12) joins after 9's turn.
        assert_eq!(next_in_rotation(&[2, 5, 9, 12], Some(9)), Some(12));
    }

    #[tokio::test]
    async fn manual_assignment_needs_the_permission_and_reports_missing_parties() {
        use crate::ports::MockSalesManagerRepository;
        let mut repo = MockSalesManagerRepository::new();
        repo.expect_assign().returning(|_, _, _| Ok(AssignOutcome::ManagerNotFound));
        let svc = AssignmentService::new(Arc::new(repo));
        let p = |perms: &[Permission]| Principal {
            user_id: 1,
            role: "x".into(),
            permissions: perms.to_vec(),
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        };
        assert!(matches!(svc.assign(&p(&[Permission::CrmWrite]), 1, 2).await, Err(ManagementError::Forbidden(_))));
        assert!(matches!(
            svc.assign(&p(&[Permission::AssignmentsManage]), 1, 2).await,
            Err(ManagementError::NotFound(_))
        ));
    }
}
