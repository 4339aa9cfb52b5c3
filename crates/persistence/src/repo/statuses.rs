//! The customer-status catalog over sea-orm.

use crate::entity::customer_statuses;
use crate::error::crm;
use async_trait::async_trait;
use crm_core::Result;
use crm_core::ports::{StatusCatalog, StatusEntry};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

/// [`StatusCatalog`] over `customer_statuses`.
#[derive(Clone)]
pub struct SqlStatuses {
    db: DatabaseConnection,
}

impl SqlStatuses {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlStatuses { db }
    }
}

#[async_trait]
impl StatusCatalog for SqlStatuses {
    async fn statuses(&self) -> Result<Vec<StatusEntry>> {
        let rows = customer_statuses::Entity::find()
            .order_by_asc(customer_statuses::Column::SortOrder)
            .order_by_asc(customer_statuses::Column::Id)
            .all(&self.db)
            .await
            .map_err(crm)?;
        Ok(rows.into_iter().map(|r| StatusEntry { name: r.name, is_active: r.is_active }).collect())
    }
}
